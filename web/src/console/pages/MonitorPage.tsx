import { type ReactNode, useMemo, useState } from 'react';
import { Empty, ErrorBox, Loading } from '../../components/States.tsx';
import { Pager } from '../../components/Pager.tsx';
import { Link } from '../../router.tsx';
import { useAsync } from '../../use-async.ts';
import { Chart, type ChartSeries } from '../Chart.tsx';
import { consoleGet, formatLocalTime, formatUsd } from '../console-api.ts';
import type { ConsolePageProps } from '../console-pages.tsx';
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
const usd = (v: number) => formatUsd(v);
const percent = (rate: number | null) => (rate === null ? '—' : `${Math.round(rate * 100)}%`);
const seconds = (s: number | null) => (s === null ? '—' : s < 90 ? `${Math.round(s)} s` : `${(s / 60).toFixed(1)} min`);

function TotalsCards({ title, totals }: { title: string; totals: Totals }) {
  const items: [string, string, string?][] = [
    ['Sold', String(totals.sold), `${usd(totals.charged)} charged`],
    ['Refunded', String(totals.refunded), usd(totals.refunded_amount)],
    ['Revenue', usd(totals.revenue)],
    ['Supply cost', usd(totals.supply_cost)],
    ['Margin', usd(totals.margin), totals.revenue > 0 ? `${Math.round((totals.margin / totals.revenue) * 100)}% of revenue` : undefined],
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
        <span className={`bar${rate !== null && rate < 0.7 ? ' bar-bad' : ''}`} style={{ width: `${Math.round((rate ?? 0) * 100)}%` }} />
      </span>
      <span className="rate-value">{percent(rate)}</span>
    </span>
  );
}

