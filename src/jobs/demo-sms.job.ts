import type { FastifyBaseLogger } from 'fastify';
import type { SupplyService } from '../modules/supply/supply.service.ts';
import { startJobLoop } from './job-loop.ts';

/** The demo supply's "SIM cards": deliver a realistic SMS to each demo number some seconds after purchase. */
export function startDemoSmsJob(supply: SupplyService, delaySeconds: number, log: FastifyBaseLogger) {
  const intervalMs = Math.min(1000, Math.max(100, (delaySeconds * 1000) / 4));
  return startJobLoop('demo-sms', intervalMs, () => supply.deliverDemoSms(delaySeconds), log);
}
