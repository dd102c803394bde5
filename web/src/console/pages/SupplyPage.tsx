import { type FormEvent, useEffect, useMemo, useRef, useState } from 'react';
import { CopyButton } from '../../components/CopyButton.tsx';
import { Empty, ErrorBox, FormError, Loading } from '../../components/States.tsx';
import { Pager } from '../../components/Pager.tsx';
import { useAsync } from '../../use-async.ts';
import { useFormAction } from '../../use-form-action.ts';
import { consoleGet, consolePost, errorMessage, formatLocalTime, formatUsd, parseUsdInput } from '../console-api.ts';
import type { ConsolePageProps } from '../console-pages.tsx';
import './operations.css';

// ---- Shapes of /api/console/supply/* (docs/console-api.md, "Supply") ----

type ProviderKind = 'demo' | 'http' | 'android-gateway' | 'smshub' | 'sms-activate';

interface Provider {
  id: number;
  name: string;
  kind: ProviderKind;
  enabled: boolean;
  disabled_reason: string | null;
  disabled_at: string | null;
  last_seen_at: string | null;
  sms_received: number;
  activations_sold: number;
  activations_with_sms: number;
  delivery_rate: number | null;
  median_seconds_to_code: number | null;
  numbers: number;
  numbers_disabled: number;
  numbers_retired: number;
  cost_per_number: number | null;
}

interface PhoneNumber {
  id: number;
  e164: string;
  country_id: number;
  operator: string;
  provider: { id: number; name: string; kind: ProviderKind };
  enabled: boolean;
  retired_at: string | null;
  busy_activation_id: number | null;
  busy_since: string | null;
  cooldown_until: string | null;
  consecutive_failures: number;
  device_id: string | null;
  sim_slot: number | null;
  created_at: string;
}

interface Sms {
  id: number;
  provider: { id: number; name: string };
  number_id: number | null;
  to: string;
  sender: string;
  text: string;
  code: string | null;
  activation_id: number | null;
  received_at: string;
}

interface Rental {
  activation_id: number;
  company: { id: number; name: string } | null;
  service: string;
  country_id: number;
  price: number;
  status: string;
  outcome: string | null;
  rented_at: string;
  first_sms_at: string | null;
  first_code_at: string | null;
  ended_at: string | null;
  supply_cost: number | null;
  sms: { id: number; sender: string; text: string; code: string | null; received_at: string }[];
}

const localKinds: readonly ProviderKind[] = ['demo', 'http', 'android-gateway'];
const creatableKinds = ['http', 'android-gateway', 'smshub', 'sms-activate'] as const;
type CreatableKind = (typeof creatableKinds)[number];
const kindLabels: Record<ProviderKind, string> = {
  demo: 'Demo (built in)',
  http: 'HTTP push (modem, script)',
  'android-gateway': 'SMS Gateway for Android',
  smshub: 'SMSHub agent',
  'sms-activate': 'sms-activate upstream',
};

const percent = (rate: number | null) => (rate === null ? '—' : `${Math.round(rate * 100)}%`);
const seconds = (s: number | null) => (s === null ? '—' : s < 90 ? `${Math.round(s)} s` : `${Math.round(s / 60)} min`);

/** A 400's message names every bad line ("Line 3: …; Line 7: …"): one list item each. */
function splitLineErrors(message: string): string[] {
  const parts = message.split(/;\s*(?=line \d+)/i).map((p) => p.trim());
  return parts.length > 1 || /^line \d+/i.test(message) ? parts : [];
}

// ---------- Providers ----------

