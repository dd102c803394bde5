import { setMaxListeners } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ActivationChanges } from './activation-changes.ts';

/** The longest a client may hold `GET /activations/{id}?wait=N` open, in seconds. */
export const maxWaitSeconds = 60;

// A SUBSCRIBE Redis never confirms (Redis down) must not hold the request: after this long the
// wait goes on anyway and the read at its end still answers with the current state.
const subscribeTimeoutMs = 1000;

export interface ActivationLongPoll {
  /**
   * Reads the activation with `read`; when `settled` says the client has nothing to wait for,
   * answers at once, otherwise waits up to `seconds` for a committed change of that activation
   * (from any instance) and reads it again. Holds no database connection while waiting.
   * Resolves to null when `signal` aborts (the client went away): nobody is left to answer.
   */
  wait<T>(options: {
    activationId: number;
    seconds: number;
    signal: AbortSignal;
    read: () => Promise<T>;
    settled: (snapshot: T) => boolean;
  }): Promise<T | null>;
  /** Ends every wait now (server shutdown): each answers with a fresh read. */
  close(): void;
}

/**
 * Waits ride on the instance's one subscription (`changes`): a waiting request is an entry in a
 * Map by activation id, woken after the read cache has forgotten that activation, so the read
 * that ends the wait sees the change.
 */
export function createActivationLongPoll(changes: ActivationChanges): ActivationLongPoll {
  const closing = new AbortController();
  // Every waiting request listens for shutdown; thousands are normal, not a leak.
  setMaxListeners(0, closing.signal);
  // Once the instance's subscription is confirmed, waits need not race a timer against it.
  let subscribed = false;
  void changes.ready.then(() => (subscribed = true));

  return {
    async wait({ activationId, seconds, signal, read, settled }) {
      // A plain read (no wait) costs no subscription.
      if (seconds <= 0) return read();
      let notify!: (outcome: 'changed') => void;
      const changed = new Promise<'changed'>((resolve) => (notify = resolve));
      // Watch before the first read: a change committed between the read and the watch would
      // otherwise go unheard and the client would wait the whole time for nothing.
      const unwatch = changes.watch(activationId, () => notify('changed'));
      const timers = new AbortController();
      try {
        if (!subscribed) await Promise.race([changes.ready, sleep(subscribeTimeoutMs, undefined, { signal: timers.signal }).catch(() => {})]);
        const first = await read();
        if (settled(first) || closing.signal.aborted) return first;
        const outcome = await Promise.race([
          changed,
          sleep(seconds * 1000, 'timeout' as const, { signal: timers.signal }).catch(() => 'timeout' as const),
          abortOf(signal, 'gone' as const, timers.signal),
          abortOf(closing.signal, 'closing' as const, timers.signal),
        ]);
        if (outcome === 'gone') return null;
        // Read again on timeout too: a message lost on the way must not leave the answer stale.
        return await read();
      } finally {
        timers.abort();
        unwatch();
      }
    },
    close() {
      closing.abort();
    },
  };
}

/** Resolves to `value` when `signal` aborts; its listener goes away when `cleanup` aborts. */
function abortOf<T>(signal: AbortSignal, value: T, cleanup: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.resolve(value);
  return new Promise((resolve) => signal.addEventListener('abort', () => resolve(value), { once: true, signal: cleanup }));
}
