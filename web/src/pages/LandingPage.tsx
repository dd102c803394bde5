import { useMemo, useState } from 'react';
import { api, formatUsd, type PriceRow } from '../api.ts';
import { Empty, ErrorBox, Loading } from '../components/States.tsx';
import { Link } from '../router.tsx';
import { useSession } from '../session.tsx';
import { useAsync } from '../use-async.ts';

export function PriceTable() {
  const prices = useAsync(() => api<{ prices: PriceRow[] }>('/api/web/prices'), []);
  const [query, setQuery] = useState('');
  const [service, setService] = useState('');
  const [inStockOnly, setInStockOnly] = useState(false);
  const rows = prices.data?.prices ?? [];
  const services = useMemo(() => [...new Map(rows.map((r) => [r.service, r.service_name])).entries()], [rows]);
  const q = query.trim().toLowerCase();
  const shown = rows.filter(
    (r) =>
      (!service || r.service === service) &&
      (!inStockOnly || r.in_stock) &&
      (!q ||
        r.service_name.toLowerCase().includes(q) ||
        r.service.toLowerCase().includes(q) ||
        r.country_name.toLowerCase().includes(q) ||
        r.country_iso.toLowerCase() === q ||
        String(r.country) === q),
  );

  return (
    <section className="card" aria-labelledby="prices-title" id="prices">
      <div className="card-head">
        <div>
          <h2 id="prices-title">Live prices</h2>
          <p className="muted">Price per number, in USD. You pay only for numbers you keep: cancel a waiting one for a full refund.</p>
        </div>
      </div>
      <div className="filters">
        <label className="field grow">
          <span>Search</span>
          <input type="search" placeholder="Service or country, e.g. Telegram or UK" value={query} onChange={(e) => setQuery(e.target.value)} />
        </label>
        <label className="field">
          <span>Service</span>
          <select value={service} onChange={(e) => setService(e.target.value)}>
            <option value="">All services</option>
            {services.map(([code, name]) => (
              <option key={code} value={code}>
                {name}
              </option>
            ))}
          </select>
        </label>
        <label className="check">
          <input type="checkbox" checked={inStockOnly} onChange={(e) => setInStockOnly(e.target.checked)} /> In stock only
        </label>
      </div>
      {prices.loading && !prices.data ? (
        <Loading what="prices" />
      ) : prices.error ? (
        <ErrorBox message={`We could not load the prices: ${prices.error}`} onRetry={prices.reload} />
      ) : shown.length === 0 ? (
        <Empty title={rows.length === 0 ? 'No prices published yet.' : 'Nothing matches your search.'}>
          {rows.length > 0 && (
            <button type="button" className="btn btn-small" onClick={() => { setQuery(''); setService(''); setInStockOnly(false); }}>
              Clear filters
            </button>
          )}
        </Empty>
      ) : (
        <div className="table-wrap">
          <table className="table table-cards" aria-label="Prices by service and country">
            <thead>
              <tr>
                <th scope="col">Service</th>
                <th scope="col">Country</th>
                <th scope="col" className="num">Price</th>
                <th scope="col" className="num">Available</th>
              </tr>
            </thead>
            <tbody>
              {shown.map((r) => (
                <tr key={`${r.service}-${r.country}`}>
                  <td className="c-service">
                    <span className="service-name">{r.service_name}</span> <code className="tag">{r.service}</code>
                  </td>
                  <td className="c-country">
                    {r.country_name} <span className="muted">({r.country_iso} · id {r.country})</span>
                  </td>
                  <td className="num c-price">{formatUsd(r.price)}</td>
                  <td className="num c-stock">
                    {r.in_stock ? (
                      <span className="badge badge-ok">{r.available} in stock</span>
                    ) : (
                      <span className="badge badge-muted">Out of stock</span>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

export function LandingPage() {
  const { account } = useSession();
  return (
    <div className="page">
      <section className="hero">
        <p className="eyebrow">Temporary phone numbers · SMS verification</p>
        <h1>Receive verification codes in seconds.</h1>
        <p className="lead">
          Pick a service and a country, get a real number, and watch the code appear on your screen the moment the SMS
          lands. No waiting on hold, no SIM cards — and a simple REST API when you want to automate it.
        </p>
        <div className="row">
          {account ? (
            <Link to="/dashboard" className="btn btn-primary">
              Go to your dashboard
            </Link>
          ) : (
            <>
              <Link to="/signup" className="btn btn-primary">
                Create a free account
              </Link>
              <Link to="/signin" className="btn">
                Sign in
              </Link>
            </>
          )}
          <Link to="/docs" className="btn btn-ghost">
            Read the API docs
          </Link>
        </div>
        <ol className="steps" aria-label="How it works">
          <li>
            <strong>1. Choose</strong> a service and a country — see the price and stock first.
          </li>
          <li>
            <strong>2. Use the number</strong> on the site that asks for verification.
          </li>
          <li>
            <strong>3. Read the code</strong> live on your dashboard. No code? Cancel for a refund.
          </li>
        </ol>
      </section>
      <PriceTable />
    </div>
  );
}
