import type { FastifyBaseLogger } from 'fastify';
import type { SupplyService } from '../modules/supply/supply.service.ts';
import { startJobLoop } from './job-loop.ts';

/**
 * Remote sources: poll stock (GET_SERVICES / getPrices), upstream codes (getStatus), and resend
 * unacknowledged finishes. `afterStockRefresh` runs once the new stock and costs are stored
 * (markup prices follow the costs).
 */
export function startRemoteSupplyJob(supply: SupplyService, intervalMs: number, log: FastifyBaseLogger, afterStockRefresh?: () => Promise<number>) {
  return startJobLoop(
    'remote-supply',
    intervalMs,
    async () =>
      (await supply.refreshRemoteStock()) +
      ((await afterStockRefresh?.()) ?? 0) +
      (await supply.pollUpstreamCodes()) +
      (await supply.notifyRemoteFinishes()),
    log,
  );
}
