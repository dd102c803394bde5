import { type FormEvent, useCallback, useEffect, useMemo, useState } from 'react';
import {
  type Activation,
  type ActivationStatus,
  api,
  errorMessage,
  formatLocalTime,
  formatUsd,
  parseApiTime,
  post,
  type PriceRow,
  type ActivationReport,
  type ReportReason,
} from '../api.ts';
import { CopyButton } from '../components/CopyButton.tsx';
import { Feedback } from '../components/Feedback.tsx';
import { Empty, ErrorBox, Loading } from '../components/States.tsx';
import { Link } from '../router.tsx';
import { useSession } from '../session.tsx';
import { useAsync } from '../use-async.ts';
import { Pager } from '../components/Pager.tsx';

interface ActivationPage {
  activations: Activation[];
  total: number;
  limit: number;
  offset: number;
}

const statusLabels: Record<ActivationStatus, string> = {
  waiting: 'Waiting for SMS',
  sms_received: 'Code received',
  completed: 'Completed',
  cancelled: 'Cancelled',
  expired: 'Expired',
};

function useNow(): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, []);
  return now;
}

function formatDuration(ms: number): string {
  const total = Math.max(0, Math.ceil(ms / 1000));
  const minutes = Math.floor(total / 60);
  const seconds = total % 60;
  return `${minutes}:${String(seconds).padStart(2, '0')}`;
}

/** The account's activation changes, pushed by the server (server-sent events), never polled. */
function useLiveActivations(onActivation: (activation: Activation) => void) {
  const [connected, setConnected] = useState(false);
  useEffect(() => {
    const source = new EventSource('/api/web/live');
    source.onopen = () => setConnected(true);
    source.onerror = () => setConnected(false);
    source.addEventListener('activation', (event) => {
      try {
        const parsed = JSON.parse((event as MessageEvent<string>).data);
        const activation: Activation | undefined = parsed.activation ?? parsed;
        if (activation && typeof activation.id === 'number') onActivation(activation);
      } catch {
        // Ignore a malformed event; the next one carries the full activation again.
      }
    });
    return () => source.close();
  }, [onActivation]);
  return connected;
}

function BalanceCard({ balance, error, onRetry }: { balance?: number; error?: string; onRetry(): void }) {
  return (
    <section className="card balance-card" aria-labelledby="balance-title">
      <h2 id="balance-title">Balance</h2>
      {error ? (
        <ErrorBox message={error} onRetry={onRetry} />
      ) : balance === undefined ? (
        <Loading what="balance" />
      ) : (
        <p className="balance" data-testid="balance">
          {formatUsd(balance)}
        </p>
      )}
      <div className="row">
        <Link to="/topup" className="btn btn-small btn-primary">
          Top up
        </Link>
        <Link to="/transactions" className="btn btn-small btn-ghost">
          Transactions
        </Link>
      </div>
    </section>
  );
}