function ProviderRow({ provider, onChanged, onImport, onNumbers }: { provider: Provider; onChanged(): void; onImport(id: number): void; onNumbers(id: number): void }) {
  const p = provider;
  const [disabling, setDisabling] = useState(false);
  const [reason, setReason] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const run = async (work: () => Promise<unknown>) => {
    setBusy(true);
    setError(null);
    try {
      await work();
      setDisabling(false);
      setReason('');
      onChanged();
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setBusy(false);
    }
  };

  return (
    <>
      <tr data-provider-id={p.id}>
        <th scope="row">
          {p.name}
          <div className="small muted">
            #{p.id} · {p.kind}
          </div>
        </th>
        <td>
          {p.enabled ? (
            <span className="badge badge-ok">enabled</span>
          ) : (
            <>
              <span className="badge badge-danger">disabled</span>
              <div className="small muted" data-testid="disabled-reason">
                {p.disabled_reason ?? 'no reason given'}
                {p.disabled_at ? ` · since ${formatLocalTime(p.disabled_at)}` : ''}
              </div>
            </>
          )}
        </td>
        <td>{p.last_seen_at ? formatLocalTime(p.last_seen_at) : <span className="muted">never</span>}</td>
        <td className="num">{p.sms_received}</td>
        <td className="num">
          <span className={p.delivery_rate !== null && p.delivery_rate < 0.7 ? 'health-bad' : undefined}>{percent(p.delivery_rate)}</span>
          <div className="small muted">
            {p.activations_with_sms}/{p.activations_sold}
          </div>
        </td>
        <td className="num">{seconds(p.median_seconds_to_code)}</td>
        <td className="num">
          <span data-testid="provider-numbers">{p.numbers}</span>
          <div className="small muted">
            {p.numbers_disabled} disabled · {p.numbers_retired} retired
          </div>
        </td>
        <td className="num">{p.cost_per_number === null ? <span className="muted">from source</span> : formatUsd(p.cost_per_number)}</td>
        <td>
          <div className="row">
            {p.enabled ? (
              <button type="button" className="btn btn-small" aria-label={`Disable ${p.name}`} aria-expanded={disabling} onClick={() => setDisabling(!disabling)}>
                Disable
              </button>
            ) : (
              <button type="button" className="btn btn-small" aria-label={`Enable ${p.name}`} disabled={busy} onClick={() => void run(() => consolePost(`/supply/providers/${p.id}/enable`))}>
                {busy ? 'Enabling…' : 'Enable'}
              </button>
            )}
            {localKinds.includes(p.kind) && (
              <>
                <button type="button" className="btn btn-small btn-ghost" aria-label={`Numbers of ${p.name}`} onClick={() => onNumbers(p.id)}>
                  Numbers
                </button>
                <button type="button" className="btn btn-small btn-ghost" aria-label={`Import numbers for ${p.name}`} onClick={() => onImport(p.id)}>
                  Import numbers
                </button>
              </>
            )}
          </div>
        </td>
      </tr>
      {(disabling || error) && (
        <tr>
          <td colSpan={9}>
            {disabling && (
              <form
                className="inline-form confirm"
                aria-label={`Disable ${p.name}`}
                onSubmit={(e) => {
                  e.preventDefault();
                  void run(() => consolePost(`/supply/providers/${p.id}/disable`, reason.trim() ? { reason: reason.trim() } : {}));
                }}
              >
                <label className="field grow">
                  <span>Why disable {p.name}? (optional)</span>
                  <input type="text" maxLength={500} value={reason} onChange={(e) => setReason(e.target.value)} />
                </label>
                <button type="submit" className="btn btn-danger btn-small" disabled={busy}>
                  {busy ? 'Disabling…' : 'Disable provider'}
                </button>
                <button type="button" className="btn btn-small btn-ghost" onClick={() => setDisabling(false)}>
                  Keep it on sale
                </button>
              </form>
            )}
            <FormError error={error} />
          </td>
        </tr>
      )}
    </>
  );
}

interface Credentials {
  secret?: string;
  signing_key?: string;
  webhook_path?: string;
  key?: string;
  push_path?: string;
}

