import { CoherentCache } from '../../cache/coherent-cache.ts';
import type { DomainEvents } from '../../events/domain-events.ts';
import type { ActivationChanges } from './activation-changes.ts';
import type { ActivationRow } from './activations.repo.ts';

export interface CachedMessage {
  id: number;
  sender: string;
  text: string;
  code: string | null;
  receivedAt: Date;
}

/** What a poll answers from: the activation row and its SMS, as one committed state. */
export interface ActivationSnapshot {
  activation: ActivationRow;
  messages: CachedMessage[];
}

export interface ActivationReadCache {
  /** The snapshot of activation `id` (null: no such activation), from memory or from `load`. */
  read(id: number, load: () => Promise<ActivationSnapshot | null>): Promise<ActivationSnapshot | null>;
  /** The snapshot held for `id` when it may be served now (no read, no hit counted). */
  peek(id: number): ActivationSnapshot | undefined;
  /** `read` when memory can answer, without a promise (a hit), or undefined: then `read`. */
  held(id: number): ActivationSnapshot | undefined;
  /**
   * Keeps the snapshot of an activation this instance has just created, called as its purchase
   * commits (an after-commit callback, before any other message can be heard): the buyer's first
   * poll, and its cancel, need no read. Nothing else can have changed it yet: no SMS reaches an
   * activation before its purchase commits.
   */
  rememberCreated(snapshot: ActivationSnapshot): void;
  stats(): { hits: number; misses: number; entries: number };
}

// Polls of the activations open right now; an activation is polled for minutes, then never again.
const maxEntries = 50_000;
// Only the safety net: every change is announced, so an entry normally goes at the change itself.
const maxAgeMs = 30_000;

/**
 * The per-instance copy behind `GET /activations/{id}` (and compat getStatus): whole snapshots,
 * keyed by activation id, whoever asks (the caller checks visibility on every read, cached or
 * not). Coherent by invalidation only, never by storing what a message says, so a late or
 * reordered message can only cost a database read, never bring back older data:
 * - this instance's own commits forget the entry in the committing request, before it answers;
 * - other instances' commits arrive through `changes` (this instance's own come back there too,
 *   marked `fromHere`, and are skipped: forgotten at commit already, and a purchase's own
 *   snapshot, kept at commit by rememberCreated, must not be dropped by its echo);
 * - a read in flight when either happens is not stored (CoherentCache);
 * - while the changes may not arrive (Redis away), reads go to the database.
 */
export function createActivationReadCache(deps: { changes: ActivationChanges; events: DomainEvents }): ActivationReadCache {
  const cache = new CoherentCache<number, ActivationSnapshot | null>({
    maxEntries,
    maxAgeMs,
    delivery: deps.changes.delivery,
    // An unknown id is not kept: anyone could otherwise fill the memory with misses.
    keep: (snapshot) => snapshot !== null,
  });
  deps.changes.onChange((id, fromHere) => {
    if (!fromHere) cache.invalidate(id);
  });
  deps.events.onCommitted((event) => {
    if (event.type.startsWith('activation.') && 'activationId' in event) cache.invalidate(event.activationId);
  });
  return {
    read: (id, load) =>
      cache.get(id, async () => {
        const snapshot = await load();
        if (snapshot) freeze(snapshot);
        return snapshot;
      }),
    peek: (id) => cache.peek(id) ?? undefined,
    held: (id) => cache.getHeld(id) ?? undefined,
    rememberCreated: (snapshot) => cache.remember(snapshot.activation.id, freeze(snapshot)),
    stats: () => ({ hits: cache.hits, misses: cache.misses, entries: cache.size }),
  };
}

/** One object serves many requests: nobody may edit it on the way out. */
function freeze(snapshot: ActivationSnapshot): ActivationSnapshot {
  Object.freeze(snapshot.activation);
  for (const message of snapshot.messages) Object.freeze(message);
  Object.freeze(snapshot.messages);
  return snapshot;
}