function BuyPanel({
  balance,
  prices,
  onBought,
}: {
  balance?: number;
  prices: ReturnType<typeof useAsync<{ prices: PriceRow[] }>>;
  onBought(activation: Activation): void;
}) {
  const [query, setQuery] = useState('');
  const [selected, setSelected] = useState<string | null>(null);
  const [operator, setOperator] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const rows = prices.data?.prices ?? [];
  const q = query.trim().toLowerCase();
  const matches = rows.filter(
    (r) =>
      !q ||
      r.service_name.toLowerCase().includes(q) ||
      r.service.toLowerCase() === q ||
      r.country_name.toLowerCase().includes(q) ||
      r.country_iso.toLowerCase() === q,
  );
  const offer = rows.find((r) => `${r.service}-${r.country}` === selected);

  const buy = async (event: FormEvent) => {
    event.preventDefault();
    if (!offer) return;
    setBusy(true);
    setError(null);
    try {
      const result = await post<{ activation: Activation }>('/api/web/activations', {
        service_code: offer.service,
        country_id: offer.country,
        ...(operator.trim() ? { operator: operator.trim() } : {}),
      });
      onBought(result.activation);
      prices.reload();
    } catch (e) {
      setError(errorMessage(e));
      prices.reload();
    } finally {
      setBusy(false);
    }
  };

  return (
    <section className="card" aria-labelledby="buy-title">
      <h2 id="buy-title">Buy a number</h2>
      <form className="form" onSubmit={buy}>
        <label className="field">
          <span>Find a service and country</span>
          <input type="search" placeholder="e.g. Telegram, WhatsApp, United States" value={query} onChange={(e) => setQuery(e.target.value)} />
        </label>
        {prices.loading && !prices.data ? (
          <Loading what="offers" />
        ) : prices.error ? (
          <ErrorBox message={`We could not load the offers: ${prices.error}`} onRetry={prices.reload} />
        ) : matches.length === 0 ? (
          <Empty title="No offer matches your search.">
            <p className="muted">Try a service name (Telegram) or a country (United States).</p>
          </Empty>
        ) : (
          <fieldset className="offers">
            <legend className="visually-hidden">Offer</legend>
            {matches.map((r) => {
              const key = `${r.service}-${r.country}`;
              return (
                <label key={key} className={`offer${selected === key ? ' is-selected' : ''}${r.in_stock ? '' : ' is-disabled'}`}>
                  <input
                    type="radio"
                    name="offer"
                    value={key}
                    checked={selected === key}
                    disabled={!r.in_stock}
                    onChange={() => setSelected(key)}
                  />
                  <span className="offer-main">
                    <span className="offer-title">
                      {r.service_name} · {r.country_name}
                    </span>
                    <span className="muted">{r.in_stock ? `${r.available} in stock` : 'Out of stock'}</span>
                  </span>
                  <span className="offer-price">{formatUsd(r.price)}</span>
                </label>
              );
            })}
          </fieldset>
        )}
        <label className="field">
          <span>Operator (optional)</span>
          <input type="text" placeholder="any" value={operator} onChange={(e) => setOperator(e.target.value)} />
        </label>
        {offer && (
          <p className="summary" data-testid="buy-summary">
            {offer.service_name} number in {offer.country_name}: <strong>{formatUsd(offer.price)}</strong> · {offer.available} in stock
            {balance !== undefined && balance < offer.price && (
              <span className="warn"> · Your balance is too low — <Link to="/topup">top up</Link> first.</span>
            )}
          </p>
        )}
        {error && (
          <p className="form-error" role="alert">
            {error} {/balance/i.test(error) && <Link to="/topup">Top up now</Link>}
          </p>
        )}
        <button type="submit" className="btn btn-primary" disabled={!offer || busy}>
          {busy ? 'Buying…' : offer ? `Buy for ${formatUsd(offer.price)}` : 'Choose an offer to buy'}
        </button>
      </form>
    </section>
  );
}

const reportReasons: Array<{ value: ReportReason; label: string }> = [
  { value: 'used', label: 'Already used for this service' },
  { value: 'blocked', label: 'Blocked by the service' },
  { value: 'no_sms', label: 'The SMS does not arrive' },
  { value: 'other', label: 'Something else' },
];

const reportReasonLabel = (reason: ReportReason) => reportReasons.find((r) => r.value === reason)?.label.toLowerCase() ?? reason;

/** Report a bad number on a waiting activation: the server decides whether it refunds at once. */
function ReportForm({ activation, onReported, onClose }: { activation: Activation; onReported(result: ActivationReport): void; onClose(): void }) {
  const [reason, setReason] = useState<ReportReason>('used');
  const [note, setNote] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const send = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const result = await post<ActivationReport>(`/api/web/activations/${activation.id}/report`, { reason, ...(note.trim() ? { note: note.trim() } : {}) });
      onReported(result);
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setBusy(false);
    }
  };
  return (
    <form className="form report-form" onSubmit={send} aria-label={`Report number ${activation.number}`}>
      <label className="field">
        <span>What is wrong with the number?</span>
        <select value={reason} onChange={(e) => setReason(e.target.value as ReportReason)}>
          {reportReasons.map((r) => (
            <option key={r.value} value={r.value}>
              {r.label}
            </option>
          ))}
        </select>
      </label>
      <label className="field">
        <span>Note (optional)</span>
        <textarea rows={2} maxLength={500} value={note} onChange={(e) => setNote(e.target.value)} />
      </label>
      {error && (
        <p className="form-error" role="alert">
          {error}
        </p>
      )}
      <div className="row">
        <button type="submit" className="btn btn-small btn-primary" disabled={busy}>
          {busy ? 'Sending…' : 'Send report'}
        </button>
        <button type="button" className="btn btn-small btn-ghost" onClick={onClose}>
          Close
        </button>
      </div>
    </form>
  );
}

