import type { PubSub } from '../events/pubsub.ts';

/** Whether the messages that keep a cache coherent reach this instance (see PubSub.delivery). */
export type Delivery = () => { hearing: boolean; epoch: number };

export interface CoherentCacheOptions<V> {
  /** Bound on memory: past it the oldest entries go first. */
  maxEntries: number;
  /**
   * A safety net, not the coherence mechanism: an entry older than this is read again even if no
   * message said it changed (a message lost on the way cannot leave it stale for longer).
   */
  maxAgeMs: number;
  /** Messages that invalidate entries come from other instances too: no serving from memory while they may be missed. */
  delivery?: Delivery;
  /** Values not worth keeping (an unknown API key: caching misses would let anyone fill memory). */
  keep?: (value: V) => boolean;
  now?: () => number;
}

interface Entry<V> {
  value: V;
  storedAt: number;
}

/** A read from the source in flight; an invalidation meanwhile means its result must not be kept. */
interface Load<V> {
  promise: Promise<V>;
  stale: boolean;
}

/**
 * An in-memory copy of data whose every change is announced (after commit, on every instance),
 * so that reads need not go to the database. The rules that make it exact:
 * - an invalidation removes the entry and marks reads already in flight for that key as stale:
 *   a read that started before the change must not store its (possibly older) result after it;
 * - concurrent misses of one key share one read;
 * - while the announcements may not arrive (Redis away), every read goes to the source, and what
 *   was held is dropped once delivery resumes (`epoch` moved), since messages may have been lost.
 */
export class CoherentCache<K, V> {
  private readonly entries = new Map<K, Entry<V>>();
  private readonly loads = new Map<K, Load<V>>();
  private epoch: number | undefined;
  private readonly now: () => number;
  hits = 0;
  misses = 0;

  constructor(private readonly options: CoherentCacheOptions<V>) {
    this.now = options.now ?? Date.now;
  }

  get size(): number {
    return this.entries.size;
  }

  async get(key: K, load: () => Promise<V>): Promise<V> {
    if (!this.trusted()) {
      this.misses++;
      return load();
    }
    const entry = this.freshEntry(key);
    if (entry) {
      this.hits++;
      return entry.value;
    }
    this.misses++;
    const pending = this.loads.get(key);
    if (pending) return pending.promise;
    const epochAtStart = this.epoch;
    const current: Load<V> = { promise: load(), stale: false };
    this.loads.set(key, current);
    try {
      const value = await current.promise;
      const keep = this.options.keep?.(value) ?? true;
      if (keep && !current.stale && this.epoch === epochAtStart && this.trusted()) this.store(key, value);
      return value;
    } finally {
      if (this.loads.get(key) === current) this.loads.delete(key);
    }
  }

  /** `get` when memory can answer, without a promise: the value held for `key` (a hit), or undefined (nothing counted). */
  getHeld(key: K): V | undefined {
    const value = this.peek(key);
    if (value !== undefined) this.hits++;
    return value;
  }

  /** The value held for `key` when it may be served from memory now, without reading the source (nor counting a hit). */
  peek(key: K): V | undefined {
    return this.trusted() ? this.freshEntry(key)?.value : undefined;
  }

  /**
   * Keeps `value` as the entry of `key`, as a read would: for a value the caller knows is the
   * latest (a row this instance has just committed, with no change of another since possible), so
   * that the next read needs no trip to the source. A read in flight may bring back older data: it
   * is not kept.
   */
  remember(key: K, value: V): void {
    this.invalidate(key);
    if (this.trusted() && (this.options.keep?.(value) ?? true)) this.store(key, value);
  }

  /** The entry changed: forget it, and do not keep what a read already in flight brings back. */
  invalidate(key: K): void {
    this.entries.delete(key);
    const pending = this.loads.get(key);
    if (pending) {
      pending.stale = true;
      this.loads.delete(key);
    }
  }

  /** Forgets every entry `matches` picks; reads in flight (whose values are not known yet) are all marked stale. */
  invalidateWhere(matches: (value: V, key: K) => boolean): void {
    for (const [key, entry] of this.entries) if (matches(entry.value, key)) this.entries.delete(key);
    this.abandonLoads();
  }

  clear(): void {
    this.entries.clear();
    this.abandonLoads();
  }

  private abandonLoads(): void {
    for (const pending of this.loads.values()) pending.stale = true;
    this.loads.clear();
  }

  /** The entry of `key` unless older than the safety-net age. */
  private freshEntry(key: K): Entry<V> | undefined {
    const entry = this.entries.get(key);
    return entry && this.now() - entry.storedAt < this.options.maxAgeMs ? entry : undefined;
  }

  private store(key: K, value: V): void {
    this.entries.delete(key);
    this.entries.set(key, { value, storedAt: this.now() });
    // Map iteration follows insertion order: the first keys are the oldest stored.
    while (this.entries.size > this.options.maxEntries) {
      const oldest = this.entries.keys().next().value as K;
      this.entries.delete(oldest);
    }
  }

  private trusted(): boolean {
    if (!this.options.delivery) return true;
    const { hearing, epoch } = this.options.delivery();
    if (epoch !== this.epoch) {
      // Delivery broke or resumed since the entries were stored: messages may have been missed.
      this.epoch = epoch;
      this.clear();
    }
    return hearing;
  }
}

/**
 * Subscribes `handler` to `channel` for the life of the app and returns the delivery state a
 * CoherentCache fed by that channel must check: hearing only once this subscription is confirmed
 * and while the bus hears.
 */
export function cacheChannel(
  pubsub: PubSub,
  channel: string,
  handler: (message: string) => void,
): { delivery: Delivery; close: () => void; ready: Promise<void> } {
  let confirmed = false;
  const subscription = pubsub.subscribe(channel, handler);
  void subscription.ready.then(() => (confirmed = true));
  return {
    delivery: () => {
      const state = pubsub.delivery();
      return { hearing: confirmed && state.hearing, epoch: state.epoch + (confirmed ? 1 : 0) };
    },
    close: subscription,
    // Long-poll waits for it before its first read (see ActivationChanges.ready).
    ready: subscription.ready,
  };
}

/**
 * The integer `field` of a cache channel's JSON message (`{ "companyId": 7 }`), or null when the
 * message is not JSON or does not carry one: the caller decides what an unreadable message means
 * (ignore it, or forget everything).
 */
export function idInMessage(message: string, field: string): number | null {
  return idIn(fieldsOfMessage(message), field);
}

/** A cache channel's JSON message as its fields, once parsed (null when it is not a JSON object). */
export function fieldsOfMessage(message: string): Record<string, unknown> | null {
  try {
    const fields = JSON.parse(message) as unknown;
    return typeof fields === 'object' ? (fields as Record<string, unknown> | null) : null;
  } catch {
    return null;
  }
}

/** The integer `field` of parsed message fields, or null (see idInMessage). */
export function idIn(fields: Record<string, unknown> | null, field: string): number | null {
  const value = fields?.[field];
  return Number.isInteger(value) ? (value as number) : null;
}
