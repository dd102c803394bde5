import type { FastifyBaseLogger } from 'fastify';
import type { ActivationsService } from '../modules/activations/activations.service.ts';
import { startJobLoop } from './job-loop.ts';

/**
 * Expires waiting activations past their lifetime (with a refund) and completes the ones that
 * got a code. Safe with several instances: each pass locks its rows with SKIP LOCKED.
 */
export function startExpirySweeper(activations: ActivationsService, intervalMs: number, log: FastifyBaseLogger) {
  return startJobLoop(
    'expiry-sweeper',
    intervalMs,
    async () => {
      let total = 0;
      // Drain in batches so a backlog after downtime clears in one pass without one huge transaction.
      for (;;) {
        const count = await activations.sweepExpired(100);
        total += count;
        if (count < 100) return total;
      }
    },
    log,
  );
}
