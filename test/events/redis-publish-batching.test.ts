import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { createRedisPubSub, type PubSub } from '../../src/events/pubsub.ts';
import { testRedisUrl, uniqueName } from '../support/test-target.ts';

/**
 * A request that changes an activation and a balance publishes twice. Each write to Redis is a
 * system call here and a wake-up there, which cost more than the commands: the publishes of one
 * tick go out together, and one PING (whose answer means Redis has written every subscriber's
 * copy, see pubsub.ts) serves them all. Seen from Redis (MONITOR): publish, publish, ping — two
 * pings before. Each publish still resolves only once its message is on its way to every subscriber.
 */
const skip = testRedisUrl ? false : 'needs Redis (NOVA_TEST_TARGET=postgres and NOVA_TEST_REDIS_URL)';

describe('Redis publishes of one tick', { skip }, () => {
  const prefix = uniqueName('nova_batch');
  let publisher: PubSub;
  let listener: PubSub;
  let monitor: Redis;
  // ioredis runs MONITOR on a connection of its own.
  let feed: Redis | undefined;
  const commands: { client: string; args: string[] }[] = [];

  before(async () => {
    publisher = createRedisPubSub(testRedisUrl!, prefix);
    listener = createRedisPubSub(testRedisUrl!, prefix);
    monitor = new Redis(testRedisUrl!);
    feed = await monitor.monitor();
    feed.on('monitor', (_time: string, args: string[], source: string) => commands.push({ client: source, args }));
  });
  after(async () => {
    feed?.disconnect();
    monitor?.disconnect();
    await publisher?.close();
    await listener?.close();
  });

  it('go to Redis together, followed by one PING, and each arrives before its publish resolves', async () => {
    const heard: string[] = [];
    const activations = listener.subscribe('activations', (message) => heard.push(`activations ${message}`));
    const balances = listener.subscribe('balances', (message) => heard.push(`balances ${message}`));
    await Promise.all([activations.ready, balances.ready]);
    await publisher.publish('warm-up', 'connect first');
    commands.length = 0;

    await Promise.all([
      publisher.publish('activations', 'one').then(() => assert.ok(heard.includes('activations one'), 'the first message arrived before its publish resolved')),
      publisher.publish('balances', 'two').then(() => assert.ok(heard.includes('balances two'), 'the second message arrived before its publish resolved')),
    ]);

    // Other tests may run beside this one: only the connection that published under this prefix counts.
    const publishing = new Set(commands.filter(({ args }) => args[0].toLowerCase() === 'publish' && args[1].startsWith(`${prefix}:`)).map(({ client }) => client));
    assert.equal(publishing.size, 1, `one publishing connection, not ${[...publishing].join(', ')}`);
    const ours = commands.filter(({ client }) => publishing.has(client));
    assert.deepEqual(
      ours.map(({ args }) => args.slice(0, 2).join(' ').toLowerCase()),
      [`publish ${prefix}:activations`, `publish ${prefix}:balances`, 'ping'],
    );
    activations();
    balances();
  });
});
