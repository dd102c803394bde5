import { EventEmitter } from 'node:events';
import { Redis } from 'ioredis';

/**
 * Messages between app instances: what one instance commits, every instance's waiting clients
 * (long-poll, server-sent events) hear. Redis pub/sub when REDIS_URL is set; in-process otherwise.
 */
/**
 * Channel of committed activation changes; each message is a JSON ActivationEvent plus
 * `publishedAt` (Date.now() at publishing, for the event-bus lag metric).
 */
export const activationChannel = 'activations';

export interface PubSub {
  publish(channel: string, message: string): Promise<void>;
  /**
   * Calls `handler` for each message on `channel` until the returned function is called. Its
   * `ready` settles once messages published from now on are sure to arrive (Redis confirmed the
   * SUBSCRIBE); long-poll waits for it before reading the state it waits to change.
   */
  subscribe(channel: string, handler: (message: string) => void): Subscription;
  /**
   * Whether this instance hears every message now, and a counter that moves whenever that may have
   * stopped being true (the subscriber lost or regained Redis). A cache kept coherent by messages
   * serves from memory only while `delivery().hearing`, and forgets what it held when `epoch` moves:
   * messages may have been missed meanwhile.
   */
  delivery(): { hearing: boolean; epoch: number };
  close(): Promise<void>;
}

export type Subscription = (() => void) & { ready: Promise<void> };

function subscription(unsubscribe: () => void, ready: Promise<void>): Subscription {
  return Object.assign(unsubscribe, { ready });
}

export function createInProcessPubSub(): PubSub {
  const emitter = new EventEmitter();
  // Every waiting request is a listener; thousands are normal, not a leak.
  emitter.setMaxListeners(0);
  return {
    async publish(channel, message) {
      emitter.emit(channel, message);
    },
    subscribe(channel, handler) {
      emitter.on(channel, handler);
      return subscription(() => emitter.off(channel, handler), Promise.resolve());
    },
    delivery: () => ({ hearing: true, epoch: 0 }),
    async close() {
      emitter.removeAllListeners();
    },
  };
}

// How long a publish waits for a connection still being made (process start) before giving up on Redis.
const firstConnectWaitMs = 1000;

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

/** Resolves once `redis` is ready, or after `ms`, whichever comes first. */
function connected(redis: Redis, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      redis.off('ready', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    redis.once('ready', done);
  });
}

