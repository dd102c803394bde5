import { useState } from 'react';
import { Empty } from '../../../components/States.tsx';
import { Link } from '../../../router.tsx';
import { AsyncContent } from '../../components/AsyncContent.tsx';
import { PagedTable } from '../../components/DataTable.tsx';
import { Field } from '../../components/Field.tsx';
import { FilterBar } from '../../components/FilterBar.tsx';
import { formatLocalTime } from '../../console-api.ts';
import type { ProviderKind } from '../../supply-api.ts';
import { usePagedList } from '../../use-paged-list.ts';
import { ProviderSelect } from './ProviderSelect.tsx';

/** One row of GET /api/console/monitor/reports (docs/console-api.md, "Customer reports"). */
export interface NumberReport {
  id: number;
  created_at: string;
  company: { id: number; name: string };
  account_id: number;
  activation: { id: number; status: string };
  number: string;
  number_id: number;
  service: string;
  country_id: number;
  provider: { id: number; name: string; kind: ProviderKind } | null;
  reason: 'used' | 'blocked' | 'no_sms' | 'other';
  note: string | null;
  refunded: boolean;
}

const reasonLabels: Record<NumberReport['reason'], string> = {
  used: 'Already used',
  blocked: 'Blocked',
  no_sms: 'No SMS',
  other: 'Other',
};

/** Customers' reports of bad numbers, newest first: what they said, about which number and provider, and whether it refunded. */
export function ReportsTab() {
  const [providerId, setProviderId] = useState<number | null>(null);
  const [reason, setReason] = useState('');
  const list = usePagedList<{ reports: NumberReport[]; total: number }>('/monitor/reports', { provider_id: providerId, reason }, 50, [providerId, reason]);
  // A changed filter starts again at the first page.
  const refilter = (change: () => void) => {
    change();
    list.paging.onOffset(0);
  };

  return (
    <section className="card" aria-labelledby="reports-title">
      <h2 id="reports-title">Customer reports</h2>
      <p className="muted small">
        Numbers customers reported on a waiting activation. “Already used” and “Blocked” cancel it with a refund, unless the company reports more
        than its allowed share of purchases; the number is never sold again for that service.
      </p>
      <FilterBar label="Filter reports">
        <ProviderSelect value={providerId === null ? '' : String(providerId)} anyLabel="All providers" onChange={(v) => refilter(() => setProviderId(v ? Number(v) : null))} />
        <Field label="Reason">
          <select value={reason} onChange={(e) => refilter(() => setReason(e.target.value))}>
            <option value="">Any reason</option>
            {Object.entries(reasonLabels).map(([value, label]) => (
              <option key={value} value={value}>
                {label}
              </option>
            ))}
          </select>
        </Field>
      </FilterBar>
      <AsyncContent
        state={list}
        what="reports"
        failure="We could not load the reports"
        isEmpty={(data) => data.reports.length === 0}
        empty={<Empty title="No reports match." />}
      >
        {(data) => (
          <PagedTable
            label="Customer reports"
            columns={['Reported', 'Company', 'Activation', 'Number', 'Service', 'Provider', 'Reason', 'Refund']}
            compact
            rows={data.reports}
            total={data.total}
            paging={list.paging}
            pagerLabel="Reports pages"
          >
            {(r) => (
              <tr key={r.id} data-report-id={r.id}>
                <td>{formatLocalTime(r.created_at)}</td>
                <td>
                  <Link to={`/console/customers/${r.company.id}`}>{r.company.name}</Link>
                </td>
                <td>
                  {r.activation.id} <span className={`badge status-${r.activation.status}`}>{r.activation.status}</span>
                </td>
                <td className="mono">{r.number}</td>
                <td>
                  {r.service} <span className="muted small">#{r.country_id}</span>
                </td>
                <td>{r.provider ? r.provider.name : <span className="muted">—</span>}</td>
                <td>
                  {reasonLabels[r.reason]}
                  {r.note && <div className="small muted">{r.note}</div>}
                </td>
                <td>{r.refunded ? <span className="badge badge-ok">refunded</span> : <span className="muted">no</span>}</td>
              </tr>
            )}
          </PagedTable>
        )}
      </AsyncContent>
    </section>
  );
}
