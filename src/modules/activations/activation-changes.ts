import { cacheChannel, type Delivery, idInMessage } from '../../cache/coherent-cache.ts';
import { activationChannel, type PubSub } from '../../events/pubsub.ts';

/**
 * This instance's one ear on the committed activation changes of every instance
 * (`activationChannel`). Each message is parsed once and routed by activation id: first to the
 * listeners that keep copies coherent (the read cache forgets its entry), then to the requests
 * waiting for that activation (long-poll), found in a Map. A thousand waiting long-polls cost a
 * Map entry each, not a subscription and a JSON parse per message each.
 */
export interface ActivationChanges {
  /** Whether every change reaches this instance now (a cache fed by these changes checks it). */
  delivery: Delivery;
  /** Settles once changes published from now on are sure to arrive (the subscription is confirmed). */
  ready: Promise<void>;
  /** Called for every change, before any waiter of that activation is woken. */
  onChange(listener: (activationId: number) => void): void;
  /** Calls `wake` at each change of `activationId` until the returned function is called. */
  watch(activationId: number, wake: () => void): () => void;
  /** How many watches are open now (tests, metrics). */
  watching(): number;
}

export function createActivationChanges(pubsub: PubSub): ActivationChanges {
  const listeners: ((activationId: number) => void)[] = [];
  const waiters = new Map<number, Set<() => void>>();
  let open = 0;

  const channel = cacheChannel(pubsub, activationChannel, (message) => {
    const activationId = idInMessage(message, 'activationId');
    // Not ours to judge: a malformed message is about no activation.
    if (activationId === null) return;
    for (const listener of listeners) {
      try {
        listener(activationId);
      } catch {
        // One broken listener must not keep the change from the others.
      }
    }
    const woken = waiters.get(activationId);
    if (!woken) return;
    // A copy: a waiter woken here stops watching, which edits the set.
    for (const wake of [...woken]) wake();
  });

  return {
    delivery: channel.delivery,
    ready: channel.ready,
    onChange: (listener) => void listeners.push(listener),
    watch(activationId, wake) {
      let set = waiters.get(activationId);
      if (!set) waiters.set(activationId, (set = new Set()));
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
        if (set.size === 0 && waiters.get(activationId) === set) waiters.delete(activationId);
      };
    },
    watching: () => open,
  };
}