export function createRedisPubSub(redisUrl: string, prefix: string): PubSub {
  // Not auto-pipelined: it delays a publish to the next tick, and the instance's own echo of a
  // change then reached a long-poll the client had opened after the change was answered (a
  // `?wait=1` answered at once, unchanged, in a CI run).
  const publisher = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
  // Its channels are subscribed again on every connection below, with the outcome handled: ioredis's
  // own resubscribing would send a second SUBSCRIBE whose promise nobody holds, and a shutdown
  // before Redis confirmed it ended the process with an unhandled rejection ("Connection is closed").
  const subscriber = new Redis(redisUrl, { autoResubscribe: false });
  const local = new EventEmitter();
  local.setMaxListeners(0);
  const counts = new Map<string, number>();
  // The SUBSCRIBE in flight (or done) per channel on the current connection, so a later
  // subscriber waits for it too.
  const subscribed = new Map<string, Promise<void>>();
  // Channels in use whose SUBSCRIBE Redis has not confirmed on the current connection. The
  // connection is 'ready' before that (its SUBSCRIBEs are sent once it is), and a message
  // published in between never comes: nothing may count on hearing until this is empty.
  const unconfirmed = new Set<string>();
  subscriber.on('message', (channel: string, message: string) => local.emit(channel.slice(prefix.length + 1), message));
  // Moves on every change of the subscriber's connection (see PubSub.delivery).
  let epoch = 0;
  function confirmSubscription(channel: string): Promise<void> {
    const connection = epoch;
    unconfirmed.add(channel);
    const done = subscriber.subscribe(`${prefix}:${channel}`).then(
      () => {
        // A confirmation from an earlier connection says nothing about this one.
        if (connection === epoch) unconfirmed.delete(channel);
      },
      // Refused or dropped with its connection: the channel stays unconfirmed (caches read the
      // database) until the next connection subscribes again.
      () => {},
    );
    subscribed.set(channel, done);
    return done;
  }
  // After an outage longer than ioredis's retries, a SUBSCRIBE queued meanwhile may have been
  // dropped: subscribing again to every channel in use costs nothing and makes sure.
  subscriber.on('ready', () => {
    epoch++;
    for (const channel of counts.keys()) void confirmSubscription(channel);
  });
  subscriber.on('close', () => void epoch++);
  // Errors are retried by ioredis; without a listener they would crash the process.
  publisher.on('error', () => {});
  subscriber.on('error', () => {});

  // Redis answers a PUBLISH before it has written the message to every subscriber (its reply
  // goes out first, the subscribers' copies after, in the same pass). A caller that answered on
  // the reply alone let its client reach another instance before that instance's copy did: a
  // stale read there (seen in CI; test/production/publish-delivery.test.ts makes it likely with
  // a crowd of subscribers). A PING sent after the reply is read in a later pass, so its answer
  // means every copy is on its way. One PING, written on the next tick, serves every publish
  // whose reply came before then (a request that changes an activation and a balance waits for one).
  let nextPing: Promise<void> | null = null;
  function deliveredToSubscribers(): Promise<void> {
    nextPing ??= new Promise<void>((resolve) =>
      process.nextTick(() => {
        nextPing = null;
        // A lost PING costs only the wait, never a second delivery.
        publisher.ping().then(() => resolve(), () => resolve());
      }),
    );
    return nextPing;
  }

  // Publishes made in one tick (a request's activation and balance changes, commits finishing
  // together) go to Redis in one write: on a busy instance each write to a socket is a system
  // call and a wake-up of Redis, which cost more than the command. Not ioredis's auto-pipelining,
  // which would batch the PINGs above with the publishes they must follow.
  let queued: { key: string; message: string; settle: (error?: unknown) => void }[] | null = null;
  function flushPublishes() {
    const batch = queued!;
    queued = null;
    const pipeline = publisher.pipeline();
    for (const { key, message } of batch) pipeline.publish(key, message);
    pipeline.exec().then(
      (results) => batch.forEach(({ settle }, i) => settle(results?.[i]?.[0])),
      (error: unknown) => batch.forEach(({ settle }) => settle(error ?? new Error('publish failed'))),
    );
  }
  function sendPublish(key: string, message: string): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      if (!queued) {
        queued = [];
        process.nextTick(flushPublishes);
      }
      queued.push({ key, message, settle: (error) => (error ? reject(error) : resolve()) });
    });
  }

  return {
    async publish(channel, message) {
      // Without Redis, this instance's own waiters still hear what it commits (other instances'
      // waiters re-read at the end of their wait): delivered here at once, not after a retry.
      // While only our subscriber is away, Redis still carries the message to the others.
      let delivered = false;
      const deliverHere = () => {
        if (!delivered) local.emit(channel, message);
        delivered = true;
      };
      // Likewise while this channel's SUBSCRIBE is unconfirmed (after a reconnect): Redis would
      // not bring our own message back. Should the SUBSCRIBE land first it comes twice, which every
      // listener takes (a wake-up, a cache drop, a snapshot of the same version).
      if (subscriber.status !== 'ready' || unconfirmed.has(channel)) deliverHere();
      // A process that has just started (the operator CLI) publishes before its connection is up:
      // wait for it briefly rather than keep the message from the other instances' caches.
      if (publisher.status === 'wait' || publisher.status === 'connecting' || publisher.status === 'connect') await connected(publisher, firstConnectWaitMs);
      if (publisher.status !== 'ready') return deliverHere();
      try {
        await sendPublish(`${prefix}:${channel}`, message);
      } catch {
        return deliverHere();
      }
      await deliveredToSubscribers();
    },
    subscribe(channel, handler) {
      local.on(channel, handler);
      const count = (counts.get(channel) ?? 0) + 1;
      counts.set(channel, count);
      if (count === 1) void confirmSubscription(channel);
      const confirmed = subscribed.get(channel) ?? Promise.resolve();
      // Still making its first connection (process start, no attempt failed yet): wait for the
      // SUBSCRIBE, briefly, as a publish waits for its connection. Redis away: nothing to wait
      // for; messages from this instance come locally (see publish).
      const status = subscriber.status;
      const starting = epoch === 0 && (status === 'wait' || status === 'connecting' || status === 'connect');
      const ready = status === 'ready' ? confirmed : starting ? Promise.race([confirmed, delay(firstConnectWaitMs)]) : Promise.resolve();
      return subscription(() => {
        local.off(channel, handler);
        const left = (counts.get(channel) ?? 1) - 1;
        if (left > 0) counts.set(channel, left);
        else {
          counts.delete(channel);
          subscribed.delete(channel);
          unconfirmed.delete(channel);
          void subscriber.unsubscribe(`${prefix}:${channel}`).catch(() => {});
        }
      }, ready);
    },
    delivery: () => ({ hearing: subscriber.status === 'ready' && unconfirmed.size === 0, epoch }),
    async close() {
      local.removeAllListeners();
      publisher.disconnect();
      subscriber.disconnect();
    },
  };
}
