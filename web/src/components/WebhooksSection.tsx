import { type FormEvent, useState } from 'react';
import { api, errorMessage, formatLocalTime, formatUsd, post } from '../api.ts';
import { useSession } from '../session.tsx';
import { useAsync } from '../use-async.ts';
import { CopyButton } from './CopyButton.tsx';
import { Empty, ErrorBox, Loading } from './States.tsx';

// Shapes of /api/web/webhooks* (docs/web-api.md), the same JSON as API v1's /webhooks.
const eventTypes = [
  'activation.sms_received',
  'activation.expired',
  'activation.cancelled',
  'activation.reported',
  'rental.message_received',
  'rental.expired',
  'balance.low',
] as const;
type EventType = (typeof eventTypes)[number];

interface Webhook {
  id: number;
  url: string;
  events: EventType[];
  balance_low_threshold: number;
  created_at: string;
}

interface Delivery {
  id: number;
  event_id: string;
  event: EventType;
  status: 'pending' | 'delivered' | 'failed';
  attempts: number;
  last_response_code: number | null;
  last_error: string | null;
  created_at: string;
  resend_of: number | null;
}

const eventLabels: Record<EventType, string> = {
  'activation.sms_received': 'SMS received',
  'activation.expired': 'Activation expired',
  'activation.cancelled': 'Activation cancelled',
  'activation.reported': 'Number reported',
  'rental.message_received': 'Rental SMS received',
  'rental.expired': 'Rental expired',
  'balance.low': 'Balance low',
};

/** One line each: when the event is sent (docs/web-api.md, README "Webhooks"). */
const eventDescriptions: Record<EventType, string> = {
  'activation.sms_received': 'An SMS reached one of your activations.',
  'activation.expired': 'An activation ran out of time (refunded when no code came).',
  'activation.cancelled': 'An activation was cancelled (or reported used/blocked) and refunded.',
  'activation.reported': 'One of your activations was reported (used, blocked, no SMS, other); a refunded report also sends activation.cancelled.',
  'rental.message_received': 'An SMS reached one of your rented numbers.',
  'rental.expired': 'A rental reached its end time; the number was released.',
  'balance.low': 'Your balance fell below the threshold.',
};

const statusClass: Record<Delivery['status'], string> = { delivered: 'badge-ok', pending: 'status-waiting', failed: 'badge-danger' };

