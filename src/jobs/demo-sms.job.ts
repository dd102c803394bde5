import type { FastifyBaseLogger } from 'fastify';
import type { RentalStock } from '../modules/supply/rental-stock.ts';
import type { SupplyService } from '../modules/supply/supply.service.ts';
import { startJobLoop } from './job-loop.ts';

/**
 * The demo supply's "SIM cards": deliver a realistic SMS to each demo number some seconds after
 * purchase. Safe with several instances: each SMS is stored in the transaction that claims its
 * number (the number's ingestion lock, taken without waiting, then a fresh "no SMS yet" check), so
 * one activation gets one.
 */
export function startDemoSmsJob(supply: SupplyService, delaySeconds: number, log: FastifyBaseLogger, rentalStock?: RentalStock) {
  const intervalMs = Math.min(1000, Math.max(100, (delaySeconds * 1000) / 4));
  // Rented demo numbers get one SMS too, some seconds after renting.
  const pass = async () => (await supply.deliverDemoSms(delaySeconds)) + (rentalStock ? await rentalStock.deliverDemoSms(delaySeconds) : 0);
  return startJobLoop('demo-sms', intervalMs, pass, log);
}
