import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { createRedisPubSub, type PubSub } from '../../src/events/pubsub.ts';
import { until } from '../support/subscriptions.ts';
import { testRedisUrl, uniqueName } from '../support/test-target.ts';

/**
 * A request that changes an activation and a balance publishes twice. Each write to Redis is a
 * system call here and a wake-up there, which cost more than the commands: the publishes of one
 * tick go out together, and one PING (whose answer means Redis has written every subscriber's
 * copy, see pubsub.ts) serves them all. Seen from Redis (MONITOR): publish, publish, ping — two
 * pings before. Both messages reach the subscriber.
 */
const skip = testRedisUrl ? false : 'needs Redis (NOVA_TEST_TARGET=postgres and NOVA_TEST_REDIS_URL)';

/** The commands Redis runs, as MONITOR reports them: who sent each and its words. */
function monitorRedis(url: string): { commands: { client: string; args: string[] }[]; ready: Promise<void>; close(): void } {
  const { hostname, port } = new URL(url);
  // A plain socket, unreferenced and destroyed at the end: a MONITOR connection left open (seen with
  // ioredis's monitor() in a run beside other tests) would keep this test's process from exiting.
  const socket = net.connect(Number(port || 6379), hostname);
  socket.unref();
  socket.on('error', () => {});
  const commands: { client: string; args: string[] }[] = [];
  let buffered = '';
  let confirmed!: () => void;
  const ready = new Promise<void>((resolve) => (confirmed = resolve));
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => {
    buffered += chunk;
    const lines = buffered.split('\r\n');
    buffered = lines.pop()!;
    for (const line of lines) {
      if (line === '+OK') confirmed();
      // +1796522290.268871 [0 127.0.0.1:37794] "publish" "channel" "message"
      const match = /^\+[\d.]+ \[\d+ ([^\]]+)\] (.*)$/.exec(line);
      if (!match) continue;
      const args = [...match[2].matchAll(/"((?:[^"\\]|\\.)*)"/g)].map((word) => word[1]);
      commands.push({ client: match[1], args });
    }
  });
  socket.write('MONITOR\r\n');
  return { commands, ready, close: () => socket.destroy() };
}

describe('Redis publishes of one tick', { skip }, () => {
  const prefix = uniqueName('nova_batch');
  let publisher: PubSub;
  let listener: PubSub;
  let monitor: ReturnType<typeof monitorRedis>;

  before(async () => {
    publisher = createRedisPubSub(testRedisUrl!, prefix);
    listener = createRedisPubSub(testRedisUrl!, prefix);
    monitor = monitorRedis(testRedisUrl!);
    await monitor.ready;
    // A subscription made while the listener is still connecting does not wait for its SUBSCRIBE
    // (pubsub.ts: nothing to wait for while Redis is away), so connect first.
    await until(() => listener.delivery().hearing, 'the listener to connect to Redis', 5000);
  });
  after(async () => {
    monitor?.close();
    await publisher?.close();
    await listener?.close();
  });

  it('go to Redis together, followed by one PING, and both reach the subscriber', { timeout: 20_000 }, async () => {
    const heard: string[] = [];
    const activations = listener.subscribe('activations', (message) => heard.push(`activations ${message}`));
    const balances = listener.subscribe('balances', (message) => heard.push(`balances ${message}`));
    await Promise.all([activations.ready, balances.ready]);
    await publisher.publish('warm-up', 'connect first');
    // MONITOR reports on a socket of its own: the warm-up's PING may be read there after the
    // publish has resolved (seen in CI as a leading 'ping'). Clear only once it has come.
    const warmUpPublisher = () => monitor.commands.find(({ args }) => args[0]?.toLowerCase() === 'publish' && args[1] === `${prefix}:warm-up`)?.client;
    await until(
      () => {
        const client = warmUpPublisher();
        return client !== undefined && monitor.commands.some((command) => command.client === client && command.args[0]?.toLowerCase() === 'ping');
      },
      "the warm-up's PUBLISH and PING on the monitor",
      2000,
    );
    monitor.commands.length = 0;

    await Promise.all([publisher.publish('activations', 'one'), publisher.publish('balances', 'two')]);
    // Written by Redis to the listener's socket before the PING's answer; read by this process
    // in whichever order its sockets come (test/production/publish-delivery.test.ts covers the
    // guarantee across instances).
    await until(() => heard.length >= 2, 'both messages at the listener', 1000);
    assert.deepEqual(heard.sort(), ['activations one', 'balances two']);
    activations();
    balances();

    // Other tests may run beside this one: only the connection that published under this prefix
    // counts. MONITOR's lines come on a socket of their own: wait for the PING's, then a moment
    // more, in which a second PING (the old way: one per publish answer) would show too.
    const { commands } = monitor;
    const publishing = () => new Set(commands.filter(({ args }) => args[0]?.toLowerCase() === 'publish' && args[1]?.startsWith(`${prefix}:`)).map(({ client }) => client));
    const ours = () => commands.filter(({ client }) => publishing().has(client)).map(({ args }) => args.slice(0, 2).join(' ').toLowerCase());
    await until(() => ours().includes('ping'), 'a PING after the publishes', 1000);
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal(publishing().size, 1, `one publishing connection, not ${[...publishing()].join(', ')}`);
    assert.deepEqual(
      ours(),
      [`publish ${prefix}:activations`, `publish ${prefix}:balances`, 'ping'],
    );
  });
});
