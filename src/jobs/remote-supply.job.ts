import type { FastifyBaseLogger } from 'fastify';
import type { SupplyService } from '../modules/supply/supply.service.ts';
import { startJobLoop } from './job-loop.ts';

/** Remote sources: poll stock (GET_SERVICES / getPrices), upstream codes (getStatus), and resend unacknowledged finishes. */
export function startRemoteSupplyJob(supply: SupplyService, intervalMs: number, log: FastifyBaseLogger) {
  return startJobLoop(
    'remote-supply',
    intervalMs,
    async () => (await supply.refreshRemoteStock()) + (await supply.pollUpstreamCodes()) + (await supply.notifyRemoteFinishes()),
    log,
  );
}
