import { type ReactNode, useMemo, useState } from 'react';
import { Empty } from '../../components/States.tsx';
import { Link } from '../../router.tsx';
import { useAsync } from '../../use-async.ts';
import { Chart, type ChartSeries } from '../Chart.tsx';
import { AsyncContent } from '../components/AsyncContent.tsx';
import { DataTable, numeric, PagedTable } from '../components/DataTable.tsx';
import { Field } from '../components/Field.tsx';
import { FilterBar } from '../components/FilterBar.tsx';
import { PeriodSelect } from '../components/PeriodSelect.tsx';
import { consoleGet, formatLocalTime, formatUsd } from '../console-api.ts';
import type { ConsolePageProps } from '../console-pages.tsx';
import { formatOptionalUsd, formatRate, formatSeconds, isPoorDelivery } from '../figures.ts';
import { usePagedList } from '../use-paged-list.ts';
import { ProviderSelect } from './supply/ProviderSelect.tsx';
import './operations.css';

// ---- Shapes of /api/console/monitor/* (docs/console-api.md, "Activations monitor") ----

interface Totals {
  from: string;
  to: string;
  sold: number;
  charged: number;
  refunded: number;
  refunded_amount: number;
  revenue: number;
  supply_cost: number;
  margin: number;
}

interface Summary {
  generated_at: string;
  today: Totals;
  last_30_days: Totals;
  daily: { day: string; sold: number; refunded: number; revenue: number; supply_cost: number; margin: number }[];
}

interface BreakdownFigures {
  activations: number;
  delivered: number;
  delivery_rate: number | null;
  median_seconds_to_code: number | null;
  revenue: number;
  supply_cost: number;
  margin: number;
}

interface Breakdown {
  from: string;
  to: string;
  by_service_country: (BreakdownFigures & { service: string; country_id: number })[];
  by_provider: (BreakdownFigures & { provider: { id: number; name: string; kind: string } })[];
}

interface MonitorActivation {
  id: number;
  company: { id: number; name: string };
  account_id: number;
  service: string;
  country_id: number;
  operator: string;
  number: string;
  provider: { id: number; name: string; kind: string } | null;
  price: number;
  supply_cost: number | null;
  status: string;
  code: string | null;
  created_at: string;
  sms_received_at: string | null;
  first_code_at: string | null;
  finished_at: string | null;
}

const statuses = ['waiting', 'sms_received', 'completed', 'cancelled', 'expired'] as const;

function TotalsCards({ title, totals }: { title: string; totals: Totals }) {
  const items: [string, string, string?][] = [
    ['Sold', String(totals.sold), `${formatUsd(totals.charged)} charged`],
    ['Refunded', String(totals.refunded), formatUsd(totals.refunded_amount)],
    ['Revenue', formatUsd(totals.revenue)],
    ['Supply cost', formatUsd(totals.supply_cost)],
    ['Margin', formatUsd(totals.margin), totals.revenue > 0 ? `${Math.round((totals.margin / totals.revenue) * 100)}% of revenue` : undefined],
  ];
  return (
    <section aria-label={title} className="section-gap">
      <h2>
        {title}{' '}
        <span className="muted small">
          {totals.from === totals.to ? totals.from : `${totals.from} – ${totals.to}`} (UTC)
        </span>
      </h2>
      <div className="stat-grid">
        {items.map(([label, value, note]) => (
          <div key={label} className="stat" data-testid={`${title === 'Today' ? 'today' : 'last30'}-${label.toLowerCase().replace(' ', '-')}`}>
            <div className="stat-label">{label}</div>
            <div className={`stat-value${label === 'Margin' && totals.margin < 0 ? ' neg' : ''}`}>{value}</div>
            {note && <div className="stat-delta">{note}</div>}
          </div>
        ))}
      </div>
    </section>
  );
}

function RateBar({ rate }: { rate: number | null }) {
  return (
    <span className="rate-cell">
      <span className="bar-track" aria-hidden="true">
        <span className={`bar${isPoorDelivery(rate) ? ' bar-bad' : ''}`} style={{ width: `${Math.round((rate ?? 0) * 100)}%` }} />
      </span>
      <span className="rate-value">{formatRate(rate)}</span>
    </span>
  );
}

