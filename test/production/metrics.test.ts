import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { loadConfig } from '../../src/config.ts';
import { type ApiResponse, startTestServer, type TestServer } from '../support/test-server.ts';
import { testTarget } from '../support/test-target.ts';

/**
 * GET /metrics in Prometheus text: behind NOVA_METRICS_TOKEN on the app's port, or without a
 * token on NOVA_METRICS_PORT; off otherwise. The figures come from real purchases, SMS and refunds.
 */

const token = 'metrics-token-0123456789abcdef';

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Prometheus text exposition (0.0.4): `name{label="value",...} number` lines; `#` lines are comments. */
function parseExposition(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    assert.ok(match, `not an exposition line: ${line}`);
    const labels: Record<string, string> = {};
    for (const label of (match[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
      labels[label[1]] = label[2].replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
    }
    const value = match[3] === '+Inf' ? Infinity : match[3] === '-Inf' ? -Infinity : Number(match[3]);
    assert.ok(!Number.isNaN(value) || match[3] === 'NaN', `not a number in: ${line}`);
    samples.push({ name: match[1], labels, value });
  }
  return samples;
}

/** The samples named `name` whose labels include `labels`. */
function find(samples: Sample[], name: string, labels: Record<string, string> = {}): Sample[] {
  return samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
}

/** The value of the one sample named `name` with these labels. */
function valueOf(samples: Sample[], name: string, labels: Record<string, string> = {}): number {
  const found = find(samples, name, labels);
  assert.equal(found.length, 1, `one ${name} ${JSON.stringify(labels)}, found ${found.length}`);
  return found[0].value;
}

async function scrape(url: string, headers: Record<string, string> = { authorization: `Bearer ${token}` }) {
  const response = await fetch(`${url}/metrics`, { headers });
  assert.equal(response.status, 200, await response.clone().text());
  assert.match(response.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
  return parseExposition(await response.text());
}

/** Scrapes until `ready` holds (pub/sub messages and commit listeners may land a moment later). */
async function scrapeUntil(url: string, ready: (samples: Sample[]) => boolean): Promise<Sample[]> {
  const deadline = Date.now() + 3000;
  for (;;) {
    const samples = await scrape(url);
    if (ready(samples) || Date.now() > deadline) return samples;
    await sleep(20);
  }
}

function assertEnvelope(response: ApiResponse, status: number, code: string) {
  assert.equal(response.status, status, JSON.stringify(response.body));
  assert.equal(response.body.ok, false);
  assert.equal(response.body.error.code, code);
  assert.equal(typeof response.body.error.message, 'string');
}

describe('GET /metrics with NOVA_METRICS_TOKEN', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ env: { NOVA_METRICS_TOKEN: token } });
  });
  after(() => server.close());

  it('answers only with the metrics token: 401 envelope without it or with a wrong one, and stays out of the OpenAPI', async () => {
    const { apiKey } = await server.createCompany('1');
    assertEnvelope(await server.api().get('/metrics'), 401, 'unauthorized');
    assertEnvelope(await server.api(`${token}x`).get('/metrics'), 401, 'unauthorized');
    assertEnvelope(await server.api(token.slice(0, -1)).get('/metrics'), 401, 'unauthorized');
    // A customer's API key is not the metrics token.
    const withApiKey = await server.api(apiKey).get('/metrics');
    assertEnvelope(withApiKey, 401, 'unauthorized');
    assert.equal(withApiKey.headers.get('www-authenticate'), 'Bearer realm="metrics"');

    const samples = await scrape(server.url);
    // The process metrics, with our prefix.
    assert.equal(find(samples, 'nova_process_cpu_user_seconds_total').length, 1);
    assert.equal(find(samples, 'nova_nodejs_eventloop_lag_seconds').length, 1);

    const openApi = await server.api().get('/api/v1/openapi.json');
    assert.equal(openApi.status, 200);
    assert.equal(openApi.body.paths['/metrics'], undefined);
  });

  it('shows a purchase, its SMS-to-code latency, a refund, the routes, jobs, provider and event bus after real traffic', async () => {
    const { apiKey } = await server.createCompany('1');
    const { secret, providerId } = await server.createProvider({ countryId: 6, count: 2 });
    const api = server.api(apiKey);

    const first = await api.post('/api/v1/activations', { service_code: 'tg', country_id: 6 });
    const second = await api.post('/api/v1/activations', { service_code: 'tg', country_id: 6 });
    assert.equal(first.status, 201);
    assert.equal(second.status, 201);
    const firstActivation = first.body.data.activation;
    const secondId = second.body.data.activation.id as number;

    // The SMS was received by the provider 7 s before it reached us.
    const receivedAt = new Date(server.clock.now().getTime() - 7000).toISOString();
    const sms = await server
      .api(secret)
      .post('/api/v1/supply/sms', { to: firstActivation.number, from: 'Telegram', text: 'Telegram code: 12345', received_at: receivedAt });
    assert.equal(sms.status, 200, JSON.stringify(sms.body));
    assert.equal(sms.body.data.code, '12345');
    // A second SMS with another code: the activation already had its code, no second observation.
    await server.api(secret).post('/api/v1/supply/sms', { to: firstActivation.number, from: 'Telegram', text: 'Telegram code: 67890' });

    server.clock.advance(server.config.cancelAfterSeconds);
    const cancelled = await api.post(`/api/v1/activations/${secondId}/cancel`);
    assert.equal(cancelled.status, 200, JSON.stringify(cancelled.body));
    assert.equal((await api.get(`/api/v1/activations/${secondId}`)).status, 200);
    assert.equal((await api.get('/api/v1/activations/999999999')).status, 404);
    await server.jobs.sweeper.runOnce();

    // Five activation events were published: created ×2, sms_received ×2, cancelled.
    const samples = await scrapeUntil(server.url, (s) => (find(s, 'nova_event_bus_lag_seconds_count')[0]?.value ?? 0) >= 5);

    // Requests by route pattern, never by raw URL.
    assert.equal(valueOf(samples, 'nova_http_requests_total', { method: 'POST', route: '/api/v1/activations', status_code: '201' }), 2);
    assert.equal(valueOf(samples, 'nova_http_requests_total', { method: 'POST', route: '/api/v1/activations/:id/cancel', status_code: '200' }), 1);
    assert.equal(valueOf(samples, 'nova_http_requests_total', { method: 'GET', route: '/api/v1/activations/:id', status_code: '200' }), 1);
    assert.equal(valueOf(samples, 'nova_http_requests_total', { method: 'GET', route: '/api/v1/activations/:id', status_code: '404' }), 1);
    assert.equal(valueOf(samples, 'nova_http_requests_total', { method: 'POST', route: '/api/v1/supply/sms', status_code: '200' }), 2);
    assert.equal(valueOf(samples, 'nova_http_request_duration_seconds_count', { method: 'POST', route: '/api/v1/activations', status_code: '201' }), 2);
    const routes = new Set(find(samples, 'nova_http_requests_total').map((s) => s.labels.route));
    assert.ok(![...routes].some((route) => /\/\d+(\/|$)/.test(route)), `an id in a route label: ${[...routes].join(' ')}`);

    // Activations by status, read from the database at scrape time.
    assert.equal(valueOf(samples, 'nova_activations', { status: 'sms_received' }), 1);
    assert.equal(valueOf(samples, 'nova_activations', { status: 'cancelled' }), 1);
    assert.equal(valueOf(samples, 'nova_activations', { status: 'waiting' }), 0);
    assert.equal(valueOf(samples, 'nova_metrics_collector_up', { collector: 'activations' }), 1);

    // Money: two purchases at 0.50 USD, one refunded.
    assert.equal(valueOf(samples, 'nova_purchases_total'), 2);
    assert.equal(valueOf(samples, 'nova_purchases_usd_total'), 1);
    assert.equal(valueOf(samples, 'nova_refunds_total'), 1);
    assert.equal(valueOf(samples, 'nova_refunds_usd_total'), 0.5);

    // One SMS → code observation of 7 s (the later code is not a second one).
    assert.equal(valueOf(samples, 'nova_sms_to_code_seconds_count'), 1);
    assert.equal(valueOf(samples, 'nova_sms_to_code_seconds_sum'), 7);
    assert.equal(valueOf(samples, 'nova_sms_to_code_seconds_bucket', { le: '5' }), 0);
    assert.equal(valueOf(samples, 'nova_sms_to_code_seconds_bucket', { le: '10' }), 1);

    // A lag series for every job that runs passes; the sweeper just ran one.
    const loopingJobs = Object.values(server.jobs).filter((job) => job?.observe);
    assert.ok(loopingJobs.length >= 4, `jobs: ${loopingJobs.map((job) => job?.name)}`);
    for (const job of loopingJobs) {
      const lag = valueOf(samples, 'nova_job_lag_seconds', { job: job!.name });
      assert.ok(lag >= 0 && lag < 60, `${job!.name} lag ${lag}`);
    }
    assert.ok(valueOf(samples, 'nova_job_pass_duration_seconds_count', { job: 'expiry-sweeper', outcome: 'ok' }) >= 1);
    assert.ok(valueOf(samples, 'nova_job_lag_seconds', { job: 'expiry-sweeper' }) < 5);

    // The provider: on sale, and the cancelled rental (no SMS) counts as one recent failure.
    const provider = { provider_id: String(providerId) };
    assert.equal(valueOf(samples, 'nova_provider_enabled', provider), 1);
    assert.equal(valueOf(samples, 'nova_provider_recent_failures', provider), 1);
    assert.equal(find(samples, 'nova_provider_enabled', provider)[0].labels.kind, 'http');

    // Every activation event published went through the bus and came back to this instance.
    assert.ok(valueOf(samples, 'nova_event_bus_lag_seconds_count') >= 5);
    assert.ok(valueOf(samples, 'nova_event_bus_lag_seconds_sum') < 5);

    // The pool on PostgreSQL; PGlite is one in-process connection and reports none.
    if (testTarget === 'postgres') {
      assert.equal(valueOf(samples, 'nova_db_pool_max_connections'), 10);
      const open = valueOf(samples, 'nova_db_pool_connections');
      assert.ok(open >= 1 && open <= 10, `open ${open}`);
      assert.ok(valueOf(samples, 'nova_db_pool_idle_connections') <= open);
      assert.equal(valueOf(samples, 'nova_db_pool_waiting_queries'), 0);
    } else {
      assert.equal(find(samples, 'nova_db_pool_connections').length, 0);
    }
  });
});