function CreateProviderForm({ onCreated }: { onCreated(): void }) {
  const [kind, setKind] = useState<CreatableKind>('http');
  const [name, setName] = useState('');
  const [cost, setCost] = useState('');
  const [signingKey, setSigningKey] = useState('');
  const [url, setUrl] = useState('');
  const [countries, setCountries] = useState('');
  const [key, setKey] = useState('');
  const [payout, setPayout] = useState('');
  const [apiKey, setApiKey] = useState('');
  const [markup, setMarkup] = useState('');
  const [created, setCreated] = useState<{ provider: Provider; credentials: Credentials } | null>(null);
  const { busy, error, setError, submit } = useFormAction();

  const onSubmit = submit(async () => {
    setCreated(null);
    const body: Record<string, unknown> = { name: name.trim(), kind };
    if (kind === 'http' || kind === 'android-gateway') {
      if (cost.trim()) {
        const usd = parseUsdInput(cost);
        if (usd === null || usd < 0) {
          setError('The cost per number is an amount in USD, like 0.05.');
          return;
        }
        body.cost_per_number = usd;
      }
    }
    if (kind === 'android-gateway' && signingKey.trim()) body.signing_key = signingKey.trim();
    if (kind === 'smshub' || kind === 'sms-activate') {
      body.url = url.trim();
      const map: Record<string, string> = {};
      for (const pair of countries.split(',').map((s) => s.trim()).filter(Boolean)) {
        const match = /^(\d+)\s*=\s*(.+)$/.exec(pair);
        if (!match) {
          setError(`Countries are OUR_ID=THEIRS pairs separated by commas, e.g. 6=usa,16=england; "${pair}" is not one.`);
          return;
        }
        map[match[1]] = match[2].trim();
      }
      body.countries = map;
    }
    if (kind === 'smshub') {
      if (key.trim()) body.key = key.trim();
      if (payout.trim()) body.payout_percent = Number(payout);
    }
    if (kind === 'sms-activate') {
      body.api_key = apiKey.trim();
      if (markup.trim()) body.markup_percent = Number(markup);
    }
    const result = await consolePost<{ provider: Provider; credentials: Credentials }>('/supply/providers', body);
    setCreated(result);
    setName('');
    setSigningKey('');
    setKey('');
    setApiKey('');
    onCreated();
  });

  const creds = created?.credentials;
  const secretLines: { label: string; value: string; secret: boolean }[] = creds
    ? [
        ...(creds.secret ? [{ label: 'Secret (send as Authorization: Bearer …)', value: creds.secret, secret: true }] : []),
        ...(creds.signing_key ? [{ label: 'Signing key (set it in the app: Settings → Webhooks)', value: creds.signing_key, secret: true }] : []),
        ...(creds.key ? [{ label: 'Protocol key', value: creds.key, secret: true }] : []),
        ...(creds.webhook_path ? [{ label: 'Webhook path (register it for sms:received)', value: `${location.origin}${creds.webhook_path}`, secret: false }] : []),
        ...(creds.push_path ? [{ label: 'The agent pushes SMS to', value: `${location.origin}${creds.push_path}`, secret: false }] : []),
      ]
    : [];

  return (
    <section className="card" aria-labelledby="create-provider-title">
      <h2 id="create-provider-title">Add a provider</h2>
      <form className="form" onSubmit={onSubmit}>
        <div className="inline-form">
          <label className="field grow">
            <span>Provider name</span>
            <input type="text" required maxLength={100} value={name} onChange={(e) => setName(e.target.value)} />
          </label>
          <label className="field">
            <span>Kind</span>
            <select value={kind} onChange={(e) => setKind(e.target.value as CreatableKind)}>
              {creatableKinds.map((k) => (
                <option key={k} value={k}>
                  {kindLabels[k]}
                </option>
              ))}
            </select>
          </label>
        </div>
        {(kind === 'http' || kind === 'android-gateway') && (
          <div className="inline-form">
            <label className="field">
              <span>Cost per number in USD (optional)</span>
              <input type="text" inputMode="decimal" placeholder="0.05" className="input-small" value={cost} onChange={(e) => setCost(e.target.value)} />
            </label>
            {kind === 'android-gateway' && (
              <label className="field grow">
                <span>Signing key already set in the app (optional)</span>
                <input type="text" value={signingKey} onChange={(e) => setSigningKey(e.target.value)} />
              </label>
            )}
          </div>
        )}
        {(kind === 'smshub' || kind === 'sms-activate') && (
          <>
            <div className="inline-form">
              <label className="field grow">
                <span>{kind === 'smshub' ? "Agent's URL" : "Upstream's handler_api.php URL"}</span>
                <input type="url" required placeholder="https://agent.example/" value={url} onChange={(e) => setUrl(e.target.value)} />
              </label>
              <label className="field grow">
                <span>Countries (our id = theirs)</span>
                <input type="text" required placeholder="6=usa,16=england" value={countries} onChange={(e) => setCountries(e.target.value)} />
              </label>
            </div>
            {kind === 'smshub' ? (
              <div className="inline-form">
                <label className="field grow">
                  <span>Protocol key (optional, generated when empty)</span>
                  <input type="text" value={key} onChange={(e) => setKey(e.target.value)} />
                </label>
                <label className="field">
                  <span>Payout percent (default 80)</span>
                  <input type="number" min={1} max={100} className="input-small" value={payout} onChange={(e) => setPayout(e.target.value)} />
                </label>
              </div>
            ) : (
              <div className="inline-form">
                <label className="field grow">
                  <span>Our API key at the upstream</span>
                  <input type="text" required value={apiKey} onChange={(e) => setApiKey(e.target.value)} />
                </label>
                <label className="field">
                  <span>Markup percent (default 20)</span>
                  <input type="number" min={0} max={1000} className="input-small" value={markup} onChange={(e) => setMarkup(e.target.value)} />
                </label>
              </div>
            )}
          </>
        )}
        <div>
          <button type="submit" className="btn btn-primary" disabled={busy}>
            {busy ? 'Creating…' : 'Create provider'}
          </button>
        </div>
        <FormError error={error} />
      </form>
      {created && (
        <div className="secret-once section-gap" role="status" data-testid="provider-credentials">
          <p>
            Provider <strong>{created.provider.name}</strong> (#{created.provider.id}, {created.provider.kind}) created.
            {secretLines.some((l) => l.secret) ? (
              <>
                {' '}
                <strong>The key below is shown only once</strong>: copy it now, it cannot be read again.
              </>
            ) : (
              ' Its numbers are resold when local stock runs out.'
            )}
          </p>
          {secretLines.map((line) => (
            <div key={line.label} className="key-row">
              <span className="small">{line.label}:</span> <code data-testid={line.secret ? 'provider-secret' : undefined}>{line.value}</code>
              <CopyButton text={line.value} what={line.label.split(' (')[0].toLowerCase()} />
            </div>
          ))}
          <button type="button" className="btn btn-small btn-ghost" onClick={() => setCreated(null)}>
            I have copied it
          </button>
        </div>
      )}
    </section>
  );
}

function ImportNumbersForm({ providers, providerId, onProvider, onImported }: { providers: Provider[]; providerId: number | null; onProvider(id: number): void; onImported(): void }) {
  const [csv, setCsv] = useState('');
  const [result, setResult] = useState<{ added: number; skipped: number } | null>(null);
  const [lineErrors, setLineErrors] = useState<string[]>([]);
  const { busy, error, setError, submit } = useFormAction();
  const fileRef = useRef<HTMLInputElement>(null);
  const local = providers.filter((p) => localKinds.includes(p.kind));

  const onSubmit = submit(async () => {
    setResult(null);
    setLineErrors([]);
    if (providerId === null) {
      setError('Choose the provider whose SIMs these numbers are.');
      return;
    }
    if (!csv.trim()) {
      setError('Paste the numbers or choose a CSV file first.');
      return;
    }
    try {
      const answer = await consolePost<{ added: number; skipped: number }>(`/supply/providers/${providerId}/numbers/import`, { csv });
      setResult(answer);
      setCsv('');
      if (fileRef.current) fileRef.current.value = '';
      onImported();
    } catch (e) {
      const lines = splitLineErrors(errorMessage(e));
      if (lines.length > 0) {
        setLineErrors(lines);
        setError(`Nothing was imported: ${lines.length} line${lines.length === 1 ? '' : 's'} need${lines.length === 1 ? 's' : ''} fixing.`);
      } else throw e;
    }
  });

  return (
    <section className="card" id="import-numbers" aria-labelledby="import-numbers-title">
      <h2 id="import-numbers-title">Import numbers</h2>
      <p className="muted small">
        One number per line: <code>e164,country_id[,operator[,device,sim]]</code>, e.g. <code>+12025550100,6</code>. A header row is
        optional. All or nothing: a bad line stops the import. Numbers already known are skipped.
      </p>
      {local.length === 0 ? (
        <p className="notice-warn">Add an HTTP or SMS Gateway for Android provider first: numbers belong to a provider.</p>
      ) : (
        <form className="form" onSubmit={onSubmit}>
          <label className="field">
            <span>Provider for the numbers</span>
            <select value={providerId ?? ''} onChange={(e) => onProvider(Number(e.target.value))}>
              <option value="" disabled>
                Choose a provider…
              </option>
              {local.map((p) => (
                <option key={p.id} value={p.id}>
                  {p.name} (#{p.id}, {p.kind})
                </option>
              ))}
            </select>
          </label>
          <label className="field">
            <span>Numbers (CSV)</span>
            <textarea rows={6} className="mono" placeholder={'e164,country_id,operator\n+12025550100,6\n+12025550101,6,tmobile'} value={csv} onChange={(e) => setCsv(e.target.value)} />
          </label>
          <label className="field">
            <span>Or a CSV file</span>
            <input
              ref={fileRef}
              type="file"
              accept=".csv,text/csv,text/plain"
              onChange={async (e) => {
                const file = e.target.files?.[0];
                if (file) setCsv(await file.text());
              }}
            />
          </label>
          <div>
            <button type="submit" className="btn btn-primary" disabled={busy}>
              {busy ? 'Importing…' : 'Import numbers'}
            </button>
          </div>
          <FormError error={error} />
          {lineErrors.length > 0 && (
            <ul className="line-errors form-error" aria-label="Lines to fix">
              {lineErrors.map((line) => (
                <li key={line}>{line}</li>
              ))}
            </ul>
          )}
          {result && (
            <p className="notice-ok" role="status" data-testid="import-result">
              Added {result.added} number{result.added === 1 ? '' : 's'}, skipped {result.skipped} (already known or repeated in the file).
            </p>
          )}
        </form>
      )}
    </section>
  );
}

function ProvidersTab({ onShowNumbers }: { onShowNumbers(providerId: number): void }) {
  const list = useAsync(() => consoleGet<{ providers: Provider[] }>('/supply/providers'), []);
  const [importProvider, setImportProvider] = useState<number | null>(null);

  if (list.loading && !list.data) return <Loading what="providers" />;
  if (list.error || !list.data) return <ErrorBox message={`We could not load the providers: ${list.error}`} onRetry={list.reload} />;
  const providers = list.data.providers;
  return (
    <div className="stack">
      <section className="card" aria-labelledby="providers-title">
        <div className="card-head">
          <h2 id="providers-title">Providers and their health</h2>
          <button type="button" className="btn btn-small btn-ghost" onClick={list.reload}>
            Refresh
          </button>
        </div>
        {providers.length === 0 ? (
          <Empty title="No providers yet.">
            <p className="muted small">Add one below, then import its numbers.</p>
          </Empty>
        ) : (
          <div className="table-wrap">
            <table className="table compact" aria-label="Providers">
              <thead>
                <tr>
                  <th scope="col">Provider</th>
                  <th scope="col">Status</th>
                  <th scope="col">Last seen</th>
                  <th scope="col" className="num">SMS</th>
                  <th scope="col" className="num">Delivery</th>
                  <th scope="col" className="num">Median to code</th>
                  <th scope="col" className="num">Numbers</th>
                  <th scope="col" className="num">Cost / sale</th>
                  <th scope="col">
                    <span className="visually-hidden">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {providers.map((p) => (
                  <ProviderRow
                    key={p.id}
                    provider={p}
                    onChanged={list.reload}
                    onNumbers={onShowNumbers}
                    onImport={(id) => {
                      setImportProvider(id);
                      document.getElementById('import-numbers')?.scrollIntoView({ block: 'start' });
                    }}
                  />
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>
      <div className="grid-2">
        <ImportNumbersForm providers={providers} providerId={importProvider} onProvider={setImportProvider} onImported={list.reload} />
        <CreateProviderForm onCreated={list.reload} />
      </div>
    </div>
  );
}

// ---------- Numbers ----------

function numberState(n: PhoneNumber): { label: string; className: string } {
  if (n.retired_at) return { label: 'retired', className: 'badge-muted' };
  if (!n.enabled) return { label: 'disabled', className: 'badge-danger' };
  if (n.busy_activation_id !== null) return { label: 'busy', className: 'status-waiting' };
  return { label: 'free', className: 'badge-ok' };
}

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
      {history.loading && !history.data ? (
        <Loading what="the history" />
      ) : history.error || !history.data ? (
        <ErrorBox message={`We could not load the history: ${history.error}`} onRetry={history.reload} />
      ) : (
        <>
          <dl className="facts">
            <dt>Provider</dt>
            <dd>
              {history.data.number.provider.name} ({history.data.number.provider.kind})
            </dd>
            <dt>Country · operator</dt>
            <dd>
              #{history.data.number.country_id} · {history.data.number.operator}
            </dd>
            <dt>State</dt>
            <dd>
              {numberState(history.data.number).label}
              {history.data.number.retired_at ? ` since ${formatLocalTime(history.data.number.retired_at)}` : ''}
              {history.data.number.consecutive_failures > 0 ? ` · ${history.data.number.consecutive_failures} failures in a row` : ''}
            </dd>
            <dt>Added</dt>
            <dd>{formatLocalTime(history.data.number.created_at)}</dd>
          </dl>
          <h3 className="section-gap">Sales</h3>
          {history.data.rentals.length === 0 ? (
            <p className="muted">Never sold.</p>
          ) : (
            <div className="table-wrap">
              <table className="table compact" aria-label="Sales of this number">
                <thead>
                  <tr>
                    <th scope="col">Activation</th>
                    <th scope="col">Company</th>
                    <th scope="col">Service</th>
                    <th scope="col">Rented</th>
                    <th scope="col">Outcome</th>
                    <th scope="col" className="num">Price</th>
                    <th scope="col" className="num">Cost</th>
                    <th scope="col">SMS</th>
                  </tr>
                </thead>
                <tbody>
                  {history.data.rentals.map((r) => (
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
                      <td className="num">{r.supply_cost === null ? '—' : formatUsd(r.supply_cost)}</td>
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
                </tbody>
              </table>
            </div>
          )}
          {history.data.unmatched_sms.length > 0 && (
            <>
              <h3 className="section-gap">SMS that matched no activation</h3>
              <ul className="plain-list">
                {history.data.unmatched_sms.map((s) => (
                  <li key={s.id} className="small">
                    {formatLocalTime(s.received_at)} · <strong>{s.sender}</strong>: {s.text}
                  </li>
                ))}
              </ul>
            </>
          )}
        </>
      )}
    </section>
  );
}

function RetireButton({ number, onRetired }: { number: PhoneNumber; onRetired(): void }) {
  const [confirming, setConfirming] = useState(false);
  const [reason, setReason] = useState('');
  const { busy, error, submit } = useFormAction();
  if (number.retired_at) return null;
  if (!confirming) {
    return (
      <button type="button" className="btn btn-small" aria-label={`Retire ${number.e164}`} onClick={() => setConfirming(true)}>
        Retire
      </button>
    );
  }
  return (
    <form
      className="inline-form confirm"
      aria-label={`Retire ${number.e164}`}
      onSubmit={submit(async () => {
        await consolePost(`/supply/numbers/${number.id}/retire`, reason.trim() ? { reason: reason.trim() } : {});
        setConfirming(false);
        onRetired();
      })}
    >
      <label className="field grow">
        <span>Why retire it? (optional)</span>
        <input type="text" maxLength={500} value={reason} onChange={(e) => setReason(e.target.value)} />
      </label>
      <button type="submit" className="btn btn-danger btn-small" disabled={busy}>
        {busy ? 'Retiring…' : 'Yes, retire'}
      </button>
      <button type="button" className="btn btn-small btn-ghost" onClick={() => setConfirming(false)}>
        Keep it
      </button>
      <FormError error={error} />
    </form>
  );
}

const pageSize = 50;

function NumbersTab({ initialProvider }: { initialProvider: number | null }) {
  const providers = useAsync(() => consoleGet<{ providers: Provider[] }>('/supply/providers'), []);
  const [providerId, setProviderId] = useState<number | null>(initialProvider);
  const [q, setQ] = useState('');
  const [state, setState] = useState('active');
  const [offset, setOffset] = useState(0);
  const [historyOf, setHistoryOf] = useState<number | null>(null);
  const list = useAsync(
    () => consoleGet<{ numbers: PhoneNumber[]; total: number }>('/supply/numbers', { provider_id: providerId, q: q.trim(), state: state === 'all' ? '' : state, limit: pageSize, offset }),
    [providerId, q, state, offset],
  );

  return (
    <div className="stack">
      <section className="card" aria-labelledby="numbers-title">
        <h2 id="numbers-title">Numbers</h2>
        <div className="filters" role="search" aria-label="Filter numbers">
          <label className="field">
            <span>Provider</span>
            <select
              value={providerId ?? ''}
              onChange={(e) => {
                setProviderId(e.target.value ? Number(e.target.value) : null);
                setOffset(0);
              }}
            >
              <option value="">All providers</option>
              {(providers.data?.providers ?? []).map((p) => (
                <option key={p.id} value={p.id}>
                  {p.name}
                </option>
              ))}
            </select>
          </label>
          <label className="field grow">
            <span>Number contains</span>
            <input
              type="search"
              inputMode="tel"
              value={q}
              onChange={(e) => {
                setQ(e.target.value);
                setOffset(0);
              }}
            />
          </label>
          <label className="field">
            <span>State</span>
            <select
              value={state}
              onChange={(e) => {
                setState(e.target.value);
                setOffset(0);
              }}
            >
              <option value="active">Active (not retired)</option>
              <option value="busy">Busy</option>
              <option value="disabled">Disabled</option>
              <option value="retired">Retired</option>
              <option value="all">All</option>
            </select>
          </label>
        </div>
        {list.loading && !list.data ? (
          <Loading what="numbers" />
        ) : list.error || !list.data ? (
          <ErrorBox message={`We could not load the numbers: ${list.error}`} onRetry={list.reload} />
        ) : list.data.numbers.length === 0 ? (
          <Empty title="No numbers match." />
        ) : (
          <>
            <div className="table-wrap">
              <table className="table compact" aria-label="Numbers">
                <thead>
                  <tr>
                    <th scope="col">Number</th>
                    <th scope="col">Provider</th>
                    <th scope="col">Country · operator</th>
                    <th scope="col">State</th>
                    <th scope="col">Added</th>
                    <th scope="col">
                      <span className="visually-hidden">Actions</span>
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {list.data.numbers.map((n) => {
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
                  })}
                </tbody>
              </table>
            </div>
            <Pager label="Numbers pages" offset={offset} limit={pageSize} shown={list.data.numbers.length} total={list.data.total} onOffset={setOffset} />
          </>
        )}
      </section>
      {historyOf !== null && <NumberHistory key={historyOf} numberId={historyOf} onClose={() => setHistoryOf(null)} />}
    </div>
  );
}

// ---------- Incoming SMS ----------

function AttachForm({ sms, onAttached }: { sms: Sms; onAttached(sms: Sms): void }) {
  const [open, setOpen] = useState(false);
  const [activationId, setActivationId] = useState('');
  const { busy, error, setError, submit } = useFormAction();
  if (!open) {
    return (
      <button type="button" className="btn btn-small" aria-label={`Attach SMS ${sms.id} to an activation`} onClick={() => setOpen(true)}>
        Attach to activation
      </button>
    );
  }
  return (
    <form
      className="inline-form"
      aria-label={`Attach SMS ${sms.id}`}
      onSubmit={submit(async () => {
        const id = Number(activationId);
        if (!Number.isInteger(id) || id <= 0) {
          setError('Type the id of the open activation this SMS belongs to.');
          return;
        }
        const result = await consolePost<{ sms: Sms; activation: { id: number; status: string; code: string | null } }>(`/supply/sms/${sms.id}/attach`, { activation_id: id });
        setOpen(false);
        onAttached(result.sms);
      })}
    >
      <label className="field">
        <span>Activation id</span>
        <input type="text" inputMode="numeric" className="input-small" required value={activationId} onChange={(e) => setActivationId(e.target.value)} />
      </label>
      <button type="submit" className="btn btn-primary btn-small" disabled={busy}>
        {busy ? 'Attaching…' : 'Attach'}
      </button>
      <button type="button" className="btn btn-small btn-ghost" onClick={() => setOpen(false)}>
        Cancel
      </button>
      <FormError error={error} />
    </form>
  );
}

function SmsTab() {
  const [unmatchedOnly, setUnmatchedOnly] = useState(false);
  const [rows, setRows] = useState<Sms[] | null>(null);
  const [fresh, setFresh] = useState<Set<number>>(new Set());
  const [next, setNext] = useState<number | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [tick, setTick] = useState(0);
  const [live, setLive] = useState(false);
  const onlyUnmatched = useRef(unmatchedOnly);
  onlyUnmatched.current = unmatchedOnly;

  useEffect(() => {
    let current = true;
    setRows(null);
    consoleGet<{ sms: Sms[]; next_before_id: number | null }>('/supply/sms', { unmatched: unmatchedOnly ? 'true' : '', limit: 50 }).then(
      (data) => {
        if (!current) return;
        setRows(data.sms);
        setNext(data.next_before_id);
        setError(null);
      },
      (e) => current && setError(errorMessage(e)),
    );
    return () => {
      current = false;
    };
  }, [unmatchedOnly, tick]);

  const apply = (sms: Sms, isNew: boolean) => {
    setRows((current) => {
      if (!current) return current;
      const known = current.some((r) => r.id === sms.id);
      // Under "unmatched only" an SMS that got its activation leaves the list.
      if (onlyUnmatched.current && sms.activation_id !== null) return current.filter((r) => r.id !== sms.id);
      if (known) return current.map((r) => (r.id === sms.id ? sms : r));
      return [sms, ...current];
    });
    if (isNew) setFresh((current) => new Set(current).add(sms.id));
  };

  useEffect(() => {
    const source = new EventSource('/api/console/supply/sms/live');
    let dropped = false;
    source.addEventListener('open', () => {
      setLive(true);
      if (dropped) setTick((n) => n + 1);
    });
    source.addEventListener('error', () => {
      dropped = true;
      setLive(false);
    });
    source.addEventListener('sms', (event) => {
      try {
        apply(JSON.parse((event as MessageEvent<string>).data) as Sms, true);
      } catch {
        // A malformed event is skipped.
      }
    });
    return () => source.close();
  }, []);

  const more = async () => {
    if (next === null) return;
    try {
      const data = await consoleGet<{ sms: Sms[]; next_before_id: number | null }>('/supply/sms', { unmatched: unmatchedOnly ? 'true' : '', before_id: next, limit: 50 });
      setRows((current) => [...(current ?? []), ...data.sms.filter((s) => !(current ?? []).some((r) => r.id === s.id))]);
      setNext(data.next_before_id);
    } catch (e) {
      setError(errorMessage(e));
    }
  };

  return (
    <section className="card" aria-labelledby="sms-title">
      <div className="card-head">
        <div>
          <h2 id="sms-title">Incoming SMS</h2>
          <p className="muted small">Every SMS providers push, newest first. Unmatched ones found no open activation: attach them by hand.</p>
        </div>
        <div className="row">
          <label className="check">
            <input type="checkbox" checked={unmatchedOnly} onChange={(e) => setUnmatchedOnly(e.target.checked)} />
            Unmatched only
          </label>
          <span className={`badge ${live ? 'badge-ok' : 'badge-muted'}`} role="status" data-testid="sms-live">
            {live ? 'Live' : 'Connecting…'}
          </span>
        </div>
      </div>
      {error ? (
        <ErrorBox message={`We could not load the SMS: ${error}`} onRetry={() => setTick((n) => n + 1)} />
      ) : !rows ? (
        <Loading what="SMS" />
      ) : rows.length === 0 ? (
        <Empty title={unmatchedOnly ? 'No unmatched SMS.' : 'No SMS yet.'}>
          <p className="muted small">They appear here the moment a provider pushes one.</p>
        </Empty>
      ) : (
        <>
          <div className="table-wrap">
            <table className="table compact" aria-label="Incoming SMS">
              <thead>
                <tr>
                  <th scope="col">Received</th>
                  <th scope="col">To</th>
                  <th scope="col">From</th>
                  <th scope="col">Text</th>
                  <th scope="col">Code</th>
                  <th scope="col">Activation</th>
                </tr>
              </thead>
              <tbody>
                {rows.map((s) => (
                  <tr key={s.id} data-sms-id={s.id} className={fresh.has(s.id) ? 'sms-row-new' : undefined}>
                    <td>
                      {formatLocalTime(s.received_at)}
                      <div className="small muted">{s.provider.name}</div>
                    </td>
                    <td className="mono">{s.to}</td>
                    <td>{s.sender}</td>
                    <td className="sms-text">{s.text}</td>
                    <td className="mono">{s.code ?? '—'}</td>
                    <td>{s.activation_id !== null ? <span className="badge badge-ok">{s.activation_id}</span> : <AttachForm sms={s} onAttached={(updated) => apply(updated, false)} />}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          {next !== null && (
            <button type="button" className="btn btn-small section-gap" onClick={() => void more()}>
              Show older SMS
            </button>
          )}
        </>
      )}
    </section>
  );
}

// ---------- The page ----------

const tabs = [
  { key: 'providers', label: 'Providers' },
  { key: 'numbers', label: 'Numbers' },
  { key: 'sms', label: 'Incoming SMS' },
] as const;
type TabKey = (typeof tabs)[number]['key'];

/** Supply: providers and their health, numbers (import, retire, history) and the live SMS feed. */
export function SupplyPage(_props: ConsolePageProps) {
  const [tab, setTab] = useState<TabKey>('providers');
  const [numbersProvider, setNumbersProvider] = useState<number | null>(null);
  const panelId = useMemo(() => `supply-panel-${tab}`, [tab]);
  return (
    <section className="page ops-page">
      <div className="page-head">
        <div>
          <h1>Supply</h1>
          <p className="muted">Where numbers and codes come from: providers, their numbers and every SMS they push.</p>
        </div>
      </div>
      <div className="tabs" role="tablist" aria-label="Supply">
        {tabs.map((t) => (
          <button
            key={t.key}
            type="button"
            role="tab"
            id={`supply-tab-${t.key}`}
            className="tab"
            aria-selected={tab === t.key}
            aria-controls={`supply-panel-${t.key}`}
            onClick={() => setTab(t.key)}
          >
            {t.label}
          </button>
        ))}
      </div>
      <div role="tabpanel" id={panelId} aria-labelledby={`supply-tab-${tab}`} className="section-gap">
        {tab === 'providers' && (
          <ProvidersTab
            onShowNumbers={(id) => {
              setNumbersProvider(id);
              setTab('numbers');
            }}
          />
        )}
        {tab === 'numbers' && <NumbersTab initialProvider={numbersProvider} />}
        {tab === 'sms' && <SmsTab />}
      </div>
    </section>
  );
}