function BreakdownTable<T extends BreakdownFigures>({ label, rows, head, cells }: { label: string; rows: T[]; head: string[]; cells(row: T): ReactNode[] }) {
  if (rows.length === 0) return <p className="muted">No sales in this period.</p>;
  const columns = [...head, numeric('Sold'), 'Delivery rate', numeric('Median to code'), numeric('Revenue'), numeric('Supply cost'), numeric('Margin')];
  return (
    <DataTable label={label} columns={columns} compact>
      {rows.map((row, i) => (
        <tr key={i}>
          {cells(row).map((cell, j) => (
            <td key={j}>{cell}</td>
          ))}
          <td className="num">
            {row.activations}
            <div className="small muted">{row.delivered} with code</div>
          </td>
          <td>
            <RateBar rate={row.delivery_rate} />
          </td>
          <td className="num">{formatSeconds(row.median_seconds_to_code)}</td>
          <td className="num">{formatUsd(row.revenue)}</td>
          <td className="num">{formatUsd(row.supply_cost)}</td>
          <td className={`num${row.margin < 0 ? ' neg' : ''}`}>{formatUsd(row.margin)}</td>
        </tr>
      ))}
    </DataTable>
  );
}

function SummarySection() {
  const summary = useAsync(() => consoleGet<Summary>('/monitor/summary'), []);
  const data = summary.data;
  const days = useMemo(() => data?.daily.map((d) => d.day) ?? [], [data]);
  const salesSeries = useMemo<ChartSeries[]>(
    () =>
      data
        ? [
            { label: 'Sold', values: data.daily.map((d) => d.sold), color: '#4f46e5' },
            { label: 'Refunded', values: data.daily.map((d) => d.refunded), color: '#b42318' },
          ]
        : [],
    [data],
  );
  const moneySeries = useMemo<ChartSeries[]>(
    () =>
      data
        ? [
            { label: 'Revenue', values: data.daily.map((d) => d.revenue), color: '#4f46e5', format: formatUsd },
            { label: 'Supply cost', values: data.daily.map((d) => d.supply_cost), color: '#8a5a00', format: formatUsd },
            { label: 'Margin', values: data.daily.map((d) => d.margin), color: '#0f7b4f', format: formatUsd },
          ]
        : [],
    [data],
  );
  return (
    <AsyncContent state={summary} what="today's figures" failure="We could not load the totals">
      {(data) => (
        <>
          <div className="row">
            <span className="muted small">As of {formatLocalTime(data.generated_at)}</span>
            <button type="button" className="btn btn-small btn-ghost" onClick={summary.reload}>
              Refresh totals
            </button>
          </div>
          <TotalsCards title="Today" totals={data.today} />
          <TotalsCards title="Last 30 days" totals={data.last_30_days} />
          <div className="chart-grid section-gap">
            <div className="card">
              <Chart title="Activations per day" days={days} series={salesSeries} />
            </div>
            <div className="card">
              <Chart title="Money per day (USD)" days={days} series={moneySeries} />
            </div>
          </div>
        </>
      )}
    </AsyncContent>
  );
}

function BreakdownSection() {
  const [days, setDays] = useState(30);
  const breakdown = useAsync(() => consoleGet<Breakdown>('/monitor/breakdown', { days }), [days]);
  return (
    <section className="card section-gap" aria-labelledby="breakdown-title">
      <div className="card-head">
        <div>
          <h2 id="breakdown-title">Delivery and margin</h2>
          {breakdown.data && (
            <p className="muted small">
              {breakdown.data.from} – {breakdown.data.to} (UTC)
            </p>
          )}
        </div>
        <PeriodSelect days={days} choices={[1, 7, 30, 90]} onDays={setDays} />
      </div>
      <AsyncContent state={breakdown} what="the breakdown" failure="We could not load the breakdown">
        {(data) => (
          <>
            <h3>Per service and country</h3>
            <BreakdownTable
              label="Per service and country"
              rows={data.by_service_country}
              head={['Service', 'Country']}
              cells={(r) => [<strong key="s">{r.service}</strong>, `#${r.country_id}`]}
            />
            <h3 className="section-gap">Per provider</h3>
            <BreakdownTable
              label="Per provider"
              rows={data.by_provider}
              head={['Provider']}
              cells={(r) => [
                <span key="p">
                  {r.provider.name} <span className="muted small">({r.provider.kind})</span>
                </span>,
              ]}
            />
          </>
        )}
      </AsyncContent>
    </section>
  );
}