function ActivationCard({
  activation,
  now,
  names,
  onChanged,
  onReported,
}: {
  activation: Activation;
  now: number;
  names: Map<string, string>;
  onChanged(activation: Activation): void;
  onReported(result: ActivationReport): void;
}) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [reporting, setReporting] = useState(false);
  const expiresIn = parseApiTime(activation.expires_at) - now;
  const cancelIn = parseApiTime(activation.cancel_available_at) - now;
  const canCancel = activation.status === 'waiting' && cancelIn <= 0;

  const act = async (action: 'cancel' | 'complete') => {
    setBusy(true);
    setError(null);
    try {
      const result = await post<{ activation: Activation }>(`/api/web/activations/${activation.id}/${action}`);
      onChanged(result.activation);
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setBusy(false);
    }
  };

  return (
    <li className="activation card" data-activation-id={activation.id} aria-label={`Activation ${activation.id}`}>
      <div className="activation-head">
        <div>
          <span className="activation-number" data-testid="number">
            {activation.number}
          </span>{' '}
          <CopyButton text={activation.number} what="number" />
        </div>
        <span className={`badge status-${activation.status}`}>{statusLabels[activation.status]}</span>
      </div>
      <p className="muted">
        {names.get(activation.service) ?? activation.service} · {names.get(`country:${activation.country}`) ?? `country ${activation.country}`}
        {activation.operator && activation.operator !== 'any' ? ` · ${activation.operator}` : ''} · {formatUsd(activation.price)}
      </p>
      <div className="activation-code" aria-live="polite">
        {activation.code ? (
          <>
            <span className="muted">Code</span>
            <span className="code" data-testid="code">
              {activation.code}
            </span>
            <CopyButton text={activation.code} what="code" />
          </>
        ) : activation.status === 'waiting' ? (
          <span className="waiting">
            <span className="spinner" aria-hidden="true" /> Waiting for the SMS — the code appears here by itself.
          </span>
        ) : (
          <span className="muted">No code.</span>
        )}
      </div>
      {activation.text && <p className="sms-text">“{activation.text}”</p>}
      <p className="muted countdown">
        {expiresIn > 0 ? <>Expires in <strong data-testid="expires-in">{formatDuration(expiresIn)}</strong></> : 'Expiring now…'}
      </p>
      <div className="row">
        {activation.status === 'sms_received' && (
          <button type="button" className="btn btn-primary btn-small" disabled={busy} onClick={() => act('complete')}>
            Complete
          </button>
        )}
        {activation.status === 'waiting' && (
          <button
            type="button"
            className="btn btn-small"
            disabled={busy || !canCancel}
            aria-describedby={canCancel ? undefined : `cancel-hint-${activation.id}`}
            onClick={() => act('cancel')}
          >
            Cancel and refund
          </button>
        )}
        {activation.status === 'waiting' && !canCancel && (
          <span className="muted" id={`cancel-hint-${activation.id}`}>
            Cancel available in {formatDuration(cancelIn)}
          </span>
        )}
        {activation.status === 'waiting' && !reporting && (
          <button type="button" className="btn btn-small btn-ghost" onClick={() => setReporting(true)}>
            Report number
          </button>
        )}
      </div>
      {activation.status === 'waiting' && reporting && (
        <ReportForm
          activation={activation}
          onClose={() => setReporting(false)}
          onReported={(result) => {
            setReporting(false);
            onReported(result);
          }}
        />
      )}
      {error && (
        <p className="form-error" role="alert">
          {error}
        </p>
      )}
    </li>
  );
}

/** Activations whose number can be bought again for the same service (the server has the last word). */
const reusable = new Set<ActivationStatus>(['completed']);

const statusFilters: Array<{ value: '' | ActivationStatus; label: string }> = [
  { value: '', label: 'All' },
  { value: 'waiting', label: 'Waiting' },
  { value: 'sms_received', label: 'Code received' },
  { value: 'completed', label: 'Completed' },
  { value: 'cancelled', label: 'Cancelled' },
  { value: 'expired', label: 'Expired' },
];

/** "Buy again": a new activation on the same number for the same service, when the server allows it. */
function ReuseButton({ activation, onReused, onError }: { activation: Activation; onReused(activation: Activation): void; onError(message: string): void }) {
  const [busy, setBusy] = useState(false);
  const reuse = async () => {
    setBusy(true);
    try {
      const result = await post<{ activation: Activation }>(`/api/web/activations/${activation.id}/reuse`);
      onReused(result.activation);
    } catch (e) {
      onError(`Activation ${activation.id}: ${errorMessage(e)}`);
    } finally {
      setBusy(false);
    }
  };
  return (
    <button type="button" className="btn btn-small btn-ghost" disabled={busy} aria-label={`Buy again ${activation.number}`} onClick={reuse}>
      {busy ? 'Buying…' : 'Buy again'}
    </button>
  );
}

