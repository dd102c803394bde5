import type { FastifyBaseLogger } from 'fastify';
import type { RentalsService } from '../modules/rentals/rentals.service.ts';
import { startJobLoop } from './job-loop.ts';

/**
 * Ends rentals on time: active rentals past expires_at become expired and free their number (no
 * refund). Safe with several instances: each rental is ended in its own transaction, locked with
 * SKIP LOCKED, so one instance ends it and the others pass it by.
 */
export function startRentalExpiryJob(rentals: RentalsService, intervalMs: number, log: FastifyBaseLogger) {
  return startJobLoop(
    'rental-expiry',
    intervalMs,
    async () => {
      let total = 0;
      // Drain in batches so a backlog after downtime clears in one pass.
      for (;;) {
        const count = await rentals.sweepExpired(100);
        total += count;
        if (count < 100) return total;
      }
    },
    log,
  );
}