function BreakdownTable<T extends BreakdownFigures>({ label, rows, head, cells }: { label: string; rows: T[]; head: string[]; cells(row: T): ReactNode[] }) {
  if (rows.length === 0) return <p className="muted">No sales in this period.</p>;
  return (
    <div className="table-wrap">
      <table className="table compact" aria-label={label}>
        <thead>
          <tr>
            {head.map((h) => (
              <th key={h} scope="col">
                {h}
              </th>
            ))}
            <th scope="col" className="num">Sold</th>
            <th scope="col">Delivery rate</th>
            <th scope="col" className="num">Median to code</th>
            <th scope="col" className="num">Revenue</th>
            <th scope="col" className="num">Supply cost</th>
            <th scope="col" className="num">Margin</th>
          </tr>
        </thead>
        <tbody>
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
              <td className="num">{seconds(row.median_seconds_to_code)}</td>
              <td className="num">{usd(row.revenue)}</td>
              <td className="num">{usd(row.supply_cost)}</td>
              <td className={`num${row.margin < 0 ? ' neg' : ''}`}>{usd(row.margin)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
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
            { label: 'Revenue', values: data.daily.map((d) => d.revenue), color: '#4f46e5', format: usd },
            { label: 'Supply cost', values: data.daily.map((d) => d.supply_cost), color: '#8a5a00', format: usd },
            { label: 'Margin', values: data.daily.map((d) => d.margin), color: '#0f7b4f', format: usd },
          ]
        : [],
    [data],
  );
  if (summary.loading && !data) return <Loading what="today's figures" />;
  if (summary.error || !data) return <ErrorBox message={`We could not load the totals: ${summary.error}`} onRetry={summary.reload} />;
  return (
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
        <label className="field inline">
          <span>Period</span>
          <select value={days} onChange={(e) => setDays(Number(e.target.value))}>
            <option value={1}>Today</option>
            <option value={7}>Last 7 days</option>
            <option value={30}>Last 30 days</option>
            <option value={90}>Last 90 days</option>
          </select>
        </label>
      </div>
      {breakdown.loading && !breakdown.data ? (
        <Loading what="the breakdown" />
      ) : breakdown.error || !breakdown.data ? (
        <ErrorBox message={`We could not load the breakdown: ${breakdown.error}`} onRetry={breakdown.reload} />
      ) : (
        <>
          <h3>Per service and country</h3>
          <BreakdownTable
            label="Per service and country"
            rows={breakdown.data.by_service_country}
            head={['Service', 'Country']}
            cells={(r) => [<strong key="s">{r.service}</strong>, `#${r.country_id}`]}
          />
          <h3 className="section-gap">Per provider</h3>
          <BreakdownTable
            label="Per provider"
            rows={breakdown.data.by_provider}
            head={['Provider']}
            cells={(r) => [
              <span key="p">
                {r.provider.name} <span className="muted small">({r.provider.kind})</span>
              </span>,
            ]}
          />
        </>
      )}
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
const pageSize = 50;

function ActivationsSection() {
  const [filters, setFilters] = useState<Filters>(noFilters);
  const [offset, setOffset] = useState(0);
  const providers = useAsync(() => consoleGet<{ providers: { id: number; name: string }[] }>('/supply/providers'), []);
  const list = useAsync(() => consoleGet<{ activations: MonitorActivation[]; total: number }>('/monitor/activations', { ...filters, limit: pageSize, offset }), [filters, offset]);
  const set = (key: keyof Filters) => (value: string) => {
    setFilters((f) => ({ ...f, [key]: value }));
    setOffset(0);
  };
  const digits = (value: string) => value.replace(/\D/g, '');

  return (
    <section className="card section-gap" aria-labelledby="activations-title">
      <div className="card-head">
        <h2 id="activations-title">Activations</h2>
        <button type="button" className="btn btn-small btn-ghost" onClick={() => setFilters(noFilters)}>
          Clear filters
        </button>
      </div>
      <div className="filters" role="search" aria-label="Filter activations">
        <label className="field">
          <span>Status</span>
          <select value={filters.status} onChange={(e) => set('status')(e.target.value)}>
            <option value="">Any status</option>
            {statuses.map((s) => (
              <option key={s} value={s}>
                {s.replace('_', ' ')}
              </option>
            ))}
          </select>
        </label>
        <label className="field">
          <span>Service code</span>
          <input type="text" className="input-small" placeholder="tg" value={filters.service} onChange={(e) => set('service')(e.target.value.trim())} />
        </label>
        <label className="field">
          <span>Country id</span>
          <input type="text" inputMode="numeric" className="input-small" value={filters.country_id} onChange={(e) => set('country_id')(digits(e.target.value))} />
        </label>
        <label className="field">
          <span>Provider</span>
          <select value={filters.provider_id} onChange={(e) => set('provider_id')(e.target.value)}>
            <option value="">Any provider</option>
            {(providers.data?.providers ?? []).map((p) => (
              <option key={p.id} value={p.id}>
                {p.name}
              </option>
            ))}
          </select>
        </label>
        <label className="field">
          <span>Company id</span>
          <input type="text" inputMode="numeric" className="input-small" value={filters.company_id} onChange={(e) => set('company_id')(digits(e.target.value))} />
        </label>
        <label className="field">
          <span>From (UTC day)</span>
          <input type="date" value={filters.from} onChange={(e) => set('from')(e.target.value)} />
        </label>
        <label className="field">
          <span>To (UTC day)</span>
          <input type="date" value={filters.to} onChange={(e) => set('to')(e.target.value)} />
        </label>
      </div>
      {list.loading && !list.data ? (
        <Loading what="activations" />
      ) : list.error || !list.data ? (
        <ErrorBox message={`We could not load the activations: ${list.error}`} onRetry={list.reload} />
      ) : list.data.activations.length === 0 ? (
        <Empty title="No activations match these filters." />
      ) : (
        <>
          <div className="table-wrap">
            <table className="table compact" aria-label="Activations">
              <thead>
                <tr>
                  <th scope="col">Id</th>
                  <th scope="col">Bought</th>
                  <th scope="col">Company</th>
                  <th scope="col">Service</th>
                  <th scope="col">Number</th>
                  <th scope="col">Provider</th>
                  <th scope="col">Status</th>
                  <th scope="col">Code</th>
                  <th scope="col" className="num">Price</th>
                  <th scope="col" className="num">Cost</th>
                </tr>
              </thead>
              <tbody>
                {list.data.activations.map((a) => (
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
                    <td className="num">{usd(a.price)}</td>
                    <td className="num">{a.supply_cost === null ? '—' : usd(a.supply_cost)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <Pager label="Activations pages" offset={offset} limit={pageSize} shown={list.data.activations.length} total={list.data.total} onOffset={setOffset} />
        </>
      )}
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
