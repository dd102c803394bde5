import assert from 'node:assert/strict';
import net from 'node:net';
import { after, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { createRedisPubSub, type PubSub } from '../../src/events/pubsub.ts';
import { until } from '../support/subscriptions.ts';
import { testRedisUrl, uniqueName } from '../support/test-target.ts';

/**
 * A subscriber's connection is 'ready' before Redis has its SUBSCRIBE (ioredis sends the commands
 * queued while connecting once it is), and a message published in between never comes. The read
 * caches serve from memory while `delivery().hearing`, and a long-poll reads the state it waits to
 * change once its subscription's `ready` settles: both must wait for Redis to confirm the
 * SUBSCRIBE, or a change committed then on another instance is missed (a cache entry stale until
 * its safety-net age, a long-poll answered only at the end of its wait). Found by
 * redis-publish-batching.test.ts, whose listener had to connect before subscribing.
 *
 * Made likely here: the subscriber talks to Redis through a proxy that holds every SUBSCRIBE back
 * for 400 ms, as a slow network would.
 */
const skip = testRedisUrl ? false : 'needs Redis (NOVA_TEST_TARGET=postgres and NOVA_TEST_REDIS_URL)';
const holdMs = 400;

/** A TCP proxy to `url` that delays what the client sends from the first SUBSCRIBE on (order kept). */
async function subscribeDelayingProxy(url: string): Promise<{ url: string; drop(): void; close(): void }> {
  const { hostname, port } = new URL(url);
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(Number(port || 6379), hostname);
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('error', () => {});
      socket.on('close', () => {
        client.destroy();
        upstream.destroy();
      });
    }
    upstream.pipe(client);
    let held: Promise<void> = Promise.resolve();
    let holding = false;
    client.on('data', (chunk: Buffer) => {
      holding ||= chunk.toString('latin1').toLowerCase().includes('subscribe');
      if (!holding) return void upstream.write(chunk);
      held = held.then(() => new Promise<void>((resolve) => setTimeout(resolve, holdMs))).then(() => void upstream.write(chunk));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  server.unref();
  const address = server.address() as net.AddressInfo;
  const drop = () => {
    for (const socket of sockets) socket.destroy();
    sockets.clear();
  };
  return {
    url: `redis://127.0.0.1:${address.port}`,
    drop,
    close() {
      drop();
      server.close();
    },
  };
}

describe('a Redis subscription counts only once Redis confirmed it', { skip }, () => {
  const closers: (() => unknown)[] = [];
  after(async () => {
    for (const close of closers.reverse()) await close();
  });

  async function setUp() {
    const proxy = await subscribeDelayingProxy(testRedisUrl!);
    closers.push(() => proxy.close());
    const prefix = uniqueName('nova_confirm');
    const pubsub: PubSub = createRedisPubSub(proxy.url, prefix);
    closers.push(() => pubsub.close());
    // Another instance's publisher, straight to Redis.
    const other = new Redis(testRedisUrl!);
    closers.push(() => other.disconnect());
    const received: string[] = [];
    return { proxy, pubsub, received, publishElsewhere: (message: string) => other.publish(`${prefix}:changes`, message) };
  }

  /** Subscribed and hearing, then the connections drop (as a Redis restart or a network cut would) and ioredis connects again. */
  async function subscribedThenReconnected() {
    const setup = await setUp();
    const subscription = setup.pubsub.subscribe('changes', (message) => setup.received.push(message));
    await subscription.ready;
    await until(() => setup.pubsub.delivery().hearing, 'hearing', 5000);
    const epoch = setup.pubsub.delivery().epoch;
    setup.proxy.drop();
    await until(() => setup.pubsub.delivery().epoch > epoch + 1, 'the subscriber connected again', 5000);
    return setup;
  }

  it('subscribed while connecting: `ready` settles once a message published then arrives', async () => {
    const { pubsub, received, publishElsewhere } = await setUp();
    const subscription = pubsub.subscribe('changes', (message) => received.push(message));
    await subscription.ready;
    await publishElsewhere('after ready');
    await until(() => received.includes('after ready'), 'the message published once `ready` had settled', 2000);
  });

  it('while the SUBSCRIBE is on its way the instance does not claim to hear; once it does, messages arrive', async () => {
    const { pubsub, received, publishElsewhere } = await setUp();
    pubsub.subscribe('changes', (message) => received.push(message));
    // The moment delivery says "hearing", a change published elsewhere must reach this instance.
    await until(() => pubsub.delivery().hearing, 'hearing', 5000);
    await publishElsewhere('while hearing');
    await until(() => received.includes('while hearing'), 'the message published while delivery() said hearing', 2000);
  });

  it('after a reconnect too: not hearing until the channels are subscribed again', async () => {
    const { pubsub, received, publishElsewhere } = await subscribedThenReconnected();
    await until(() => pubsub.delivery().hearing, 'hearing again', 5000);
    await publishElsewhere('after reconnect');
    await until(() => received.includes('after reconnect'), 'the message published once hearing again', 2000);
  });

  it('its own publishes reach its own listeners while the SUBSCRIBE is unconfirmed after a reconnect', async () => {
    const { pubsub, received } = await subscribedThenReconnected();
    // Connected again, its SUBSCRIBE held back by the proxy: not hearing yet.
    assert.equal(pubsub.delivery().hearing, false, 'the SUBSCRIBE was confirmed before the proxy let it through');
    // A change this instance commits now (an SMS it took in) must still wake its own long-polls.
    await pubsub.publish('changes', 'own, unconfirmed');
    await until(() => received.includes('own, unconfirmed'), 'its own message, published while the SUBSCRIBE was on its way', 2000);
  });
});
