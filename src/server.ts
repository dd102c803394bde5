import type { FastifyInstance } from 'fastify';
import { buildApp, createPubSub, createServices, type Services } from './app.ts';
import { type Clock, systemClock } from './clock.ts';
import type { Config } from './config.ts';
import { type Database, openDatabase } from './db/database.ts';
import { type DemoLogin, seedDemo } from './demo-seed.ts';
import { startControlSocket } from './cli/control-socket.ts';
import { startDemoSmsJob } from './jobs/demo-sms.job.ts';
import { startEmailSenderJob } from './jobs/email-sender.job.ts';
import { startExpirySweeper } from './jobs/expiry-sweeper.job.ts';
import { startRentalExpiryJob } from './jobs/rental-expiry.job.ts';
import type { RunningJob } from './jobs/job-loop.ts';
import { startWebhookDeliveryJob } from './jobs/webhook-delivery.job.ts';
import { startRemoteSupplyJob } from './jobs/remote-supply.job.ts';
import { chatRetentionIntervalMs, startChatRetentionJob } from './jobs/chat-retention.job.ts';
import { retentionPurgeIntervalMs, retentionSettings, startRetentionPurgeJob } from './jobs/retention-purge.job.ts';
import { startMetricsListener } from './http/metrics-endpoint.ts';
import { batchWrites } from './http/write-batching.ts';
import { trackOpenConnections } from './http/open-connections.ts';
import { createAppMetrics } from './metrics.ts';

export interface RunningServer {
  app: FastifyInstance;
  url: string;
  database: Database;
  services: Services;
  jobs: { sweeper: RunningJob; rentalExpiry: RunningJob; demoSms?: RunningJob; webhooks: RunningJob; email: RunningJob; remoteSupply: RunningJob; chatRetention: RunningJob; retentionPurge: RunningJob };
  demoLogin: DemoLogin | null;
  /** The separate /metrics listener (NOVA_METRICS_PORT), when configured. */
  metricsUrl?: string;
  close(): Promise<void>;
}

export interface StartOptions {
  clock?: Clock;
  /** An already open database (tests share one between two instances). */
  database?: Database;
  redisKeyPrefix?: string;
  /** Skip the CLI control socket (tests run many servers on one data folder). */
  controlSocket?: boolean;
}

/** Opens the database (applying migrations), seeds the demo when on, starts jobs and listens. */
export async function startServer(config: Config, options: StartOptions = {}): Promise<RunningServer> {
  const clock = options.clock ?? systemClock;
  const database = options.database ?? (await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir }));
  const services = createServices({ config, database, clock, pubsub: createPubSub(config, options.redisKeyPrefix) });
  const demoLogin = config.demo ? await seedDemo(services, config.dataDir) : null;
  // Only when /metrics is served somewhere: the process metrics start monitors that never stop.
  const metrics =
    config.metrics.token || config.metrics.port !== undefined
      ? createAppMetrics({ database, events: services.events, activations: services.activations, supply: services.supply })
      : undefined;
  const app = await buildApp({ config, database, clock, services, redisKeyPrefix: options.redisKeyPrefix, metrics });

  const jobs = {
    sweeper: startExpirySweeper(services.activations, config.sweepIntervalMs, app.log),
    rentalExpiry: startRentalExpiryJob(services.rentals, config.sweepIntervalMs, app.log),
    demoSms: config.demo ? startDemoSmsJob(services.supply, config.demoSmsDelaySeconds, app.log, services.rentalStock) : undefined,
    webhooks: startWebhookDeliveryJob(services.webhooks, config.webhooks.intervalMs, app.log),
    email: startEmailSenderJob(services.email, config, app.log),
    remoteSupply: startRemoteSupplyJob(services.supply, config.supply.remotePollMs, app.log, () => services.catalog.repriceFromCosts()),
    chatRetention: startChatRetentionJob(services.support, config.chatRetentionDays, chatRetentionIntervalMs, app.log),
    retentionPurge: startRetentionPurgeJob(services, retentionSettings(config), retentionPurgeIntervalMs, app.log),
  };
  for (const job of Object.values(jobs)) if (job) metrics?.watchJob(job);
  const stopControlSocket =
    database.kind === 'pglite' && options.controlSocket !== false ? await startControlSocket(services, config.dataDir) : null;

  const connections = trackOpenConnections(app.server);
  if (config.batchWrites) batchWrites(app.server);
  const address = await app.listen({ port: config.port, host: config.host });
  const url = address.replace('0.0.0.0', 'localhost').replace('[::]', 'localhost');
  const metricsListener =
    metrics && config.metrics.port !== undefined ? await startMetricsListener(metrics, { host: config.host, port: config.metrics.port }) : null;

  return {
    app,
    url,
    database,
    services,
    jobs,
    demoLogin,
    metricsUrl: metricsListener?.url,
    async close() {
      // At once and together: the listener stops taking connections, open long-polls answer with
      // the current state, event streams end, in-flight requests finish, and each job finishes
      // the unit of work it is on. The database goes last: those requests and jobs still use it.
      // A connection is closed as soon as it has no request in flight (closing only the ones idle
      // at the start would leave each answered long-poll's client holding one open, and the
      // server waiting for it), and so is one that never sent a request (see open-connections.ts).
      const closeIdle = setInterval(() => connections.closeWithoutRequest(), 100);
      await Promise.all([
        app.close(),
        jobs.sweeper.stop(),
        jobs.rentalExpiry.stop(),
        jobs.demoSms?.stop(),
        jobs.webhooks.stop(),
        jobs.email.stop(),
        jobs.remoteSupply.stop(),
        jobs.chatRetention.stop(),
        jobs.retentionPurge.stop(),
        stopControlSocket?.(),
        metricsListener?.close(),
      ]).finally(() => clearInterval(closeIdle));
      if (!options.database) await database.close();
    },
  };
}
