import { isDeepStrictEqual } from 'node:util';
import type { ChangesById } from './changes-by-id.ts';

/** The longest a client may hold a long-poll (`GET /activations/{id}?wait=N`, `GET /rentals/{id}?wait=N`) open, in seconds. */
export const maxWaitSeconds = 60;

// A SUBSCRIBE Redis never confirms (Redis down) must not hold the request: after this long the
// wait goes on anyway and the read at its end still answers with the current state.
const subscribeTimeoutMs = 1000;

export interface LongPoll {
  /**
   * Reads the thing (an activation, a rental) with `read`; when `settled` says the client has nothing to wait for,
   * answers at once, otherwise waits up to `seconds` for a committed change of that id
   * (from any instance) and reads it again, answering once that read differs from the last one. Holds no database connection while waiting.
   * Resolves to null when `signal` aborts (the client went away): nobody is left to answer.
   */
  wait<T>(options: {
    id: number;
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
export function createLongPoll(changes: ChangesById): LongPoll {
  // Every wait in progress, to end at shutdown: a Set entry each, not a listener on a shared signal.
  const waiting = new Set<(outcome: 'closing') => void>();
  let closed = false;
  // Once the instance's subscription is confirmed, waits need not race a timer against it.
  let subscribed = false;
  void changes.ready.then(() => (subscribed = true));

  return {
    async wait({ id, seconds, signal, read, settled }) {
      // A plain read (no wait) costs no subscription.
      if (seconds <= 0) return read();
      // One callback settles the wait, whichever comes first: a change, the timeout, the client
      // leaving, shutdown. A thousand waiting requests each hold this closure, a Map entry, a Set
      // entry and one timer (not four promises and an AbortController each: memory is the limit).
      let outcome: 'changed' | 'timeout' | 'gone' | 'closing' | null = null;
      let wake: (() => void) | null = null;
      const settle = (value: NonNullable<typeof outcome>) => {
        if (outcome !== null) return;
        outcome = value;
        wake?.();
      };
      const onGone = () => settle('gone');
      // Watch before the first read: a change committed between the read and the watch would
      // otherwise go unheard and the client would wait the whole time for nothing.
      const unwatch = changes.watch(id, () => settle('changed'));
      let timer: NodeJS.Timeout | undefined;
      try {
        if (!subscribed) await waitForSubscription(changes.ready);
        const first = await read();
        if (settled(first) || closed) return first;
        waiting.add(settle);
        signal.addEventListener('abort', onGone, { once: true });
        if (signal.aborted) settle('gone');
        timer = setTimeout(() => settle('timeout'), seconds * 1000);
        for (let shown = first; ; ) {
          if (outcome === null) {
            await new Promise<void>((resolve) => {
              wake = resolve;
              if (outcome !== null) resolve();
            });
          }
          const woken: string | null = outcome;
          if (woken === 'gone') return null;
          // Listening again before the read: a change committed while it runs wakes the next round.
          if (woken === 'changed') outcome = null;
          // Read again on timeout too: a message lost on the way must not leave the answer stale.
          const next = await read();
          // A wake whose read shows nothing new (a message about a change the first read already
          // showed, such as this instance's own echo over Redis of a purchase made just before)
          // lets the wait go on.
          if (woken !== 'changed' || closed || settled(next) || !isDeepStrictEqual(shown, next)) return next;
          shown = next;
        }
      } finally {
        clearTimeout(timer);
        waiting.delete(settle);
        signal.removeEventListener('abort', onGone);
        unwatch();
      }
    },
    close() {
      closed = true;
      for (const settle of waiting) settle('closing');
    },
  };
}

/** The instance's subscription confirmed, or `subscribeTimeoutMs` passed (Redis down): the wait goes on either way. */
async function waitForSubscription(ready: Promise<unknown>): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([ready, new Promise<void>((resolve) => (timer = setTimeout(resolve, subscribeTimeoutMs)))]);
  clearTimeout(timer);
}
