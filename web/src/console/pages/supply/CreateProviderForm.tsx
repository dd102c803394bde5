import { useState } from 'react';
import { CopyButton } from '../../../components/CopyButton.tsx';
import { FormError } from '../../../components/States.tsx';
import { useFormAction } from '../../../use-form-action.ts';
import { Field } from '../../components/Field.tsx';
import { consolePost, parseUsdInput } from '../../console-api.ts';
import type { Provider, ProviderCredentials, ProviderKind } from '../../supply-api.ts';

const creatableKinds = ['http', 'android-gateway', 'smshub', 'sms-activate'] as const;
type CreatableKind = (typeof creatableKinds)[number];
const kindLabels: Record<ProviderKind, string> = {
  demo: 'Demo (built in)',
  http: 'HTTP push (modem, script)',
  'android-gateway': 'SMS Gateway for Android',
  smshub: 'SMSHub agent',
  'sms-activate': 'sms-activate upstream',
};

/** The lines of the "shown once" box: secrets with their copy buttons, then the URLs to set up. */
function credentialLines(creds: ProviderCredentials): { label: string; value: string; secret: boolean }[] {
  return [
    ...(creds.secret ? [{ label: 'Secret (send as Authorization: Bearer …)', value: creds.secret, secret: true }] : []),
    ...(creds.signing_key ? [{ label: 'Signing key (set it in the app: Settings → Webhooks)', value: creds.signing_key, secret: true }] : []),
    ...(creds.key ? [{ label: 'Protocol key', value: creds.key, secret: true }] : []),
    ...(creds.webhook_path ? [{ label: 'Webhook path (register it for sms:received)', value: `${location.origin}${creds.webhook_path}`, secret: false }] : []),
    ...(creds.push_path ? [{ label: 'The agent pushes SMS to', value: `${location.origin}${creds.push_path}`, secret: false }] : []),
  ];
}

/** "Add a provider": a local one (HTTP push, SMS Gateway for Android) or an upstream to resell; its secret is shown once. */
export function CreateProviderForm({ onCreated }: { onCreated(): void }) {
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
  const [rentals, setRentals] = useState(false);
  const [created, setCreated] = useState<{ provider: Provider; credentials: ProviderCredentials } | null>(null);
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
      if (rentals) body.rentals = true;
    }
    const result = await consolePost<{ provider: Provider; credentials: ProviderCredentials }>('/supply/providers', body);
    setCreated(result);
    setName('');
    setSigningKey('');
    setKey('');
    setApiKey('');
    onCreated();
  });

  const secretLines = created ? credentialLines(created.credentials) : [];

  return (
    <section className="card" aria-labelledby="create-provider-title">
      <h2 id="create-provider-title">Add a provider</h2>
      <form className="form" onSubmit={onSubmit}>
        <div className="inline-form">
          <Field label="Provider name" grow>
            <input type="text" required maxLength={100} value={name} onChange={(e) => setName(e.target.value)} />
          </Field>
          <Field label="Kind">
            <select value={kind} onChange={(e) => setKind(e.target.value as CreatableKind)}>
              {creatableKinds.map((k) => (
                <option key={k} value={k}>
                  {kindLabels[k]}
                </option>
              ))}
            </select>
          </Field>
        </div>
        {(kind === 'http' || kind === 'android-gateway') && (
          <div className="inline-form">
            <Field label="Cost per number in USD (optional)">
              <input type="text" inputMode="decimal" placeholder="0.05" className="input-small" value={cost} onChange={(e) => setCost(e.target.value)} />
            </Field>
            {kind === 'android-gateway' && (
              <Field label="Signing key already set in the app (optional)" grow>
                <input type="text" value={signingKey} onChange={(e) => setSigningKey(e.target.value)} />
              </Field>
            )}
          </div>
        )}
        {(kind === 'smshub' || kind === 'sms-activate') && (
          <>
            <div className="inline-form">
              <Field label={kind === 'smshub' ? "Agent's URL" : "Upstream's handler_api.php URL"} grow>
                <input type="url" required placeholder="https://agent.example/" value={url} onChange={(e) => setUrl(e.target.value)} />
              </Field>
              <Field label="Countries (our id = theirs)" grow>
                <input type="text" required placeholder="6=usa,16=england" value={countries} onChange={(e) => setCountries(e.target.value)} />
              </Field>
            </div>
            {kind === 'smshub' ? (
              <div className="inline-form">
                <Field label="Protocol key (optional, generated when empty)" grow>
                  <input type="text" value={key} onChange={(e) => setKey(e.target.value)} />
                </Field>
                <Field label="Payout percent (default 80)">
                  <input type="number" min={1} max={100} className="input-small" value={payout} onChange={(e) => setPayout(e.target.value)} />
                </Field>
              </div>
            ) : (
              <div className="inline-form">
                <Field label="Our API key at the upstream" grow>
                  <input type="text" required value={apiKey} onChange={(e) => setApiKey(e.target.value)} />
                </Field>
                <Field label="Markup percent (default 20)">
                  <input type="number" min={0} max={1000} className="input-small" value={markup} onChange={(e) => setMarkup(e.target.value)} />
                </Field>
                <label className="check">
                  <input type="checkbox" checked={rentals} onChange={(e) => setRentals(e.target.checked)} />
                  Also rent its numbers (when no local rentable number is free)
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
