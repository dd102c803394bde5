import { type FormEvent, useCallback, useEffect, useMemo, useState } from 'react';
import { api, errorMessage, formatLocalTime, formatUsd, parseApiTime, post } from '../api.ts';
import { CopyButton } from '../components/CopyButton.tsx';
import { Pager } from '../components/Pager.tsx';
import { Empty, ErrorBox, FormError, Loading } from '../components/States.tsx';
import {
  formatHours,
  maxRentalHours,
  type Rental,
  type RentalPage,
  type RentalPriceRow,
  type RentalQuote,
  type RentalStatus,
  rentalStatusLabels,
  type RentalWithMessages,
} from '../rentals-api.ts';
import { Link, navigate, useLocation } from '../router.tsx';
import { useSession } from '../session.tsx';
import { useAsync } from '../use-async.ts';
import { useFormAction } from '../use-form-action.ts';

function useNow(): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, []);
  return now;
}

/** "2d 03:04:05" / "03:04:05" until a moment. */
function formatRemaining(ms: number): string {
  const total = Math.max(0, Math.floor(ms / 1000));
  const days = Math.floor(total / 86_400);
  const clock = [Math.floor((total % 86_400) / 3600), Math.floor((total % 3600) / 60), total % 60].map((n) => String(n).padStart(2, '0')).join(':');
  return days ? `${days}d ${clock}` : clock;
}

const operatorLabel = (operator: string) => (operator === 'any' ? 'Any operator' : operator);

/** What `hours` costs for a country (and operator), asked from the server as the user types. */
function useQuote(countryId: number | null, operator: string, hours: number) {
  const [state, setState] = useState<{ quote?: RentalQuote; error?: string; loading: boolean }>({ loading: false });
  useEffect(() => {
    if (countryId === null || !Number.isInteger(hours) || hours < 1 || hours > maxRentalHours) {
      setState({ loading: false });
      return;
    }
    let current = true;
    setState((s) => ({ quote: s.quote, loading: true }));
    const timer = setTimeout(() => {
      const query = new URLSearchParams({ country_id: String(countryId), hours: String(hours) });
      if (operator.trim()) query.set('operator', operator.trim());
      api<RentalQuote>(`/api/web/rentals/quote?${query}`).then(
        (quote) => current && setState({ quote, loading: false }),
        (error) => current && setState({ error: errorMessage(error), loading: false }),
      );
    }, 200);
    return () => {
      current = false;
      clearTimeout(timer);
    };
  }, [countryId, operator, hours]);
  // A quote for other inputs than the current ones is never shown as the price to pay.
  const fresh = state.quote && state.quote.country === countryId && state.quote.hours === hours && state.quote.operator === (operator.trim() || 'any');
  return { quote: fresh ? state.quote : undefined, error: state.error, loading: state.loading };
}

