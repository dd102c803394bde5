import type { FastifyBaseLogger } from 'fastify';
import type { WebhooksService } from '../modules/webhooks/webhooks.service.ts';
import { startJobLoop } from './job-loop.ts';

/**
 * Sends due webhook deliveries from the outbox and schedules retries. Safe with several
 * instances: each claims its batch with SKIP LOCKED and a lease, so no delivery goes out twice
 * at once.
 */
export function startWebhookDeliveryJob(webhooks: WebhooksService, intervalMs: number, log: FastifyBaseLogger) {
  return startJobLoop(
    'webhook-delivery',
    intervalMs,
    async () => {
      let total = 0;
      for (;;) {
        const count = await webhooks.deliverDue(20);
        total += count;
        if (count < 20) return total;
      }
    },
    log,
  );
}
