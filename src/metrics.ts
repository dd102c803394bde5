import { collectDefaultMetrics, Counter, Gauge, Histogram, type Metric, Registry } from 'prom-client';
import type { Database, PoolUse } from './db/database.ts';
import type { DomainEvents } from './events/domain-events.ts';
import { activationChannel, type PubSub } from './events/pubsub.ts';
import type { RunningJob } from './jobs/job-loop.ts';
import type { ActivationsService } from './modules/activations/activations.service.ts';
import { activationStatuses } from './modules/activations/activations.tables.ts';
import { toUsdNumber } from './modules/billing/money.ts';
import type { SupplyService } from './modules/supply/supply.service.ts';

/**
 * What an operator watches, in Prometheus form (served by src/http/metrics-endpoint.ts). Every
 * app has a registry of its own (tests run many apps in one process). Counters and histograms
 * are fed as things happen (requests, committed domain events, job passes, pub/sub messages);
 * gauges that describe shared state (activations, providers, the pool) are read at scrape time.
 * Labels stay bounded: route patterns, statuses, job and provider names, never ids from URLs.
 */
export interface AppMetrics {
  readonly contentType: string;
  /** Reads the scrape-time gauges, then renders every metric as Prometheus text. */
  scrape(): Promise<string>;
  observeRequest(request: { method: string; route: string; statusCode: number; seconds: number }): void;
  /** Job lag (seconds since the last successful pass) and pass duration of a background job. */
  watchJob(job: RunningJob): void;
  /** Event-bus lag: listens on the activation channel; returns the unsubscribe. */
  watchEventBus(pubsub: PubSub): () => void;
}

const metricPrefix = 'nova_';

// A scrape must answer even when the database hangs: a slow read leaves its gauges empty and
// marks its collector down rather than making Prometheus time out on the whole scrape.
const scrapeReadTimeoutMs = 2_000;

/**
 * The process's own metrics (CPU, memory, event-loop delay, GC). collectDefaultMetrics starts a
 * GC observer and an event-loop monitor that cannot be stopped, and they describe the process,
 * not an app: one set, made on first use, is registered in every app's registry.
 */
let processMetrics: Registry | undefined;
function processMetricsRegistry(): Registry {
  if (!processMetrics) {
    processMetrics = new Registry();
    collectDefaultMetrics({ register: processMetrics, prefix: metricPrefix });
  }
  return processMetrics;
}

