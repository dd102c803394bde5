import { useState } from 'react';
import { Empty } from '../../../components/States.tsx';
import { useAsync } from '../../../use-async.ts';
import { AsyncContent } from '../../components/AsyncContent.tsx';
import { actionsColumn, DataTable, numeric, PagedTable } from '../../components/DataTable.tsx';
import { Field } from '../../components/Field.tsx';
import { FilterBar } from '../../components/FilterBar.tsx';
import { ReasonConfirmForm } from '../../components/ReasonConfirmForm.tsx';
import { consoleGet, consolePost, formatLocalTime, formatUsd } from '../../console-api.ts';
import { formatOptionalUsd } from '../../figures.ts';
import type { PhoneNumber, Rental, Sms } from '../../supply-api.ts';
import { usePagedList } from '../../use-paged-list.ts';
import { ProviderSelect } from './ProviderSelect.tsx';

function numberState(n: PhoneNumber): { label: string; className: string } {
  if (n.retired_at) return { label: 'retired', className: 'badge-muted' };
  if (!n.enabled) return { label: 'disabled', className: 'badge-danger' };
  if (n.busy_activation_id !== null || n.busy_rental_id !== null) return { label: 'busy', className: 'status-waiting' };
  return { label: 'free', className: 'badge-ok' };
}

/** One number: its facts, every sale of it with the SMS that came, and SMS that matched no sale. */
function NumberHistory({ numberId, onClose }: { numberId: number; onClose(): void }) {
  const history = useAsync(() => consoleGet<{ number: PhoneNumber; rentals: Rental[]; unmatched_sms: Sms[] }>(`/supply/numbers/${numberId}`), [numberId]);
  return (
    <section className="card" aria-labelledby="number-history-title">
      <div className="card-head">
        <h2 id="number-history-title">History of {history.data?.number.e164 ?? `number #${numberId}`}</h2>
        <button type="button" className="btn btn-small btn-ghost" onClick={onClose}>
          Close history
        </button>
      </div>
      <AsyncContent state={history} what="the history" failure="We could not load the history">
        {({ number, rentals, unmatched_sms: unmatched }) => (
          <>
            <dl className="facts">
              <dt>Provider</dt>
              <dd>
                {number.provider.name} ({number.provider.kind})
              </dd>
              <dt>Country · operator</dt>
              <dd>
                #{number.country_id} · {number.operator}
              </dd>
              <dt>State</dt>
              <dd>
                {numberState(number).label}
                {number.retired_at ? ` since ${formatLocalTime(number.retired_at)}` : ''}
                {number.consecutive_failures > 0 ? ` · ${number.consecutive_failures} failures in a row` : ''}
              </dd>
              <dt>Added</dt>
              <dd>{formatLocalTime(number.created_at)}</dd>
            </dl>
            <h3 className="section-gap">Sales</h3>
            {rentals.length === 0 ? (
              <p className="muted">Never sold.</p>
            ) : (
              <DataTable
                label="Sales of this number"
                columns={['Activation', 'Company', 'Service', 'Rented', 'Outcome', numeric('Price'), numeric('Cost'), 'SMS']}
                compact
              >
                {rentals.map((r) => (
                  <tr key={r.activation_id}>
                    <td>{r.activation_id}</td>
                    <td>{r.company ? r.company.name : '—'}</td>
                    <td>
                      {r.service} <span className="muted small">#{r.country_id}</span>
                    </td>
                    <td>{formatLocalTime(r.rented_at)}</td>
                    <td>
                      <span className={`badge status-${r.status}`}>{r.outcome ?? r.status}</span>
                    </td>
                    <td className="num">{formatUsd(r.price)}</td>
                    <td className="num">{formatOptionalUsd(r.supply_cost)}</td>
                    <td>
                      {r.sms.length === 0
                        ? '—'
                        : r.sms.map((s) => (
                            <div key={s.id} className="small">
                              <strong>{s.sender}</strong>: {s.text}
                            </div>
                          ))}
                    </td>
                  </tr>
                ))}
              </DataTable>
            )}
            {unmatched.length > 0 && (
              <>
                <h3 className="section-gap">SMS that matched no activation</h3>
                <ul className="plain-list">
                  {unmatched.map((s) => (
                    <li key={s.id} className="small">
                      {formatLocalTime(s.received_at)} · <strong>{s.sender}</strong>: {s.text}
                    </li>
                  ))}
                </ul>
              </>
            )}
          </>
        )}
      </AsyncContent>
    </section>
  );
}

