import { cacheChannel, type Delivery, idInMessage } from '../../cache/coherent-cache.ts';
import type { DomainEvents } from '../../events/domain-events.ts';
import type { PubSub } from '../../events/pubsub.ts';

/** Channel of committed rental changes: each message is a JSON RentalEvent (at least its `rentalId`). */
export const rentalChannel = 'rentals';

/**
 * This instance's one ear on the committed rental changes of every instance, routed by rental id
 * to the requests waiting for that rental (long-poll, the website's live stream): as
 * ActivationChanges is for activations, and shaped alike, so the same long-poll drives both.
 * It also publishes this instance's committed rental events on the channel.
 */
export interface RentalChanges {
  delivery: Delivery;
  /** Settles once changes published from now on are sure to arrive (the subscription is confirmed). */
  ready: Promise<void>;
  /** Called for every change, before any waiter of that rental is woken. */
  onChange(listener: (rentalId: number) => void): void;
  /** Calls `wake` at each change of `rentalId` until the returned function is called. */
  watch(rentalId: number, wake: () => void): () => void;
  /** How many watches are open now (tests). */
  watching(): number;
}

export function createRentalChanges(pubsub: PubSub, events: DomainEvents): RentalChanges {
  const listeners: ((rentalId: number) => void)[] = [];
  const waiters = new Map<number, Set<() => void>>();
  let open = 0;

  const channel = cacheChannel(pubsub, rentalChannel, (message) => {
    const rentalId = idInMessage(message, 'rentalId');
    if (rentalId === null) return;
    for (const listener of listeners) {
      try {
        listener(rentalId);
      } catch {
        // One broken listener must not keep the change from the others.
      }
    }
    const woken = waiters.get(rentalId);
    if (!woken) return;
    // A copy: a waiter woken here stops watching, which edits the set.
    for (const wake of [...woken]) wake();
  });

  // After commit only: a waiter woken by a change that rolls back would read nothing new.
  // Returned, not dropped: the request that made the change answers once other instances have it.
  events.onCommitted((event) => {
    if ('rentalId' in event) return pubsub.publish(rentalChannel, JSON.stringify(event)).catch(() => {});
  });

  return {
    delivery: channel.delivery,
    ready: channel.ready,
    onChange: (listener) => void listeners.push(listener),
    watch(rentalId, wake) {
      let set = waiters.get(rentalId);
      if (!set) waiters.set(rentalId, (set = new Set()));
      const entry = () => wake();
      set.add(entry);
      open++;
      let stopped = false;
      return () => {
        if (stopped) return;
        stopped = true;
        open--;
        set.delete(entry);
        if (set.size === 0 && waiters.get(rentalId) === set) waiters.delete(rentalId);
      };
    },
    watching: () => open,
  };
}