function DeliveryLog({ webhook }: { webhook: Webhook }) {
  const log = useAsync(() => api<{ deliveries: Delivery[] }>(`/api/web/webhooks/${webhook.id}/deliveries?limit=20`), [webhook.id]);
  const [busy, setBusy] = useState<number | null>(null);
  const [error, setError] = useState<string | null>(null);

  const resend = async (delivery: Delivery) => {
    setBusy(delivery.id);
    setError(null);
    try {
      await post(`/api/web/webhooks/deliveries/${delivery.id}/resend`);
      log.reload();
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setBusy(null);
    }
  };

  return (
    <div className="webhook-log" data-testid={`deliveries-${webhook.id}`}>
      <div className="row">
        <h3>Delivery log</h3>
        <button type="button" className="btn btn-small btn-ghost" onClick={log.reload}>
          Refresh
        </button>
      </div>
      {error && (
        <p className="form-error" role="alert">
          {error}
        </p>
      )}
      {log.loading && !log.data ? (
        <Loading what="deliveries" />
      ) : log.error || !log.data ? (
        <ErrorBox message={`We could not load the deliveries: ${log.error}`} onRetry={log.reload} />
      ) : log.data.deliveries.length === 0 ? (
        <Empty title="No deliveries yet.">
          <p className="muted">Events you subscribed to appear here as they are sent.</p>
        </Empty>
      ) : (
        <div className="table-wrap">
          <table className="table compact" aria-label={`Deliveries to ${webhook.url}`}>
            <thead>
              <tr>
                <th scope="col">Event</th>
                <th scope="col">Status</th>
                <th scope="col" className="num">Attempts</th>
                <th scope="col" className="num">Response</th>
                <th scope="col">Time</th>
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {log.data.deliveries.map((d) => (
                <tr key={d.id} data-delivery-id={d.id}>
                  <td>
                    <code>{d.event}</code>
                    {d.resend_of !== null && <span className="badge badge-muted">resent</span>}
                  </td>
                  <td>
                    <span className={`badge ${statusClass[d.status]}`} title={d.last_error ?? undefined}>
                      {d.status}
                    </span>
                  </td>
                  <td className="num">{d.attempts}</td>
                  <td className="num">{d.last_response_code ?? '—'}</td>
                  <td>{formatLocalTime(d.created_at)}</td>
                  <td>
                    <button type="button" className="btn btn-small" disabled={busy !== null} onClick={() => resend(d)}>
                      {busy === d.id ? 'Resending…' : 'Resend'}
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}

function WebhookItem({ webhook, onDeleted }: { webhook: Webhook; onDeleted(): void }) {
  const [showLog, setShowLog] = useState(false);
  const [confirming, setConfirming] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const remove = async () => {
    setBusy(true);
    setError(null);
    try {
      await post(`/api/web/webhooks/${webhook.id}/delete`);
      onDeleted();
    } catch (e) {
      setError(errorMessage(e));
      setBusy(false);
    }
  };

  return (
    <li className="webhook" data-webhook-url={webhook.url}>
      <div className="webhook-head">
        <div>
          <code className="webhook-url">{webhook.url}</code>
          <p className="muted small">
            {webhook.events
              .map((e) => (e === 'balance.low' ? `${e} (below ${formatUsd(webhook.balance_low_threshold)})` : e))
              .join(', ')}{' '}
            · added {formatLocalTime(webhook.created_at)}
          </p>
        </div>
        <div className="row">
          <button type="button" className="btn btn-small btn-ghost" aria-expanded={showLog} onClick={() => setShowLog(!showLog)}>
            {showLog ? 'Hide delivery log' : 'Delivery log'}
          </button>
          {!confirming && (
            <button type="button" className="btn btn-small" onClick={() => setConfirming(true)}>
              Delete
            </button>
          )}
        </div>
      </div>
      {confirming && (
        <div className="confirm" role="alertdialog" aria-label={`Delete ${webhook.url}?`}>
          <p>
            <strong>Delete this endpoint?</strong> No more events are sent to it, including deliveries still waiting for a retry.
          </p>
          <div className="row">
            <button type="button" className="btn btn-danger btn-small" disabled={busy} onClick={remove}>
              {busy ? 'Deleting…' : 'Yes, delete'}
            </button>
            <button type="button" className="btn btn-small btn-ghost" onClick={() => setConfirming(false)}>
              Keep it
            </button>
          </div>
        </div>
      )}
      {error && (
        <p className="form-error" role="alert">
          {error}
        </p>
      )}
      {showLog && <DeliveryLog webhook={webhook} />}
    </li>
  );
}

function AddWebhookForm({ onCreated }: { onCreated(): void }) {
  const [url, setUrl] = useState('');
  const [events, setEvents] = useState<EventType[]>(['activation.sms_received']);
  const [threshold, setThreshold] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [secret, setSecret] = useState<string | null>(null);

  const toggle = (type: EventType, on: boolean) => setEvents((list) => (on ? [...list, type] : list.filter((e) => e !== type)));

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setError(null);
    setSecret(null);
    if (events.length === 0) {
      setError('Choose at least one event.');
      return;
    }
    setBusy(true);
    try {
      const body: { url: string; events: EventType[]; balance_low_threshold?: number } = { url: url.trim(), events };
      if (events.includes('balance.low') && threshold.trim() !== '') body.balance_low_threshold = Number(threshold);
      const result = await post<{ webhook: Webhook & { secret: string } }>('/api/web/webhooks', body);
      setSecret(result.webhook.secret);
      setUrl('');
      setThreshold('');
      onCreated();
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setBusy(false);
    }
  };

  return (
    <form className="form" onSubmit={submit} aria-labelledby="add-webhook-title">
      <h3 id="add-webhook-title">Add an endpoint</h3>
      <label className="field">
        <span>Endpoint URL</span>
        <input type="url" required placeholder="https://example.com/nova/webhook" value={url} onChange={(e) => setUrl(e.target.value)} />
      </label>
      <fieldset>
        <legend className="field">Events</legend>
        <div className="row">
          {eventTypes.map((type) => (
            <label key={type} className="check">
              <input type="checkbox" checked={events.includes(type)} onChange={(e) => toggle(type, e.target.checked)} />
              {eventLabels[type]} <code className="small">{type}</code>
              <span className="small muted"> — {eventDescriptions[type]}</span>
            </label>
          ))}
        </div>
      </fieldset>
      {events.includes('balance.low') && (
        <label className="field">
          <span>Balance-low threshold in USD (optional, default $1.00)</span>
          <input type="number" min="0" step="0.01" placeholder="1.00" value={threshold} onChange={(e) => setThreshold(e.target.value)} />
        </label>
      )}
      <div>
        <button type="submit" className="btn btn-primary" disabled={busy}>
          {busy ? 'Adding…' : 'Add endpoint'}
        </button>
      </div>
      {error && (
        <p className="form-error" role="alert">
          {error}
        </p>
      )}
      {secret && (
        <div className="notice-ok" role="status">
          <p>
            Endpoint added. This is its signing secret: <strong>it is shown only once</strong>. Use it to check the{' '}
            <code>Nova-Signature</code> header of each request.
          </p>
          <div className="key-row">
            <code className="api-key" data-testid="webhook-secret">
              {secret}
            </code>
            <CopyButton text={secret} what="signing secret" />
          </div>
        </div>
      )}
    </form>
  );
}

function OwnerWebhooks() {
  const list = useAsync(() => api<{ webhooks: Webhook[] }>('/api/web/webhooks'), []);
  return (
    <>
      {list.loading && !list.data ? (
        <Loading what="your webhooks" />
      ) : list.error || !list.data ? (
        <ErrorBox message={`We could not load your webhooks: ${list.error}`} onRetry={list.reload} />
      ) : list.data.webhooks.length === 0 ? (
        <Empty title="No webhook endpoints yet." />
      ) : (
        <ul className="webhooks">
          {list.data.webhooks.map((webhook) => (
            <WebhookItem key={webhook.id} webhook={webhook} onDeleted={list.reload} />
          ))}
        </ul>
      )}
      <AddWebhookForm onCreated={list.reload} />
    </>
  );
}

/** Profile → API access: the company's webhook endpoints (owners manage them). */
export function WebhooksSection() {
  const { account } = useSession();
  return (
    <section className="card" aria-labelledby="webhooks-title">
      <h2 id="webhooks-title">Webhooks</h2>
      <p className="muted">
        We POST a signed JSON event to your HTTPS endpoint when a code arrives, an activation expires or is cancelled, or your
        balance runs low. Failed deliveries are retried for 24 hours.
      </p>
      {account?.role === 'owner' ? (
        <OwnerWebhooks />
      ) : (
        <p className="notice-warn" data-testid="webhooks-owner-only">
          Only owners of {account?.company_name ?? 'your company'} manage webhooks. Ask an owner to add or change an endpoint.
        </p>
      )}
    </section>
  );
}