interface Filters {
  status: string;
  service: string;
  country_id: string;
  provider_id: string;
  company_id: string;
  from: string;
  to: string;
}

const noFilters: Filters = { status: '', service: '', country_id: '', provider_id: '', company_id: '', from: '', to: '' };
const digits = (value: string) => value.replace(/\D/g, '');

function ActivationsSection() {
  const [filters, setFilters] = useState<Filters>(noFilters);
  const list = usePagedList<{ activations: MonitorActivation[]; total: number }>('/monitor/activations', { ...filters }, 50, [filters]);
  // A changed filter starts again at the first page.
  const set = (key: keyof Filters) => (value: string) => {
    setFilters((f) => ({ ...f, [key]: value }));
    list.paging.onOffset(0);
  };

  return (
    <section className="card section-gap" aria-labelledby="activations-title">
      <div className="card-head">
        <h2 id="activations-title">Activations</h2>
        <button type="button" className="btn btn-small btn-ghost" onClick={() => setFilters(noFilters)}>
          Clear filters
        </button>
      </div>
      <FilterBar label="Filter activations">
        <Field label="Status">
          <select value={filters.status} onChange={(e) => set('status')(e.target.value)}>
            <option value="">Any status</option>
            {statuses.map((s) => (
              <option key={s} value={s}>
                {s.replace('_', ' ')}
              </option>
            ))}
          </select>
        </Field>
        <Field label="Service code">
          <input type="text" className="input-small" placeholder="tg" value={filters.service} onChange={(e) => set('service')(e.target.value.trim())} />
        </Field>
        <Field label="Country id">
          <input type="text" inputMode="numeric" className="input-small" value={filters.country_id} onChange={(e) => set('country_id')(digits(e.target.value))} />
        </Field>
        <ProviderSelect value={filters.provider_id} anyLabel="Any provider" onChange={set('provider_id')} />
        <Field label="Company id">
          <input type="text" inputMode="numeric" className="input-small" value={filters.company_id} onChange={(e) => set('company_id')(digits(e.target.value))} />
        </Field>
        <Field label="From (UTC day)">
          <input type="date" value={filters.from} onChange={(e) => set('from')(e.target.value)} />
        </Field>
        <Field label="To (UTC day)">
          <input type="date" value={filters.to} onChange={(e) => set('to')(e.target.value)} />
        </Field>
      </FilterBar>
      <AsyncContent
        state={list}
        what="activations"
        failure="We could not load the activations"
        isEmpty={(data) => data.activations.length === 0}
        empty={<Empty title="No activations match these filters." />}
      >
        {(data) => (
          <PagedTable
            label="Activations"
            columns={['Id', 'Bought', 'Company', 'Service', 'Number', 'Provider', 'Status', 'Code', numeric('Price'), numeric('Cost')]}
            compact
            rows={data.activations}
            total={data.total}
            paging={list.paging}
            pagerLabel="Activations pages"
          >
            {(a) => (
              <tr key={a.id}>
                <td>{a.id}</td>
                <td>{formatLocalTime(a.created_at)}</td>
                <td>
                  <Link to={`/console/customers/${a.company.id}`}>{a.company.name}</Link>
                </td>
                <td>
                  {a.service} <span className="muted small">#{a.country_id}</span>
                </td>
                <td className="mono">{a.number}</td>
                <td>{a.provider?.name ?? '—'}</td>
                <td>
                  <span className={`badge status-${a.status}`}>{a.status.replace('_', ' ')}</span>
                </td>
                <td className="mono">{a.code ?? '—'}</td>
                <td className="num">{formatUsd(a.price)}</td>
                <td className="num">{formatOptionalUsd(a.supply_cost)}</td>
              </tr>
            )}
          </PagedTable>
        )}
      </AsyncContent>
    </section>
  );
}

/** Activations monitor: what sold today and in 30 days, what it cost, and which supply delivers. */
export function MonitorPage(_props: ConsolePageProps) {
  return (
    <section className="page ops-page">
      <div className="page-head">
        <div>
          <h1>Activations monitor</h1>
          <p className="muted">Sales, refunds, supply cost and margin; delivery rate and time to code per service, country and provider.</p>
        </div>
      </div>
      <SummarySection />
      <BreakdownSection />
      <ActivationsSection />
    </section>
  );
}
