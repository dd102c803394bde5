import type { FastifyBaseLogger } from 'fastify';
import type { Config } from '../config.ts';
import type { SupplyService } from '../modules/supply/supply.service.ts';
import type { WebhooksService } from '../modules/webhooks/webhooks.service.ts';
import type { WebSessionsService } from '../modules/web-sessions/web-sessions.service.ts';
import { startJobLoop } from './job-loop.ts';

// Often enough that replay records (kept minutes) do not pile up; each pass is a few indexed deletes.
export const retentionPurgeIntervalMs = 10 * 60 * 1000;

export interface RetentionSettings {
  /** Finished webhook deliveries (the customers' delivery log). */
  webhookLogDays: number;
  /** Receipts of incoming provider webhooks (event ids, SMSHub and upstream ids that drop retries). */
  receiptDays: number;
  /** Gateway replay records (signatures). */
  replaySeconds: number;
}

/**
 * NOVA_WEBHOOK_LOG_RETENTION_DAYS and NOVA_RECEIPT_RETENTION_DAYS, and for replay records twice
 * the allowed clock skew: a gateway signature whose timestamp is up to `skew` ahead of our clock
 * is accepted, and a replay of it passes the timestamp check until `skew` after that timestamp,
 * so up to 2 × skew after we recorded it. Until then the record is what refuses the replay.
 */
export function retentionSettings(config: Config): RetentionSettings {
  return { ...config.retention, replaySeconds: 2 * config.supply.gatewayMaxSkewSeconds };
}

/**
 * Deletes records that have served their purpose: old webhook receipts and replay records,
 * finished webhook deliveries past the log's retention, and sign-ups whose confirmation link
 * expired. Cutoffs come from each service's injected clock. Safe with several instances: the
 * deletes are idempotent, whichever instance runs first does the work.
 */
export function startRetentionPurgeJob(
  services: { supply: SupplyService; webhooks: WebhooksService; webSessions: WebSessionsService },
  settings: RetentionSettings,
  intervalMs: number,
  log: FastifyBaseLogger,
) {
  return startJobLoop(
    'retention-purge',
    intervalMs,
    async () => {
      const receipts = await services.supply.purgeWebhookReceipts({ replaySeconds: settings.replaySeconds, receiptDays: settings.receiptDays });
      const deliveries = await services.webhooks.purgeFinishedDeliveries(settings.webhookLogDays);
      const signUps = await services.webSessions.purgeExpiredSignUps();
      return receipts + deliveries + signUps;
    },
    log,
  );
}