export function createAppMetrics(deps: {
  database: Database;
  events: DomainEvents;
  activations: ActivationsService;
  supply: SupplyService;
}): AppMetrics {
  const { database, events, activations, supply } = deps;
  const registry = new Registry();
  // getMetricsAsArray is typed as plain metric objects; at run time they are the Metric instances.
  for (const metric of processMetricsRegistry().getMetricsAsArray()) registry.registerMetric(metric as unknown as Metric);
  const registers = [registry];

  const httpLabels = ['method', 'route', 'status_code'] as const;
  const httpRequests = new Counter({
    name: 'nova_http_requests_total',
    help: 'HTTP requests answered, by method, route pattern and status code',
    labelNames: httpLabels,
    registers,
  });
  const httpDuration = new Histogram({
    name: 'nova_http_request_duration_seconds',
    help: 'Time to answer an HTTP request (long-polls included), by method, route pattern and status code',
    labelNames: httpLabels,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers,
  });

  // Bounded: methods × route patterns × status codes, never raw URLs (see registerRequestMetrics).
  const httpSeries = new Map<string, { requests: ReturnType<typeof httpRequests.labels>; duration: ReturnType<typeof httpDuration.labels> }>();

  const activationsByStatus = new Gauge({
    name: 'nova_activations',
    help: 'Activations in each status, over all companies (read at scrape time)',
    labelNames: ['status'],
    registers,
  });
  const smsToCode = new Histogram({
    name: 'nova_sms_to_code_seconds',
    help: "From an SMS's received time to the moment its activation got the code (first code of each activation)",
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300],
    registers,
  });

  const purchases = new Counter({ name: 'nova_purchases_total', help: 'Activations bought (ledger purchase entries committed)', registers });
  const purchasesUsd = new Counter({ name: 'nova_purchases_usd_total', help: 'USD charged for activations', registers });
  const refunds = new Counter({ name: 'nova_refunds_total', help: 'Activations refunded (cancelled or expired without SMS)', registers });
  const refundsUsd = new Counter({ name: 'nova_refunds_usd_total', help: 'USD refunded for activations', registers });

  const jobLag = new Gauge({
    name: 'nova_job_lag_seconds',
    help: "Seconds since the job's last successful pass (since this instance started it, before the first)",
    labelNames: ['job'],
    registers,
  });
  const jobPassDuration = new Histogram({
    name: 'nova_job_pass_duration_seconds',
    help: 'Duration of one pass of a background job, by outcome (ok or failed)',
    labelNames: ['job', 'outcome'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers,
  });

  // PostgreSQL only: PGlite is one in-process connection, without a pool to report (a gauge
  // without labels would show a misleading 0).
  const poolUse = database.poolUse;
  if (poolUse) {
    const gauge = (name: string, help: string, read: (use: PoolUse) => number) =>
      new Gauge({
        name,
        help,
        registers,
        collect() {
          this.set(read(poolUse()));
        },
      });
    gauge('nova_db_pool_connections', 'PostgreSQL pool: connections open (idle or in use)', (use) => use.total);
    gauge('nova_db_pool_idle_connections', 'PostgreSQL pool: open connections not in use', (use) => use.idle);
    gauge('nova_db_pool_waiting_queries', 'PostgreSQL pool: queries waiting for a free connection', (use) => use.waiting);
    gauge('nova_db_pool_max_connections', 'PostgreSQL pool: the most connections it opens', (use) => use.max);
  }

  const providerLabels = ['provider_id', 'provider', 'kind'] as const;
  const providerEnabled = new Gauge({
    name: 'nova_provider_enabled',
    help: 'Supply provider on sale (1) or disabled (0)',
    labelNames: providerLabels,
    registers,
  });
  const providerFailures = new Gauge({
    name: 'nova_provider_recent_failures',
    help: 'Supply provider failures counting towards its automatic disabling (at NOVA_PROVIDER_MAX_FAILURES): remote sources, failed calls in a row; own numbers, rentals without SMS among the last N finished',
    labelNames: providerLabels,
    registers,
  });

  const eventBusLag = new Histogram({
    name: 'nova_event_bus_lag_seconds',
    help: 'From publishing a committed activation change on the event bus (Redis or in-process) to this instance receiving it',
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers,
  });

  const collectorUp = new Gauge({
    name: 'nova_metrics_collector_up',
    help: 'Whether the last scrape-time read of this collector (activations, providers) succeeded',
    labelNames: ['collector'],
    registers,
  });

  // Counted once the change has committed, on the instance that made it (sum over instances).
  events.onCommitted((event) => {
    if (event.type === 'balance.changed') {
      if (event.entry.kind === 'purchase') {
        purchases.inc();
        purchasesUsd.inc(toUsdNumber(-event.entry.amount));
      } else if (event.entry.kind === 'refund') {
        refunds.inc();
        refundsUsd.inc(toUsdNumber(event.entry.amount));
      }
    } else if (event.type === 'activation.sms_received' && event.codeSmsReceivedAt) {
      // A provider's clock may run ahead of ours: never a negative latency.
      smsToCode.observe(Math.max(0, event.at.getTime() - event.codeSmsReceivedAt.getTime()) / 1000);
    }
  });

  const watchedJobs = new Map<string, { since: number; lastSuccessAt: number | null }>();

  async function readWithin<T>(collector: string, read: () => Promise<T>): Promise<T | null> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error('timed out')), scrapeReadTimeoutMs)));
    try {
      const value = await Promise.race([read(), timeout]);
      collectorUp.set({ collector }, 1);
      return value;
    } catch {
      collectorUp.set({ collector }, 0);
      return null;
    } finally {
      clearTimeout(timer);
    }
  }

  async function refreshScrapeTimeGauges() {
    const now = Date.now();
    for (const [job, state] of watchedJobs) jobLag.set({ job }, (now - (state.lastSuccessAt ?? state.since)) / 1000);

    const [counts, providers] = await Promise.all([
      readWithin('activations', () => activations.countByStatus()),
      readWithin('providers', () => supply.providerFailures()),
    ]);
    activationsByStatus.reset();
    if (counts) for (const status of activationStatuses) activationsByStatus.set({ status }, counts.get(status) ?? 0);
    // Reset first: a deleted or renamed provider must not linger as a stale series.
    providerEnabled.reset();
    providerFailures.reset();
    for (const provider of providers ?? []) {
      const labels = { provider_id: String(provider.providerId), provider: provider.name, kind: provider.kind };
      providerEnabled.set(labels, provider.enabled ? 1 : 0);
      providerFailures.set(labels, provider.recentFailures);
    }
  }

  return {
    contentType: registry.contentType,
    async scrape() {
      await refreshScrapeTimeGauges();
      return registry.metrics();
    },
    observeRequest({ method, route, statusCode, seconds }) {
      // The series of one method, route and status, looked up by one string: prom-client would
      // otherwise sort and join the labels into its key twice on every answer.
      const name = `${method} ${statusCode} ${route}`;
      let series = httpSeries.get(name);
      if (!series) {
        const labels = { method, route, status_code: String(statusCode) };
        series = { requests: httpRequests.labels(labels), duration: httpDuration.labels(labels) };
        httpSeries.set(name, series);
      }
      series.requests.inc();
      series.duration.observe(seconds);
    },
    watchJob(job) {
      // A stand-in that runs no passes has no lag to show.
      if (!job.observe) return;
      const state = { since: Date.now(), lastSuccessAt: null as number | null };
      watchedJobs.set(job.name, state);
      job.observe((pass) => {
        if (pass.succeeded) state.lastSuccessAt = pass.endedAt;
        jobPassDuration.observe({ job: pass.job, outcome: pass.succeeded ? 'ok' : 'failed' }, pass.durationSeconds);
      });
    },
    watchEventBus(pubsub) {
      return pubsub.subscribe(activationChannel, (message) => {
        let publishedAt: unknown;
        try {
          publishedAt = (JSON.parse(message) as { publishedAt?: unknown }).publishedAt;
        } catch {
          return;
        }
        // Wall clocks of two hosts may differ a little: never a negative lag.
        if (typeof publishedAt === 'number') eventBusLag.observe(Math.max(0, Date.now() - publishedAt) / 1000);
      });
    },
  };
}