function RetireButton({ number, onRetired }: { number: PhoneNumber; onRetired(): void }) {
  const [confirming, setConfirming] = useState(false);
  if (number.retired_at) return null;
  if (!confirming) {
    return (
      <button type="button" className="btn btn-small" aria-label={`Retire ${number.e164}`} onClick={() => setConfirming(true)}>
        Retire
      </button>
    );
  }
  return (
    <ReasonConfirmForm
      label={`Retire ${number.e164}`}
      question="Why retire it? (optional)"
      confirm="Yes, retire"
      confirming="Retiring…"
      cancel="Keep it"
      onCancel={() => setConfirming(false)}
      onConfirm={async (reason) => {
        await consolePost(`/supply/numbers/${number.id}/retire`, reason ? { reason } : {});
        setConfirming(false);
        onRetired();
      }}
    />
  );
}

/** Every number of our own providers, filtered and paged, with its history and the retire button. */
export function NumbersTab({ initialProvider }: { initialProvider: number | null }) {
  const [providerId, setProviderId] = useState<number | null>(initialProvider);
  const [q, setQ] = useState('');
  const [state, setState] = useState('active');
  const [historyOf, setHistoryOf] = useState<number | null>(null);
  const list = usePagedList<{ numbers: PhoneNumber[]; total: number }>(
    '/supply/numbers',
    { provider_id: providerId, q: q.trim(), state: state === 'all' ? '' : state },
    50,
    [providerId, q, state],
  );
  // A changed filter starts again at the first page.
  const refilter = (change: () => void) => {
    change();
    list.paging.onOffset(0);
  };

  return (
    <div className="stack">
      <section className="card" aria-labelledby="numbers-title">
        <h2 id="numbers-title">Numbers</h2>
        <FilterBar label="Filter numbers">
          <ProviderSelect value={providerId === null ? '' : String(providerId)} anyLabel="All providers" onChange={(v) => refilter(() => setProviderId(v ? Number(v) : null))} />
          <Field label="Number contains" grow>
            <input type="search" inputMode="tel" value={q} onChange={(e) => refilter(() => setQ(e.target.value))} />
          </Field>
          <Field label="State">
            <select value={state} onChange={(e) => refilter(() => setState(e.target.value))}>
              <option value="active">Active (not retired)</option>
              <option value="busy">Busy</option>
              <option value="disabled">Disabled</option>
              <option value="retired">Retired</option>
              <option value="all">All</option>
            </select>
          </Field>
        </FilterBar>
        <AsyncContent
          state={list}
          what="numbers"
          failure="We could not load the numbers"
          isEmpty={(data) => data.numbers.length === 0}
          empty={<Empty title="No numbers match." />}
        >
          {(data) => (
            <PagedTable
              label="Numbers"
              columns={['Number', 'Provider', 'Country · operator', 'State', 'Added', actionsColumn]}
              compact
              rows={data.numbers}
              total={data.total}
              paging={list.paging}
              pagerLabel="Numbers pages"
            >
              {(n) => {
                const s = numberState(n);
                return (
                  <tr key={n.id} data-number={n.e164}>
                    <th scope="row" className="mono">
                      {n.e164}
                    </th>
                    <td>{n.provider.name}</td>
                    <td>
                      #{n.country_id} · {n.operator}
                    </td>
                    <td>
                      <span className={`badge ${s.className}`}>{s.label}</span>
                      {n.busy_activation_id !== null && <span className="small muted"> activation {n.busy_activation_id}</span>}
                      {n.busy_rental_id !== null && <span className="small muted"> rental {n.busy_rental_id}</span>}
                      {n.rentable && (
                        <span className="badge badge-muted" title="Customers may rent this number by the hour">
                          rentable
                        </span>
                      )}
                    </td>
                    <td>{formatLocalTime(n.created_at)}</td>
                    <td>
                      <div className="row">
                        <button type="button" className="btn btn-small btn-ghost" aria-label={`History of ${n.e164}`} onClick={() => setHistoryOf(n.id)}>
                          History
                        </button>
                        <RetireButton number={n} onRetired={list.reload} />
                      </div>
                    </td>
                  </tr>
                );
              }}
            </PagedTable>
          )}
        </AsyncContent>
      </section>
      {historyOf !== null && <NumberHistory key={historyOf} numberId={historyOf} onClose={() => setHistoryOf(null)} />}
    </div>
  );
}