function History({
  refreshKey,
  showOwner,
  names,
  onReused,
}: {
  refreshKey: number;
  showOwner: boolean;
  names: Map<string, string>;
  onReused(activation: Activation): void;
}) {
  const [reuseError, setReuseError] = useState<string | null>(null);
  const [status, setStatus] = useState<'' | ActivationStatus>('');
  const [offset, setOffset] = useState(0);
  const limit = 10;
  const page = useAsync(
    () => api<ActivationPage>(`/api/web/activations?limit=${limit}&offset=${offset}${status ? `&status=${status}` : ''}`),
    [status, offset, refreshKey],
  );
  const data = page.data;
  return (
    <section className="card" aria-labelledby="history-title">
      <div className="card-head">
        <h2 id="history-title">History</h2>
        <div className="row">
          <label className="field inline">
            <span>Status</span>
            <select
              value={status}
              onChange={(e) => {
                setStatus(e.target.value as '' | ActivationStatus);
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
          <a className="btn btn-small btn-ghost" href={`/api/web/activations.csv${status ? `?status=${status}` : ''}`} download>
            Export CSV
          </a>
        </div>
      </div>
      {reuseError && (
        <p className="form-error" role="alert">
          {reuseError}
        </p>
      )}
      {page.loading && !data ? (
        <Loading what="history" />
      ) : page.error ? (
        <ErrorBox message={`We could not load your history: ${page.error}`} onRetry={page.reload} />
      ) : !data || data.activations.length === 0 ? (
        <Empty title={status ? 'No activations with this status.' : 'No activations yet.'}>
          <p className="muted">{status ? 'Pick another status above.' : 'Buy your first number above — it shows up here.'}</p>
        </Empty>
      ) : (
        <>
          <div className="table-wrap">
            <table className="table" aria-label="Activation history">
              <thead>
                <tr>
                  <th scope="col">#</th>
                  <th scope="col">Number</th>
                  <th scope="col">Service</th>
                  <th scope="col">Status</th>
                  <th scope="col">Code</th>
                  <th scope="col" className="num">Price</th>
                  <th scope="col">Bought</th>
                  <th scope="col">
                    <span className="visually-hidden">Action</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {data.activations.map((a) => (
                  <tr key={a.id}>
                    <td>{a.id}</td>
                    <td className="mono">{a.number}</td>
                    <td>
                      {names.get(a.service) ?? a.service} · {names.get(`country:${a.country}`) ?? a.country}
                    </td>
                    <td>
                      <span className={`badge status-${a.status}`}>{statusLabels[a.status]}</span>
                    </td>
                    <td className="mono">{a.code ?? '—'}</td>
                    <td className="num">{formatUsd(a.price)}</td>
                    <td>
                      {formatLocalTime(a.created_at)}
                      {a.reused_from ? <span className="muted small"> · again after {a.reused_from}</span> : null}
                      {a.report ? (
                        <span className="muted small" data-testid="history-report">
                          {' '}
                          · reported: {reportReasonLabel(a.report.reason)}
                          {a.report.refunded ? ', refunded' : ''}
                        </span>
                      ) : null}
                    </td>
                    <td>
                      {reusable.has(a.status) && (
                        <ReuseButton
                          activation={a}
                          onError={setReuseError}
                          onReused={(activation) => {
                            setReuseError(null);
                            onReused(activation);
                          }}
                        />
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <Pager label="History pages" offset={offset} limit={limit} shown={data.activations.length} total={data.total} onOffset={setOffset} />
        </>
      )}
      {showOwner && <p className="muted small">As an owner you see the activations of your whole company.</p>}
    </section>
  );
}

export function DashboardPage() {
  const { account } = useSession();
  const now = useNow();
  const balance = useAsync(() => api<{ balance: number }>('/api/web/balance'), []);
  const prices = useAsync(() => api<{ prices: PriceRow[] }>('/api/web/prices'), []);
  const names = useMemo(() => {
    const map = new Map<string, string>();
    for (const row of prices.data?.prices ?? []) {
      map.set(row.service, row.service_name);
      map.set(`country:${row.country}`, row.country_name);
    }
    return map;
  }, [prices.data]);
  const [active, setActive] = useState<Activation[]>([]);
  const [activeState, setActiveState] = useState<{ loading: boolean; error?: string }>({ loading: true });
  const [completed, setCompleted] = useState<Activation | null>(null);
  const [historyKey, setHistoryKey] = useState(0);
  const reloadBalance = balance.reload;

  const loadActive = useCallback(async () => {
    setActiveState({ loading: true });
    try {
      const [waiting, received] = await Promise.all([
        api<ActivationPage>('/api/web/activations?status=waiting&limit=100'),
        api<ActivationPage>('/api/web/activations?status=sms_received&limit=100'),
      ]);
      setActive([...received.activations, ...waiting.activations].sort((a, b) => b.id - a.id));
      setActiveState({ loading: false });
    } catch (e) {
      setActiveState({ loading: false, error: errorMessage(e) });
    }
  }, []);
  useEffect(() => {
    void loadActive();
  }, [loadActive]);

  const apply = useCallback(
    (activation: Activation) => {
      setActive((current) => {
        const rest = current.filter((a) => a.id !== activation.id);
        if (activation.status === 'waiting' || activation.status === 'sms_received') {
          return [activation, ...rest].sort((a, b) => b.id - a.id);
        }
        return rest;
      });
      if (activation.status !== 'waiting') setHistoryKey((k) => k + 1);
      if (activation.status === 'cancelled' || activation.status === 'expired') reloadBalance();
    },
    [reloadBalance],
  );
  const live = useLiveActivations(apply);

  const onBought = (activation: Activation) => {
    apply(activation);
    setCompleted(null);
    reloadBalance();
    setHistoryKey((k) => k + 1);
  };
  const onChanged = (activation: Activation) => {
    apply(activation);
    if (activation.status === 'completed') setCompleted(activation);
    reloadBalance();
  };
  const [reported, setReported] = useState<ActivationReport | null>(null);
  const onReported = (result: ActivationReport) => {
    apply(result.activation);
    setReported(result);
    reloadBalance();
    setHistoryKey((k) => k + 1);
  };

  const activeList = active;

  return (
    <div className="page">
      <div className="page-head">
        <div>
          <h1>Dashboard</h1>
          <p className="muted">
            {account?.email}
            {account && account.company_name !== account.email ? ` · ${account.company_name}` : ''} · {account?.role}
          </p>
        </div>
        <span className={`live-dot${live ? ' is-live' : ''}`} role="status">
          {live ? 'Live' : 'Connecting…'}
        </span>
      </div>
      <div className="grid-2">
        <div className="stack">
          <BalanceCard balance={balance.data?.balance} error={balance.error} onRetry={balance.reload} />
          <BuyPanel balance={balance.data?.balance} prices={prices} onBought={onBought} />
        </div>
        <section className="stack" aria-labelledby="active-title">
          <h2 id="active-title" className="section-title">
            Active numbers
          </h2>
          {completed && (
            <div className="card notice" data-testid="completed-notice">
              <p>
                Activation {completed.id} is complete — the number {completed.number} is yours to keep for this verification.
              </p>
              <Feedback context="activation" reference={String(completed.id)} onClose={() => setCompleted(null)} />
            </div>
          )}
          {reported && (
            <p className="notice-ok" role="status" data-testid="report-notice">
              Thanks — number {reported.activation.number} is reported
              {reported.report.refunded
                ? ` and activation ${reported.activation.id} is refunded.`
                : reported.activation.status === 'waiting'
                  ? '. The activation stays open until its SMS comes or it expires.'
                  : '.'}
            </p>
          )}
          {activeState.loading && activeList.length === 0 ? (
            <Loading what="active numbers" />
          ) : activeState.error ? (
            <ErrorBox message={`We could not load your active numbers: ${activeState.error}`} onRetry={loadActive} />
          ) : activeList.length === 0 ? (
            <div className="card">
              <Empty title="No active numbers.">
                <p className="muted">Choose a service and country under “Buy a number”; the number and its code appear here.</p>
              </Empty>
            </div>
          ) : (
            <ul className="activations">
              {activeList.map((activation) => (
                <ActivationCard key={activation.id} activation={activation} now={now} names={names} onChanged={onChanged} onReported={onReported} />
              ))}
            </ul>
          )}
        </section>
      </div>
      <History refreshKey={historyKey} showOwner={account?.role === 'owner'} names={names} onReused={onBought} />
    </div>
  );
}