function PriceList({ prices, onPick }: { prices: ReturnType<typeof useAsync<{ prices: RentalPriceRow[] }>>; onPick(row: RentalPriceRow): void }) {
  const rows = [...(prices.data?.prices ?? [])].sort(
    (a, b) => a.country_name.localeCompare(b.country_name) || (a.operator === 'any' ? -1 : b.operator === 'any' ? 1 : a.operator.localeCompare(b.operator)),
  );
  return (
    <section className="card" aria-labelledby="rental-prices-title">
      <h2 id="rental-prices-title">Rental prices</h2>
      <p className="muted small">Whole days at the day price; extra hours at the hour price, never more than a day.</p>
      {prices.loading && !prices.data ? (
        <Loading what="rental prices" />
      ) : prices.error ? (
        <ErrorBox message={`We could not load the rental prices: ${prices.error}`} onRetry={prices.reload} />
      ) : rows.length === 0 ? (
        <Empty title="No numbers for rent right now." />
      ) : (
        <div className="table-wrap">
          <table className="table compact" aria-label="Rental prices">
            <thead>
              <tr>
                <th scope="col">Country</th>
                <th scope="col">Operator</th>
                <th scope="col" className="num">Per hour</th>
                <th scope="col" className="num">Per day</th>
                <th scope="col">Stock</th>
                <th scope="col">
                  <span className="visually-hidden">Action</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {rows.map((row) => (
                <tr key={`${row.country}-${row.operator}`}>
                  <td>{row.country_name}</td>
                  <td>{operatorLabel(row.operator)}</td>
                  <td className="num">{formatUsd(row.price_per_hour)}</td>
                  <td className="num">{formatUsd(row.price_per_day)}</td>
                  <td>{row.available > 0 ? `${row.available} in stock` : 'Out of stock'}</td>
                  <td>
                    <button
                      type="button"
                      className="btn btn-small btn-ghost"
                      disabled={row.available === 0}
                      aria-label={`Rent in ${row.country_name}${row.operator === 'any' ? '' : ` on ${row.operator}`}`}
                      onClick={() => onPick(row)}
                    >
                      Rent
                    </button>
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

function RentForm({
  prices,
  picked,
  balance,
  onRented,
}: {
  prices: RentalPriceRow[];
  picked: { row: RentalPriceRow; at: number } | null;
  balance?: number;
  onRented(rental: Rental): void;
}) {
  const countries = useMemo(() => {
    const byId = new Map<number, { id: number; name: string; available: number }>();
    for (const row of prices) {
      // The 'any' row counts the whole country's free numbers.
      const known = byId.get(row.country);
      if (!known || row.operator === 'any') byId.set(row.country, { id: row.country, name: row.country_name, available: row.available });
    }
    return [...byId.values()].sort((a, b) => a.name.localeCompare(b.name));
  }, [prices]);
  const [countryId, setCountryId] = useState<number | null>(null);
  const [operator, setOperator] = useState('');
  const [hoursText, setHoursText] = useState('24');
  const { busy, error, submit } = useFormAction();
  // The first country in stock until the user picks one.
  const chosen = countryId ?? countries.find((c) => c.available > 0)?.id ?? countries[0]?.id ?? null;
  useEffect(() => {
    if (!picked) return;
    setCountryId(picked.row.country);
    setOperator(picked.row.operator === 'any' ? '' : picked.row.operator);
  }, [picked]);
  const hours = Number(hoursText);
  const hoursValid = Number.isInteger(hours) && hours >= 1 && hours <= maxRentalHours;
  const { quote, error: quoteError, loading: quoting } = useQuote(chosen, operator, hoursValid ? hours : 0);
  const country = countries.find((c) => c.id === chosen);
  const operators = prices.filter((r) => r.country === chosen && r.operator !== 'any').map((r) => r.operator);

  const rent = submit(async () => {
    if (chosen === null || !quote) return;
    const result = await post<{ rental: Rental }>('/api/web/rentals', {
      country_id: chosen,
      hours,
      ...(operator.trim() ? { operator: operator.trim() } : {}),
    });
    onRented(result.rental);
  });

  return (
    <section className="card" aria-labelledby="rent-title">
      <h2 id="rent-title">Rent a number</h2>
      <p className="muted small">A rented number is yours alone for the hours you pay: it receives every SMS, from any service.</p>
      <form className="form" onSubmit={rent}>
        <label className="field">
          <span>Country</span>
          <select value={chosen ?? ''} onChange={(e) => setCountryId(Number(e.target.value))} disabled={countries.length === 0}>
            {countries.map((c) => (
              <option key={c.id} value={c.id}>
                {c.name} — {c.available > 0 ? `${c.available} in stock` : 'out of stock'}
              </option>
            ))}
          </select>
        </label>
        <label className="field">
          <span>Operator (optional)</span>
          <input type="text" placeholder="any" list="rental-operators" value={operator} onChange={(e) => setOperator(e.target.value)} maxLength={64} />
          <datalist id="rental-operators">
            {operators.map((o) => (
              <option key={o} value={o} />
            ))}
          </datalist>
        </label>
        <label className="field">
          <span>Hours (1–{maxRentalHours})</span>
          <input type="number" min={1} max={maxRentalHours} step={1} required value={hoursText} onChange={(e) => setHoursText(e.target.value)} />
        </label>
        {!hoursValid && hoursText !== '' && (
          <p className="form-error" role="alert">
            Choose between 1 and {maxRentalHours} hours (30 days).
          </p>
        )}
        {hoursValid && quote && country && (
          <p className="summary" data-testid="rent-quote">
            {formatHours(hours)} in {country.name}
            {quote.operator !== 'any' ? ` on ${quote.operator}` : ''}: <strong>{formatUsd(quote.price)}</strong>
            {balance !== undefined && balance < quote.price && (
              <span className="warn">
                {' '}
                · Your balance ({formatUsd(balance)}) is too low — <Link to="/topup">top up</Link> first.
              </span>
            )}
          </p>
        )}
        {hoursValid && !quoting && quoteError && (
          <p className="form-error" role="alert">
            {quoteError}
          </p>
        )}
        <FormError error={error} />
        <button type="submit" className="btn btn-primary" disabled={busy || !quote || !hoursValid}>
          {busy ? 'Renting…' : quote ? `Rent for ${formatUsd(quote.price)}` : 'Choose a country and hours'}
        </button>
      </form>
    </section>
  );
}

/** One rental's changes pushed by the server (server-sent events) while it is active. */
function useLiveRental(id: number, active: boolean, onRental: (rental: RentalWithMessages) => void) {
  const [connected, setConnected] = useState(false);
  useEffect(() => {
    if (!active) {
      setConnected(false);
      return;
    }
    const source = new EventSource(`/api/web/rentals/${id}/live`);
    source.onopen = () => setConnected(true);
    source.onerror = () => setConnected(false);
    source.addEventListener('rental', (event) => {
      try {
        const rental = (JSON.parse((event as MessageEvent<string>).data) as { rental?: RentalWithMessages }).rental;
        if (rental && rental.id === id) onRental(rental);
        // An ended rental gets no more messages: stop listening (the server ends the stream too).
        if (rental && rental.status !== 'active') source.close();
      } catch {
        // A malformed event: the next one carries the whole rental again.
      }
    });
    return () => source.close();
  }, [id, active, onRental]);
  return connected;
}

function ExtendForm({ rental, onChanged }: { rental: Rental; onChanged(rental: Rental): void }) {
  const [hoursText, setHoursText] = useState('24');
  const { busy, error, submit } = useFormAction();
  const hours = Number(hoursText);
  const valid = Number.isInteger(hours) && hours >= 1 && hours <= maxRentalHours;
  const { quote } = useQuote(rental.country, rental.operator === 'any' ? '' : rental.operator, valid ? hours : 0);
  const extend = submit(async () => {
    const result = await post<{ rental: Rental }>(`/api/web/rentals/${rental.id}/extend`, { hours });
    onChanged(result.rental);
  });
  return (
    <form className="form" onSubmit={extend} aria-label="Extend the rental">
      <div className="row">
        <label className="field inline">
          <span>Extra hours</span>
          <input type="number" min={1} max={maxRentalHours} step={1} required value={hoursText} onChange={(e) => setHoursText(e.target.value)} />
        </label>
        <button type="submit" className="btn btn-small btn-primary" disabled={busy || !valid}>
          {busy ? 'Extending…' : quote ? `Extend for ${formatUsd(quote.price)}` : 'Extend'}
        </button>
      </div>
      <FormError error={error} />
    </form>
  );
}

function RentalDetail({ id, countryNames, onChanged }: { id: number; countryNames: Map<number, string>; onChanged(rental: Rental): void }) {
  const now = useNow();
  const loaded = useAsync(() => api<{ rental: RentalWithMessages }>(`/api/web/rentals/${id}`), [id]);
  const [rental, setRental] = useState<RentalWithMessages | null>(null);
  const [confirmFinish, setConfirmFinish] = useState(false);
  const action = useFormAction();
  // The first read; after it the live stream (and the actions' answers) keep the rental current.
  const first = loaded.data?.rental;
  useEffect(() => {
    if (first) setRental((current) => current ?? first);
  }, [first]);
  const applyLive = useCallback(
    (next: RentalWithMessages) => {
      setRental(next);
      onChanged(next);
    },
    [onChanged],
  );
  const live = useLiveRental(id, rental?.status === 'active', applyLive);

  if (!rental) {
    return loaded.error ? <ErrorBox message={`We could not load rental ${id}: ${loaded.error}`} onRetry={loaded.reload} /> : <Loading what="the rental" />;
  }
  // An action answers the rental without its messages: keep the ones we have.
  const changed = (next: Rental) => {
    // A refusal shown earlier no longer describes the rental.
    action.setError(null);
    setRental((current) => ({ ...next, messages: current?.messages ?? [] }));
    onChanged(next);
  };
  const act = (what: 'cancel' | 'finish') =>
    action.run(async () => {
      const result = await post<{ rental: Rental }>(`/api/web/rentals/${rental.id}/${what}`);
      setConfirmFinish(false);
      changed(result.rental);
    });
  const expiresIn = parseApiTime(rental.expires_at) - now;
  const active = rental.status === 'active';

  return (
    <section className="card rental" aria-label={`Rental ${rental.id}`} data-rental-id={rental.id}>
      <div className="activation-head">
        <div>
          <span className="activation-number" data-testid="rental-number">
            {rental.number}
          </span>{' '}
          <CopyButton text={rental.number} what="number" />
        </div>
        <span className={`badge status-${rental.status}`} data-testid="rental-status">
          {rentalStatusLabels[rental.status]}
        </span>
      </div>
      <p className="muted">
        Rental {rental.id} · {countryNames.get(rental.country) ?? `country ${rental.country}`}
        {rental.operator !== 'any' ? ` · ${rental.operator}` : ''} · {formatHours(rental.hours)} paid, {formatUsd(rental.price)} in all
      </p>
      {active ? (
        <p className="muted countdown">
          Until {formatLocalTime(rental.expires_at)} ·{' '}
          {expiresIn > 0 ? (
            <>
              <strong data-testid="rental-expires-in">{formatRemaining(expiresIn)}</strong> left
            </>
          ) : (
            'ending now…'
          )}{' '}
          <span className={`live-dot${live ? ' is-live' : ''}`} role="status">
            {live ? 'Live' : 'Connecting…'}
          </span>
        </p>
      ) : (
        <p className="muted">
          {rentalStatusLabels[rental.status]}
          {rental.finished_at ? ` on ${formatLocalTime(rental.finished_at)}` : ''}.
        </p>
      )}

      <h3 className="section-title">Messages</h3>
      {rental.messages.length === 0 ? (
        <div className="activation-code">
          {active ? (
            <span className="waiting">
              <span className="spinner" aria-hidden="true" /> No SMS yet — messages appear here by themselves.
            </span>
          ) : (
            <span className="muted">No SMS reached this number.</span>
          )}
        </div>
      ) : (
        <ol className="rental-messages" aria-label="Messages" aria-live="polite">
          {rental.messages.map((m) => (
            <li key={m.id} className="rental-message" data-message-id={m.id}>
              <div className="rental-message-head">
                <strong>{m.from}</strong>
                <span className="muted small">{formatLocalTime(m.received_at)}</span>
              </div>
              <p className="rental-message-text" data-testid="message-text">
                {m.text}
              </p>
              {m.code && (
                <div className="row">
                  <span className="code" data-testid="message-code">
                    {m.code}
                  </span>
                  <CopyButton text={m.code} what={`code ${m.code}`} />
                </div>
              )}
            </li>
          ))}
        </ol>
      )}

      {active && (
        <div className="stack rental-actions">
          <ExtendForm rental={rental} onChanged={changed} />
          <div>
            <div className="row">
              <button type="button" className="btn btn-small" disabled={action.busy} onClick={() => act('cancel')}>
                Cancel and refund
              </button>
              {confirmFinish ? (
                <>
                  <button type="button" className="btn btn-small btn-danger" disabled={action.busy} onClick={() => act('finish')}>
                    Yes, finish now
                  </button>
                  <button type="button" className="btn btn-small btn-ghost" onClick={() => setConfirmFinish(false)}>
                    Keep it
                  </button>
                </>
              ) : (
                <button type="button" className="btn btn-small" disabled={action.busy} onClick={() => setConfirmFinish(true)}>
                  Finish
                </button>
              )}
            </div>
            <p className="muted small">
              Cancel refunds everything you paid, but only within 20 minutes of renting and before the first SMS arrives. Finish ends the rental at
              once and releases the number, without a refund for the unused time.
            </p>
            <FormError error={action.error} />
          </div>
        </div>
      )}
    </section>
  );
}

const statusFilters: Array<{ value: '' | RentalStatus; label: string }> = [
  { value: '', label: 'All' },
  { value: 'active', label: 'Active' },
  { value: 'finished', label: 'Finished' },
  { value: 'cancelled', label: 'Cancelled' },
  { value: 'expired', label: 'Expired' },
];

function RentalsList({
  refreshKey,
  updates,
  selectedId,
  countryNames,
  showOwner,
}: {
  refreshKey: number;
  updates: Map<number, Rental>;
  selectedId: number | null;
  countryNames: Map<number, string>;
  showOwner: boolean;
}) {
  const [status, setStatus] = useState<'' | RentalStatus>('');
  const [offset, setOffset] = useState(0);
  const limit = 10;
  const page = useAsync(() => api<RentalPage>(`/api/web/rentals?limit=${limit}&offset=${offset}${status ? `&status=${status}` : ''}`), [status, offset, refreshKey]);
  const data = page.data;
  return (
    <section className="card" aria-labelledby="my-rentals-title">
      <div className="card-head">
        <h2 id="my-rentals-title">My rentals</h2>
        <div className="row">
          <label className="field inline">
            <span>Status</span>
            <select
              value={status}
              onChange={(e) => {
                setStatus(e.target.value as '' | RentalStatus);
                setOffset(0);
              }}
            >
              {statusFilters.map((f) => (
                <option key={f.value} value={f.value}>
                  {f.label}
                </option>
              ))}
            </select>
          </label>
          <a className="btn btn-small btn-ghost" href={`/api/web/rentals.csv${status ? `?status=${status}` : ''}`} download>
            Export CSV
          </a>
        </div>
      </div>
      {page.loading && !data ? (
        <Loading what="your rentals" />
      ) : page.error ? (
        <ErrorBox message={`We could not load your rentals: ${page.error}`} onRetry={page.reload} />
      ) : !data || data.rentals.length === 0 ? (
        <Empty title={status ? 'No rentals with this status.' : 'No rentals yet.'}>
          <p className="muted">{status ? 'Pick another status above.' : 'Rent your first number above — it shows up here.'}</p>
        </Empty>
      ) : (
        <>
          <div className="table-wrap">
            <table className="table" aria-label="My rentals">
              <thead>
                <tr>
                  <th scope="col">#</th>
                  <th scope="col">Number</th>
                  <th scope="col">Country</th>
                  <th scope="col">Status</th>
                  <th scope="col">Until</th>
                  <th scope="col" className="num">Paid</th>
                  <th scope="col">
                    <span className="visually-hidden">Open</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {data.rentals.map((listed) => {
                  const r = updates.get(listed.id) ?? listed;
                  return (
                    <tr key={r.id} aria-current={r.id === selectedId ? 'true' : undefined}>
                      <td>{r.id}</td>
                      <td className="mono">{r.number}</td>
                      <td>
                        {countryNames.get(r.country) ?? r.country}
                        {r.operator !== 'any' ? ` · ${r.operator}` : ''}
                      </td>
                      <td>
                        <span className={`badge status-${r.status}`}>{rentalStatusLabels[r.status]}</span>
                      </td>
                      <td>{formatLocalTime(r.finished_at ?? r.expires_at)}</td>
                      <td className="num">{formatUsd(r.price)}</td>
                      <td>
                        <Link to={`/rentals?id=${r.id}`} className="btn btn-small btn-ghost" aria-label={`Open rental ${r.id}`}>
                          Open
                        </Link>
                      </td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
          <Pager label="Rental pages" offset={offset} limit={limit} shown={data.rentals.length} total={data.total} onOffset={setOffset} />
        </>
      )}
      {showOwner && <p className="muted small">As an owner you see the rentals of your whole company.</p>}
    </section>
  );
}

export function RentalsPage() {
  const { account } = useSession();
  const { search } = useLocation();
  const selectedId = Number(search.get('id')) || null;
  const prices = useAsync(() => api<{ prices: RentalPriceRow[] }>('/api/web/rentals/prices'), []);
  const balance = useAsync(() => api<{ balance: number }>('/api/web/balance'), []);
  const [picked, setPicked] = useState<{ row: RentalPriceRow; at: number } | null>(null);
  const [listKey, setListKey] = useState(0);
  const [updates, setUpdates] = useState<Map<number, Rental>>(() => new Map());
  const countryNames = useMemo(() => new Map((prices.data?.prices ?? []).map((r) => [r.country, r.country_name])), [prices.data]);
  const reloadBalance = balance.reload;
  const reloadPrices = prices.reload;

  const onChanged = useCallback(
    (rental: Rental) => {
      setUpdates((current) => new Map(current).set(rental.id, rental));
      reloadBalance();
      if (rental.status !== 'active') reloadPrices();
    },
    [reloadBalance, reloadPrices],
  );
  const onRented = (rental: Rental) => {
    reloadBalance();
    reloadPrices();
    setListKey((k) => k + 1);
    navigate(`/rentals?id=${rental.id}`);
  };

  return (
    <div className="page">
      <div className="page-head">
        <div>
          <h1>Rentals</h1>
          <p className="muted">Rent a number by the hour or the day and read every SMS it gets, live.</p>
        </div>
        <p className="balance-inline">
          Balance <strong data-testid="balance">{balance.data ? formatUsd(balance.data.balance) : '…'}</strong> · <Link to="/topup">Top up</Link>
        </p>
      </div>
      <div className="grid-2">
        <div className="stack">
          <RentForm prices={prices.data?.prices ?? []} picked={picked} balance={balance.data?.balance} onRented={onRented} />
          <PriceList prices={prices} onPick={(row) => setPicked({ row, at: Date.now() })} />
        </div>
        <div className="stack">
          {selectedId ? (
            <RentalDetail key={selectedId} id={selectedId} countryNames={countryNames} onChanged={onChanged} />
          ) : (
            <div className="card">
              <Empty title="No rental open.">
                <p className="muted">Rent a number, or open one of your rentals below: its messages show here as they arrive.</p>
              </Empty>
            </div>
          )}
        </div>
      </div>
      <RentalsList refreshKey={listKey} updates={updates} selectedId={selectedId} countryNames={countryNames} showOwner={account?.role === 'owner'} />
    </div>
  );
}
