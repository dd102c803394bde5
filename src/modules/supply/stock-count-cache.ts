import { CoherentCache } from '../../cache/coherent-cache.ts';
import type { Clock } from '../../clock.ts';

/**
 * Free numbers per (service, country), held for a moment. Stock changes with every purchase and
 * finish, so no message could keep a copy exact at a cost below counting; instead each instance
 * counts at most once per `stockCountMaxAgeMs` for the same question (concurrent askers share
 * one count), and forgets its counts at once when a change on this instance makes them wrong
 * (a sale or finish here, numbers or providers switched on or off). So the stock shown is exact
 * after what this instance did, and at most `stockCountMaxAgeMs` behind what others did.
 */

/**
 * How long a count is served from memory, on the app clock (it is also the clock that ends
 * cooldowns and remote-stock freshness): the staleness bound of the stock shown.
 */
export const stockCountMaxAgeMs = 1_000;

type Pair = { serviceCode: string; countryId: number };
export type StockCounts = Map<string, number>;

export interface StockCountCache {
  /** The counts of `pairs`, from memory when counted less than stockCountMaxAgeMs ago. */
  get(pairs: readonly Pair[], count: () => Promise<StockCounts>): Promise<StockCounts>;
  /** The counts of `pairs` when memory holds them (no promise), or undefined: then `get`. */
  getHeld(pairs: readonly Pair[]): StockCounts | undefined;
  /** Stock changed on this instance: the next question is counted afresh. */
  forget(): void;
  /** How many counts reached the database (tests, metrics). */
  loads(): number;
}

export function createStockCountCache(clock: Clock): StockCountCache {
  // Keyed by the whole question (the pairs one request asks for): a /prices filter, the full
  // list, a console grid. Past the bound the oldest questions go first.
  const cache = new CoherentCache<string, StockCounts>({ maxEntries: 512, maxAgeMs: stockCountMaxAgeMs, now: () => clock.now().getTime() });
  let loads = 0;
  let latest = -Infinity;
  /** The cache key of a question, once the clock is known not to have gone back. */
  function keyOf(pairs: readonly Pair[]): string {
    const now = clock.now().getTime();
    // The clock went back (a corrected system clock): entries stored "later" would not expire in time.
    if (now < latest) cache.clear();
    latest = now;
    // Not sorted: callers ask in a stable order (the catalog's), and sorting a long list costs every request.
    return pairs.map((p) => `${p.serviceCode}:${p.countryId}`).join(',');
  }
  return {
    get(pairs, count) {
      return cache.get(keyOf(pairs), () => {
        loads++;
        return count();
      });
    },
    getHeld: (pairs) => cache.getHeld(keyOf(pairs)),
    forget: () => cache.clear(),
    loads: () => loads,
  };
}
