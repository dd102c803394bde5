import { isUniqueViolation } from '../../db/database.ts';
import { AppError } from '../../http/errors.ts';
import { formatApiTime } from '../../time-format.ts';
import type { Principal } from '../accounts/accounts.service.ts';
import type { Money } from '../billing/money.ts';
import * as reportsRepo from './activation-reports.repo.ts';
import * as repo from './activations.repo.ts';
import type { Activation, ActivationInternals } from './activations.service.ts';

export interface ReuseRequest {
  idempotencyKey?: string;
}

/**
 * POST /activations/{id}/reuse: the same customer takes the number of a completed activation
 * again, for the same service (they re-verify the account they registered with it), as a new
 * activation at today's price. Allowed while the number is still ours and free and the
 * activation finished within `windowSeconds`; refused with `reuse_unavailable` and the reason
 * otherwise (`invalid_state` while the activation itself is still open).
 *
 * Only a completed activation can be reused: a cancelled or expired one never got a code, so
 * no account was made with the number, and reusing it would let a customer keep a number for a
 * service that the once-per-service rule has already spent.
 */
export function createActivationReuse(internals: ActivationInternals, settings: { windowSeconds: number }) {
  const { database, clock, billing, catalog, supply, timing } = internals;

  function replay(existing: Activation, sourceId: number, key: string): Activation {
    if (existing.reusedFrom !== sourceId) {
      throw new AppError('idempotency_conflict', `Idempotency-Key "${key}" was already used for a different purchase (activation ${existing.id})`);
    }
    return existing;
  }

  /** What the activation alone says (no lock needed: a finished activation never changes). */
  function checkSource(source: Activation): void {
    if (source.status === 'waiting' || source.status === 'sms_received') {
      throw new AppError('invalid_state', `Activation ${source.id} is ${source.status}; its number can be reused once it is completed`);
    }
    if (source.status !== 'completed' || !source.finishedAt) {
      throw new AppError(
        'reuse_unavailable',
        `Activation ${source.id} ended without a code (${source.status}); only a completed activation can be reused, buy a new number instead`,
      );
    }
    const until = new Date(source.finishedAt.getTime() + settings.windowSeconds * 1000);
    if (clock.now() > until) {
      throw new AppError(
        'reuse_unavailable',
        `Activation ${source.id} finished at ${formatApiTime(source.finishedAt)} UTC; its number could be reused until ${formatApiTime(until)} UTC. Buy a new number instead`,
      );
    }
  }

  /** Today's price of the service in the country; a pair no longer sold cannot be reused. */
  async function currentPrice(source: Activation): Promise<Money> {
    try {
      return await catalog.priceOf(source.serviceCode, source.countryId);
    } catch (error) {
      if (error instanceof AppError && ['out_of_stock', 'unknown_service', 'unknown_country'].includes(error.code)) {
        throw new AppError('reuse_unavailable', `Service "${source.serviceCode}" is no longer sold in country ${source.countryId}`);
      }
      throw error;
    }
  }

  return async function reuse(principal: Principal, id: number, request: ReuseRequest = {}): Promise<Activation> {
    const key = request.idempotencyKey;
    if (key) {
      const existing = await repo.findByIdempotencyKey(database.db, principal.accountId, key);
      if (existing) return replay(existing, id, key);
    }
    const source = internals.assertVisible(principal, await repo.findActivation(database.db, id), id);
    checkSource(source);
    const price = await currentPrice(source);
    try {
      return await database.transaction(async (tx) => {
        if (key) {
          // Retries of one reuse queue here and answer with the activation the first one made (as buy does).
          await repo.lockIdempotencyKey(tx, principal.accountId, key);
          const existing = await repo.findByIdempotencyKey(tx, principal.accountId, key);
          if (existing) return replay(existing, id, key);
        }
        if (await reportsRepo.numberReportedBad(tx, source.numberId, source.serviceCode)) {
          throw new AppError('reuse_unavailable', `The number ${source.number} was reported as used or blocked for "${source.serviceCode}"; buy a new number instead`);
        }
        // Lock order as in buy: number, activation, then the company's balance row, last. The
        // number never waits: another buyer holding it right now makes the reuse unavailable.
        const held = await supply.reserveNumberForReuse(tx, source.numberId);
        if ('refused' in held) throw new AppError('reuse_unavailable', `${held.refused}; buy a new number instead`);
        const now = clock.now();
        const activation = await repo.insertActivation(tx, {
          companyId: principal.companyId,
          accountId: principal.accountId,
          serviceCode: source.serviceCode,
          countryId: source.countryId,
          operator: held.number.operator,
          numberId: held.number.numberId,
          number: held.number.e164,
          price,
          status: 'waiting',
          idempotencyKey: key ?? null,
          createdAt: now,
          expiresAt: new Date(now.getTime() + timing.lifetimeSeconds * 1000),
          reusedFrom: source.id,
        });
        await supply.assignReusedNumber(tx, { numberId: held.number.numberId, activationId: activation.id, serviceCode: source.serviceCode });
        await internals.announce(tx, activation, 'activation.created', 'waiting');
        await billing.chargePurchase(tx, {
          companyId: principal.companyId,
          amount: price,
          activationId: activation.id,
          reason: `Activation ${activation.id}: reuse of activation ${source.id} (${source.serviceCode} in country ${source.countryId})`,
          endsTransaction: true,
        });
        return activation;
      });
    } catch (error) {
      if (!isUniqueViolation(error)) throw error;
      // A concurrent retry with the same Idempotency-Key won the race: answer with its activation.
      if (key) {
        const existing = await repo.findByIdempotencyKey(database.db, principal.accountId, key);
        if (existing) return replay(existing, id, key);
      }
      // Otherwise the number got an open activation after all (the last line of defence).
      throw new AppError('reuse_unavailable', `The number ${source.number} is in use by another activation; buy a new number instead`);
    }
  };
}
