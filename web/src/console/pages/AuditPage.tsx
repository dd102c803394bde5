import { type FormEvent, useEffect, useState } from 'react';
import { Empty, ErrorBox } from '../../components/States.tsx';
import { navigate, useLocation } from '../../router.tsx';
import { useAsync } from '../../use-async.ts';
import { AsyncContent } from '../components/AsyncContent.tsx';
import { DataTable } from '../components/DataTable.tsx';
import { Field } from '../components/Field.tsx';
import { type AuditEntry, consoleGet, errorMessage, formatLocalTime, queryString, type StaffMember } from '../console-api.ts';
import type { ConsolePageProps } from '../console-pages.tsx';

const filterNames = ['action', 'target_type', 'target_id', 'staff_id', 'from', 'to'] as const;
type Filters = Record<(typeof filterNames)[number], string>;

// The actions the modules write (docs/console-api.md), offered as suggestions; any text is accepted.
const knownActions = [
  'staff.create',
  'balance.adjust',
  'company.block',
  'company.unblock',
  'api_key.rotate',
  'service.create',
  'service.update',
  'country.create',
  'country.update',
  'operator.create',
  'operator.update',
  'price.set',
  'price.remove',
  'price.auto',
  'pricing_rule.set',
  'provider.create',
  'provider.update',
  'numbers.import',
  'number.retire',
  'sms.attach',
  'support.assign',
  'support.close',
  'support.reopen',
];

function show(value: unknown): string {
  if (value === undefined) return '—';
  if (value === null) return 'null';
  if (typeof value === 'string') return value;
  return JSON.stringify(value);
}

/** before → after, one line per field that changed (every field when one side is empty). */
export function ChangeList({ before, after }: { before: unknown; after: unknown }) {
  const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
  if (!isObject(before) && !isObject(after)) {
    if (before == null && after == null) return <span className="muted">—</span>;
    return (
      <span className="mono small">
        {show(before)} → {show(after)}
      </span>
    );
  }
  const b = isObject(before) ? before : {};
  const a = isObject(after) ? after : {};
  const keys = [...new Set([...Object.keys(b), ...Object.keys(a)])];
  const changed = keys.filter((key) => JSON.stringify(b[key]) !== JSON.stringify(a[key]));
  return (
    <ul className="plain-list mono small change-list">
      {(changed.length ? changed : keys).map((key) => (
        <li key={key}>
          {key}: {key in b ? show(b[key]) : '—'} → {key in a ? show(a[key]) : '—'}
        </li>
      ))}
    </ul>
  );
}

function filtersFrom(search: URLSearchParams): Filters {
  const filters = {} as Filters;
  for (const name of filterNames) filters[name] = search.get(name) ?? '';
  return filters;
}

export function AuditPage(_props: ConsolePageProps) {
  const { search } = useLocation();
  const applied = filtersFrom(search);
  const highlight = Number(search.get('highlight')) || null;
  const [draft, setDraft] = useState<Filters>(applied);
  const [older, setOlder] = useState<{ entries: AuditEntry[]; next: number | null } | null>(null);
  const [moreError, setMoreError] = useState<string | null>(null);
  const key = queryString(applied);
  const staff = useAsync(() => consoleGet<{ staff: StaffMember[] }>('/staff'), []);
  const page = useAsync(() => consoleGet<{ entries: AuditEntry[]; next_before_id: number | null }>('/audit', { ...applied, limit: 50 }), [key]);

  useEffect(() => {
    setDraft(filtersFrom(new URLSearchParams(key)));
    setOlder(null);
  }, [key]);

  const apply = (event: FormEvent) => {
    event.preventDefault();
    navigate(`/console/audit${queryString({ ...draft, highlight: highlight ?? undefined })}`, { replace: true });
  };
  const clear = () => navigate('/console/audit', { replace: true });

  const entries = [...(page.data?.entries ?? []), ...(older?.entries ?? [])];
  const next = older ? older.next : (page.data?.next_before_id ?? null);
  const loadOlder = async () => {
    if (!next) return;
    setMoreError(null);
    try {
      const more = await consoleGet<{ entries: AuditEntry[]; next_before_id: number | null }>('/audit', { ...applied, limit: 50, before_id: next });
      setOlder({ entries: [...(older?.entries ?? []), ...more.entries], next: more.next_before_id });
    } catch (e) {
      setMoreError(errorMessage(e));
    }
  };
  const set = (name: keyof Filters) => (e: { target: { value: string } }) => setDraft((d) => ({ ...d, [name]: e.target.value }));

  return (
    <div className="page">
      <div>
        <h1>Audit log</h1>
        <p className="muted">Every staff and CLI change to money, prices, stock, providers, customers and staff: who, what, before → after, when.</p>
      </div>
      <section className="card">
        <form className="filters" onSubmit={apply} aria-label="Filter the audit log">
          <Field label="Action">
            <input type="text" list="audit-actions" value={draft.action} onChange={set('action')} placeholder="price.set" />
            <datalist id="audit-actions">
              {knownActions.map((a) => (
                <option key={a} value={a} />
              ))}
            </datalist>
          </Field>
          <Field label="Target type">
            <input type="text" value={draft.target_type} onChange={set('target_type')} placeholder="company" />
          </Field>
          <Field label="Target ID">
            <input type="text" value={draft.target_id} onChange={set('target_id')} />
          </Field>
          <Field label="Staff member">
            <select value={draft.staff_id} onChange={set('staff_id')}>
              <option value="">Anyone</option>
              {staff.data?.staff.map((s) => (
                <option key={s.id} value={String(s.id)}>
                  {s.email}
                </option>
              ))}
            </select>
          </Field>
          <Field label="From (UTC date)">
            <input type="date" value={draft.from} onChange={set('from')} />
          </Field>
          <Field label="To (UTC date)">
            <input type="date" value={draft.to} onChange={set('to')} />
          </Field>
          <button type="submit" className="btn btn-primary">
            Filter
          </button>
          <button type="button" className="btn" onClick={clear}>
            Clear filters
          </button>
        </form>
        <AsyncContent
          state={page}
          what="the audit log"
          isEmpty={() => entries.length === 0}
          empty={<Empty title="No audit entries match these filters." />}
        >
          {() => (
            <>
              <DataTable label="Audit entries" columns={['When', 'Who', 'Action', 'Target', 'Before → after', 'Reason']}>
                {entries.map((entry) => (
                  <tr key={entry.id} className={entry.id === highlight ? 'is-highlighted' : undefined} data-audit-id={entry.id}>
                    <td className="nowrap" title={`${entry.created_at} UTC`}>
                      {formatLocalTime(entry.created_at)}
                    </td>
                    <td>{entry.actor.replace(/^staff:/, '')}</td>
                    <td>
                      <code>{entry.action}</code>
                    </td>
                    <td className="nowrap">
                      {entry.target_type} {entry.target_id}
                    </td>
                    <td>
                      <ChangeList before={entry.before} after={entry.after} />
                    </td>
                    <td>{entry.reason ?? ''}</td>
                  </tr>
                ))}
              </DataTable>
              {moreError && <ErrorBox message={moreError} />}
              {next && (
                <button type="button" className="btn btn-small" onClick={loadOlder}>
                  Show older entries
                </button>
              )}
            </>
          )}
        </AsyncContent>
      </section>
    </div>
  );
}
