import { cacheChannel, CoherentCache, idInMessage } from '../../cache/coherent-cache.ts';
import type { DomainEvents } from '../../events/domain-events.ts';
import type { PubSub } from '../../events/pubsub.ts';
import type { Money } from './money.ts';

/** Channel of committed balance changes between instances; each message is JSON `{ companyId }`. */
export const balanceChannel = 'balances';

export interface BalanceReadCache {
  /** The company's balance from memory, or from `load` (which throws for an unknown company: not kept). */
  read(companyId: number, load: () => Promise<Money>): Promise<Money>;
  stats(): { hits: number; misses: number; entries: number };
}

// One entry per company that reads its balance; small numbers, small entries.
const maxEntries = 50_000;
// Only the safety net: every change is announced, so an entry normally goes at the change itself.
const maxAgeMs = 30_000;

/**
 * The per-instance copy behind `GET /balance` (website and compat getBalance too). Every ledger
 * posting records `balance.changed` in its transaction; once committed, this instance forgets
 * the company's entry at once (before the changing request answers) and tells every instance on
 * `balanceChannel`, awaited, so a read on any instance right after sees the new balance.
 * Coherent by invalidation only (never by storing the balance a message carries): a late
 * message costs a database read, never an older balance.
 */
export function createBalanceReadCache(deps: { pubsub: PubSub; events: DomainEvents }): BalanceReadCache {
  const { pubsub, events } = deps;
  const channel = cacheChannel(pubsub, balanceChannel, (message) => {
    const companyId = idInMessage(message, 'companyId');
    if (companyId !== null) cache.invalidate(companyId);
  });
  const cache = new CoherentCache<number, Money>({ maxEntries, maxAgeMs, delivery: channel.delivery });
  events.onCommitted((event) => {
    if (event.type !== 'balance.changed') return;
    cache.invalidate(event.companyId);
    // Returned: the request that changed the balance answers once other instances have the message.
    return pubsub.publish(balanceChannel, JSON.stringify({ companyId: event.companyId })).catch(() => {});
  });
  return {
    read: (companyId, load) => cache.get(companyId, load),
    stats: () => ({ hits: cache.hits, misses: cache.misses, entries: cache.size }),
  };
}
