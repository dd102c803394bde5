import { randomUUID } from 'node:crypto';
import { cacheChannel, type Delivery, fieldsOfMessage, idIn } from '../cache/coherent-cache.ts';
import type { PubSub } from './pubsub.ts';

/**
 * This instance's one ear on a channel of committed changes of every instance (activations,
 * rentals): each message is parsed once and routed by the id it names (`idField`), first to the
 * listeners that keep copies coherent (a read cache forgets its entry), then to the requests
 * waiting for that id (long-poll, live streams), found in a Map. A thousand waiting requests cost
 * a Map entry each, not a subscription and a JSON parse per message each.
 */
export interface ChangesById {
  /** Whether every change reaches this instance now (a cache fed by these changes checks it). */
  delivery: Delivery;
  /** Settles once changes published from now on are sure to arrive (the subscription is confirmed). */
  ready: Promise<void>;
  /**
   * Stamped as `origin` on the messages this instance publishes, so that a listener can tell its
   * own changes come back (`fromHere`) from those of other instances.
   */
  origin: string;
  /** Called for every change, before any waiter of that id is woken. */
  onChange(listener: (id: number, fromHere: boolean) => void): void;
  /** Calls `wake` at each change of `id` until the returned function is called. */
  watch(id: number, wake: () => void): () => void;
  /** How many watches are open now (tests, metrics). */
  watching(): number;
}

export function createChangesById(pubsub: PubSub, channelName: string, idField: string): ChangesById {
  const listeners: ((id: number, fromHere: boolean) => void)[] = [];
  const waiters = new Map<number, Set<() => void>>();
  const origin = randomUUID();
  let open = 0;

  const channel = cacheChannel(pubsub, channelName, (message) => {
    const fields = fieldsOfMessage(message);
    const id = idIn(fields, idField);
    // Not ours to judge: a malformed message is about nothing we hold.
    if (id === null) return;
    for (const listener of listeners) {
      try {
        listener(id, fields?.origin === origin);
      } catch {
        // One broken listener must not keep the change from the others.
      }
    }
    const woken = waiters.get(id);
    if (!woken) return;
    // A copy: a waiter woken here stops watching, which edits the set.
    for (const wake of [...woken]) wake();
  });

  return {
    origin,
    delivery: channel.delivery,
    ready: channel.ready,
    onChange: (listener) => void listeners.push(listener),
    watch(id, wake) {
      let set = waiters.get(id);
      if (!set) waiters.set(id, (set = new Set()));
      // Each watch its own function, so one request watching twice is two watches.
      const entry = () => wake();
      set.add(entry);
      open++;
      let stopped = false;
      return () => {
        if (stopped) return;
        stopped = true;
        open--;
        set.delete(entry);
        if (set.size === 0 && waiters.get(id) === set) waiters.delete(id);
      };
    },
    watching: () => open,
  };
}
