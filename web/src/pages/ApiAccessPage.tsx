import { useState } from 'react';
import { api, errorMessage, post } from '../api.ts';
import { CopyButton } from '../components/CopyButton.tsx';
import { ErrorBox, Loading } from '../components/States.tsx';
import { WebhooksSection } from '../components/WebhooksSection.tsx';
import { Link } from '../router.tsx';
import { useAsync } from '../use-async.ts';

interface ApiKeyInfo {
  /** null for a key issued before the website kept a sealed copy: regenerate to see one. */
  api_key: string | null;
  rate_limit: { requests_per_second: number; burst: number };
}

export function ApiAccessPage() {
  const key = useAsync(() => api<ApiKeyInfo>('/api/web/api-key'), []);
  const [confirming, setConfirming] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);

  const regenerate = async () => {
    setBusy(true);
    setError(null);
    try {
      const result = await post<{ api_key: string }>('/api/web/api-key/regenerate');
      if (key.data) key.setData({ ...key.data, api_key: result.api_key });
      else key.reload();
      setNotice('New key created. The old key stopped working — update your scripts with the new one.');
      setConfirming(false);
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setBusy(false);
    }
  };

  const shownKey = key.data?.api_key ?? 'YOUR_API_KEY';
  const curl = key.data
    ? `curl -H "Authorization: Bearer ${shownKey}" \\\n  ${location.origin}/api/v1/balance`
    : '';
  const buyCurl = key.data
    ? `curl -X POST -H "Authorization: Bearer ${shownKey}" \\\n  -H "Content-Type: application/json" \\\n  -d '{"service_code":"tg","country_id":6}' \\\n  ${location.origin}/api/v1/activations`
    : '';

  return (
    <div className="page">
      <div className="page-head">
        <div>
          <p className="eyebrow">Profile</p>
          <h1>API access</h1>
          <p className="muted">
            Use this key to buy numbers and read codes from your own code. See the <Link to="/docs">API documentation</Link>.
          </p>
        </div>
      </div>
      {key.loading && !key.data ? (
        <Loading what="your API key" />
      ) : key.error || !key.data ? (
        <ErrorBox message={`We could not load your API key: ${key.error}`} onRetry={key.reload} />
      ) : (
        <>
          <section className="card" aria-labelledby="key-title">
            <h2 id="key-title">Your API key</h2>
            <p className="muted">Keep it secret: anyone with this key can spend your company's balance.</p>
            {key.data.api_key ? (
              <div className="key-row">
                <code className="api-key" data-testid="api-key">
                  {key.data.api_key}
                </code>
                <CopyButton text={key.data.api_key} what="API key" />
              </div>
            ) : (
              <p className="notice-warn">
                Your key was issued before it could be shown here (we store keys hashed). It still works; regenerate it to see and
                copy a new one.
              </p>
            )}
            {notice && (
              <p className="notice-ok" role="status">
                {notice}
              </p>
            )}
            {confirming ? (
              <div className="confirm" role="alertdialog" aria-labelledby="confirm-title" aria-describedby="confirm-text">
                <p id="confirm-title">
                  <strong>Regenerate your API key?</strong>
                </p>
                <p id="confirm-text">The current key stops working at once. Scripts that use it will get 401 until you update them.</p>
                <div className="row">
                  <button type="button" className="btn btn-danger btn-small" disabled={busy} onClick={regenerate}>
                    {busy ? 'Regenerating…' : 'Yes, regenerate'}
                  </button>
                  <button type="button" className="btn btn-small btn-ghost" onClick={() => setConfirming(false)}>
                    Keep the current key
                  </button>
                </div>
              </div>
            ) : (
              <button type="button" className="btn btn-small" onClick={() => { setConfirming(true); setNotice(null); }}>
                Regenerate key
              </button>
            )}
            {error && (
              <p className="form-error" role="alert">
                {error}
              </p>
            )}
          </section>
          <section className="card" aria-labelledby="limit-title">
            <h2 id="limit-title">Rate limit</h2>
            <p data-testid="rate-limit">
              <strong>{key.data.rate_limit.requests_per_second}</strong> requests per second per key, bursts up to{' '}
              <strong>{key.data.rate_limit.burst}</strong>. Over the limit the API answers <code>429 rate_limited</code> with a{' '}
              <code>Retry-After</code> header.
            </p>
          </section>
          <section className="card" aria-labelledby="curl-title">
            <h2 id="curl-title">Try it</h2>
            <p className="muted">Your balance:</p>
            <div className="code-block">
              <pre data-testid="curl-example">{curl}</pre>
              <CopyButton text={curl} what="curl command" />
            </div>
            <p className="muted">Buy a Telegram number in the United States:</p>
            <div className="code-block">
              <pre>{buyCurl}</pre>
              <CopyButton text={buyCurl} what="curl command" />
            </div>
          </section>
        </>
      )}
      <WebhooksSection />
    </div>
  );
}
