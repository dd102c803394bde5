import { type FormEvent, useEffect, useState } from 'react';
import { navigate } from '../../router.tsx';
import { queryString } from '../console-api.ts';
import { Field } from './Field.tsx';

/** The customer search box: submitting opens /console/customers?q=… (in place when already there, `replace`). */
export function CustomerSearchForm({ label, query = '', replace = false }: { label: string; query?: string; replace?: boolean }) {
  const [draft, setDraft] = useState(query);
  useEffect(() => setDraft(query), [query]);
  const submit = (event: FormEvent) => {
    event.preventDefault();
    navigate(`/console/customers${queryString({ q: draft.trim() })}`, { replace });
  };
  return (
    <form className="inline-form" role="search" onSubmit={submit}>
      <Field label={label} grow>
        <input
          type="search"
          value={draft}
          maxLength={200}
          onChange={(e) => setDraft(e.target.value)}
          placeholder="email, phone number, activation id or company name"
        />
      </Field>
      <button type="submit" className="btn btn-primary">
        Search
      </button>
    </form>
  );
}
