import type { Db } from '../../db/database.ts';
import { AppError } from '../../http/errors.ts';
import type { Principal } from '../accounts/accounts.service.ts';
import * as reportsRepo from './activation-reports.repo.ts';
import type { ActivationReportRow } from './activation-reports.repo.ts';
import * as repo from './activations.repo.ts';
import type { Activation, ActivationInternals } from './activations.service.ts';
import type { ReportReason } from './activations.tables.ts';

export type ActivationReport = ActivationReportRow;

export interface ReportRequest {
  reason: ReportReason;
  note?: string;
}

/**
 * The abuse guard on immediate refunds: a company with at least `minPurchases` purchases in the
 * last 30 days whose refunded reports would then be more than `maxShare` of those purchases
 * gets its report recorded without the refund.
 */
export interface ReportRefundGuard {
  maxShare: number;
  minPurchases: number;
}

const guardWindowMs = 30 * 86_400_000;

/**
 * POST /activations/{id}/report: the customer says the number of a waiting activation is bad.
 * `used` (already registered with the service) and `blocked` (the service refuses it) cancel the
 * activation at once with a full refund, without the cancel delay, unless the abuse guard trips;
 * `no_sms` and `other` are recorded and the activation goes on waiting (the customer may cancel
 * it as usual). Either way the number is never sold again for the service (its use for the
 * service was recorded when it was sold), nor reused for it after a `used`/`blocked` report.
 */
export function createActivationReports(internals: ActivationInternals, guard: ReportRefundGuard) {
  const { database, clock } = internals;

  /** Whether one more refunded report keeps the company within the guard (call with its reports locked). */
  async function refundAllowed(tx: Db, companyId: number): Promise<boolean> {
    const since = new Date(clock.now().getTime() - guardWindowMs);
    const refunded = await reportsRepo.countRefundedReports(tx, companyId, since);
    // Enough purchases to decide: past this many, one more refund stays within the share.
    const cap = guard.maxShare > 0 ? Math.max(guard.minPurchases, Math.ceil((refunded + 1) / guard.maxShare)) : guard.minPurchases;
    const purchases = await reportsRepo.countPurchasesUpTo(tx, companyId, since, cap);
    if (purchases < guard.minPurchases) return true;
    // A hair of tolerance: 0.29 * 100 is 28.999999999999996 in floating point.
    return refunded + 1 <= guard.maxShare * purchases + 1e-9;
  }

  async function report(principal: Principal, id: number, request: ReportRequest): Promise<{ activation: Activation; report: ActivationReport }> {
    const note = request.note?.trim() || null;
    const alreadyReported = () => new AppError('invalid_state', `Activation ${id} was already reported; an activation takes one report`);
    return database.transaction(async (tx) => {
      let activation = internals.assertVisible(principal, await repo.lockActivation(tx, id), id);
      if (activation.status !== 'waiting') {
        throw new AppError('invalid_state', `Activation ${id} is ${activation.status}; only a waiting activation can be reported`);
      }
      if (await reportsRepo.findReport(tx, id)) throw alreadyReported();
      let refunded = false;
      if (reportsRepo.badNumberReasons.includes(request.reason)) {
        // One company's reports one at a time: two at once must not both pass the guard.
        // Lock order: activation, this lock, then (finish) number and balance.
        await reportsRepo.lockCompanyReports(tx, activation.companyId);
        refunded = await refundAllowed(tx, activation.companyId);
      }
      const report = await reportsRepo.insertReport(tx, {
        activationId: activation.id,
        companyId: activation.companyId,
        accountId: principal.accountId,
        numberId: activation.numberId,
        serviceCode: activation.serviceCode,
        reason: request.reason,
        note,
        refunded,
        createdAt: clock.now(),
      });
      if (!report) throw alreadyReported();
      // The same finish as a cancel (refund, number back to stock with its failure counted, the
      // activation.cancelled event), without the cancel delay.
      if (refunded) activation = await internals.finish(tx, activation, 'cancelled');
      // Last, so its webhook shows the activation as the report left it.
      await internals.announce(tx, activation, 'activation.reported', activation.status);
      return { activation, report };
    });
  }

  return {
    report,
    findReportInTransaction: (tx: Db, activationId: number) => reportsRepo.findReport(tx, activationId),
    /** The reports of these activations that `principal` may see (history and CSV), by activation id. */
    async reportsOf(principal: Principal, activationIds: number[]): Promise<Map<number, ActivationReport>> {
      const rows = await reportsRepo.findReportsOf(internals.database.db, activationIds);
      const visible = rows.filter((row) => row.companyId === principal.companyId && (principal.role === 'owner' || row.accountId === principal.accountId));
      return new Map(visible.map((row) => [row.activationId, row]));
    },
  };
}
