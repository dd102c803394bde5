import { Link } from '../../router.tsx';
import { useAsync } from '../../use-async.ts';
import { CustomerSearchForm } from '../components/CustomerSearchForm.tsx';
import { consoleGet, formatUsd } from '../console-api.ts';
import { type ConsolePageProps, consolePages } from '../console-pages.tsx';
import { useStaff } from '../console-session.tsx';

const descriptions: Record<string, string> = {
  '/console/catalog': 'Services, countries, operators; prices, margins and markup rules; catalog import.',
  '/console/customers': 'Find a company by email, phone number, activation id or name; balances, blocks, keys.',
  '/console/support': 'Live conversations from the "Chat with us" widget.',
  '/console/monitor': 'What sold, what it cost, delivery rates by service, country and provider.',
  '/console/supply': 'Providers and their health, numbers, incoming SMS.',
  '/console/feedback': 'Ratings over time and comments from customers.',
  '/console/audit': 'Who changed what, before → after, and when.',
  '/console/staff': 'Staff accounts and their roles.',
};

interface Totals {
  sold: number;
  refunded: number;
  revenue: number;
  supply_cost: number;
  margin: number;
}

/** Today's sales at a glance (admins; the monitor page has the rest). Left out when it cannot load. */
function TodayTotals() {
  const summary = useAsync(() => consoleGet<{ today: Totals; last_30_days: Totals }>('/monitor/summary'), []);
  if (!summary.data) return null;
  const { today } = summary.data;
  const stats: [string, string][] = [
    ['Sold today', String(today.sold)],
    ['Refunded', String(today.refunded)],
    ['Revenue', formatUsd(today.revenue)],
    ['Supply cost', formatUsd(today.supply_cost)],
    ['Margin', formatUsd(today.margin)],
  ];
  return (
    <section aria-labelledby="today-title">
      <h2 id="today-title">Today (UTC)</h2>
      <div className="stat-grid">
        {stats.map(([label, value]) => (
          <div className="stat" key={label}>
            <div className="stat-label">{label}</div>
            <div className="stat-value">{value}</div>
          </div>
        ))}
      </div>
    </section>
  );
}

export function HomePage(_props: ConsolePageProps) {
  const staff = useStaff();
  const pages = consolePages.filter((page) => page.nav && page.path !== '/console' && page.roles.includes(staff.role));
  return (
    <div className="page">
      <div>
        <h1>Nova Console</h1>
        <p className="muted">Signed in as {staff.email} ({staff.role}).</p>
      </div>
      {staff.role === 'admin' && <TodayTotals />}
      <section className="card">
        <CustomerSearchForm label="Find a customer" />
      </section>
      <nav className="link-grid" aria-label="Shortcuts">
        {pages.map((page) => (
          <Link key={page.path} to={page.path} className="card link-card">
            <strong>{page.nav}</strong>
            <span className="muted small">{descriptions[page.path] ?? page.title}</span>
          </Link>
        ))}
      </nav>
    </div>
  );
}
