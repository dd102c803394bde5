import { useAsync } from '../../../use-async.ts';
import { Field } from '../../components/Field.tsx';
import { loadProviders } from '../../supply-api.ts';

/** A "Provider" filter: every supply provider by name, or `anyLabel` for all of them. It loads the list itself. */
export function ProviderSelect({ value, anyLabel, onChange }: { value: string; anyLabel: string; onChange(value: string): void }) {
  const providers = useAsync(loadProviders, []);
  return (
    <Field label="Provider">
      <select value={value} onChange={(e) => onChange(e.target.value)}>
        <option value="">{anyLabel}</option>
        {(providers.data?.providers ?? []).map((p) => (
          <option key={p.id} value={p.id}>
            {p.name}
          </option>
        ))}
      </select>
    </Field>
  );
}
