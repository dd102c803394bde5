import type { FastifyBaseLogger } from 'fastify';
import type { SupplyService } from '../modules/supply/supply.service.ts';
import { startJobLoop } from './job-loop.ts';

/**
 * Remote sources: poll stock (GET_SERVICES / getPrices), upstream codes (getStatus), and resend
 * unacknowledged finishes. `afterStockRefresh` runs once the new stock and costs are stored
 * (markup prices follow the costs). Safe with several instances: each source's stock poll and
 * each lease's status poll or finish notice is claimed for the length of its call (a lease that
 * runs out if the instance dies), so two instances never make the same call at once; a code
 * enters once under its receipt key, and a finish is marked acknowledged once.
 */
export function startRemoteSupplyJob(supply: SupplyService, intervalMs: number, log: FastifyBaseLogger, afterStockRefresh?: () => Promise<number>) {
  return startJobLoop(
    'remote-supply',
    intervalMs,
    async () =>
      (await supply.refreshRemoteStock()) +
      ((await afterStockRefresh?.()) ?? 0) +
      (await supply.pollUpstreamCodes()) +
      (await supply.upstreamRentals.pollMessages()) +
      (await supply.notifyRemoteFinishes()),
    log,
  );
}