describe('GET /metrics without a token', () => {
  it('serves /metrics without a token on NOVA_METRICS_PORT only, and nothing else there', async () => {
    const server = await startTestServer({ env: { NOVA_METRICS_PORT: '0' } });
    try {
      assert.ok(server.metricsUrl, 'a metrics listener');
      assert.notEqual(new URL(server.metricsUrl).port, new URL(server.url).port);
      await server.api().get('/healthz');
      const samples = await scrape(server.metricsUrl, {});
      assert.equal(valueOf(samples, 'nova_http_requests_total', { method: 'GET', route: '/healthz', status_code: '200' }), 1);
      assert.equal(find(samples, 'nova_activations').length, 5);

      // Not on the public port, and the metrics port serves nothing but /metrics.
      assertEnvelope(await server.api().get('/metrics'), 404, 'not_found');
      const elsewhere = await fetch(`${server.metricsUrl}/api/v1/balance`);
      assert.equal(elsewhere.status, 404);
      assert.equal(((await elsewhere.json()) as { error: { code: string } }).error.code, 'not_found');
    } finally {
      await server.close();
    }
    // Closed with the server.
    await assert.rejects(fetch(`${server.metricsUrl}/metrics`));
  });

  it('is off without NOVA_METRICS_TOKEN or NOVA_METRICS_PORT', async () => {
    const server = await startTestServer();
    try {
      assert.equal(server.metricsUrl, undefined);
      assertEnvelope(await server.api(token).get('/metrics'), 404, 'not_found');
    } finally {
      await server.close();
    }
  });

  it('refuses a metrics token shorter than 16 characters', () => {
    assert.throws(() => loadConfig({ NOVA_METRICS_TOKEN: 'short' }), /NOVA_METRICS_TOKEN/);
    assert.equal(loadConfig({ NOVA_METRICS_TOKEN: '' }).metrics.token, undefined);
  });
});
