import { type FormEvent, useState } from 'react';
import { api, errorMessage, formatUsd, post } from '../api.ts';
import { ErrorBox, Loading } from '../components/States.tsx';
import { Link } from '../router.tsx';
import { useAsync } from '../use-async.ts';

interface TopUpInfo {
  provider: 'stripe' | 'demo' | 'none';
  min_amount: number;
  max_amount: number;
}

export function TopUpPage() {
  const info = useAsync(() => api<TopUpInfo>('/api/web/topup'), []);
  const balance = useAsync(() => api<{ balance: number }>('/api/web/balance'), []);
  const [amount, setAmount] = useState('10');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [done, setDone] = useState<string | null>(null);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const value = Number(amount);
    if (!info.data) return;
    if (!Number.isFinite(value) || value < info.data.min_amount || value > info.data.max_amount) {
      setError(`Enter an amount between ${formatUsd(info.data.min_amount)} and ${formatUsd(info.data.max_amount)}.`);
      return;
    }
    setBusy(true);
    setError(null);
    setDone(null);
    try {
      const result = await post<{ checkout_url?: string; credited?: boolean; balance?: number }>('/api/web/topup', { amount: value });
      if (result.checkout_url) {
        // Stripe Checkout runs on Stripe's page; the webhook credits the balance when it is paid.
        window.location.assign(result.checkout_url);
        return;
      }
      setDone(`Added ${formatUsd(value)}. Your balance is now ${formatUsd(result.balance ?? 0)}.`);
      if (result.balance !== undefined) balance.setData({ balance: result.balance });
      else balance.reload();
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setBusy(false);
    }
  };

  const params = new URLSearchParams(location.search);

  return (
    <div className="page narrow">
      <h1>Top up</h1>
      {params.get('topup') === 'success' && (
        <p className="notice-ok" role="status">
          Payment received — your balance updates as soon as Stripe confirms it (usually a few seconds).
        </p>
      )}
      {params.get('topup') === 'cancelled' && (
        <p className="notice-warn" role="status">
          The payment was cancelled; nothing was charged.
        </p>
      )}
      <section className="card">
        <p className="muted">Current balance</p>
        <p className="balance" data-testid="balance">
          {balance.data ? formatUsd(balance.data.balance) : '…'}
        </p>
      </section>
      {info.loading && !info.data ? (
        <Loading what="payment options" />
      ) : info.error || !info.data ? (
        <ErrorBox message={`We could not load the payment options: ${info.error}`} onRetry={info.reload} />
      ) : info.data.provider === 'none' ? (
        <section className="card" role="status">
          <p>Online top-ups are not available on this server yet. Use “Chat with us” and we will add funds for you.</p>
        </section>
      ) : (
        <form className="card form" onSubmit={submit}>
          {info.data.provider === 'demo' ? (
            <div className="demo-banner" role="note">
              <strong>Demo payment</strong> — this server has no payment provider configured. Top-ups are credited instantly and no
              money moves.
            </div>
          ) : (
            <p className="muted">You pay securely on Stripe's checkout page and come back here afterwards.</p>
          )}
          <label className="field">
            <span>Amount in USD</span>
            <input
              type="number"
              inputMode="decimal"
              min={info.data.min_amount}
              max={info.data.max_amount}
              step="0.01"
              required
              value={amount}
              onChange={(e) => setAmount(e.target.value)}
            />
            <small className="muted">
              Between {formatUsd(info.data.min_amount)} and {formatUsd(info.data.max_amount)}.
            </small>
          </label>
          <div className="row">
            {[5, 10, 25, 50].filter((v) => v >= info.data!.min_amount && v <= info.data!.max_amount).map((v) => (
              <button key={v} type="button" className="btn btn-small btn-ghost" onClick={() => setAmount(String(v))}>
                {formatUsd(v)}
              </button>
            ))}
          </div>
          {error && (
            <p className="form-error" role="alert">
              {error}
            </p>
          )}
          {done && (
            <p className="notice-ok" role="status">
              {done} <Link to="/dashboard">Buy a number</Link>
            </p>
          )}
          <button type="submit" className="btn btn-primary" disabled={busy}>
            {busy ? 'Processing…' : info.data.provider === 'demo' ? 'Add funds (demo payment)' : 'Continue to payment'}
          </button>
        </form>
      )}
    </div>
  );
}
