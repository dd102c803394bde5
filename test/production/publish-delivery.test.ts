import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { startTestServer, type TestServer } from '../support/test-server.ts';
import { testRedisUrl, testTarget, uniqueName } from '../support/test-target.ts';

/**
 * Found in CI: a balance read on instance B right after a top-up on A answered the old balance,
 * once in a whole run. Redis answers a PUBLISH before it writes the message to the subscribers,
 * so a change could be confirmed while B's copy was still inside Redis; the client's next request
 * then reached B first. A crowd of other subscribers on the channel (sockets that never read, so
 * they cost this process nothing) makes Redis take longer between its reply and B's copy: before
 * the fix, 4 to 8 reads in 300 were stale here; the publish now waits until every copy is out.
 */
const skip = testTarget !== 'postgres' || !testRedisUrl ? 'needs PostgreSQL and Redis (NOVA_TEST_TARGET=postgres, NOVA_TEST_REDIS_URL)' : false;

const crowdSize = 2000;
const rounds = 300;

describe('a change confirmed on one instance, with many subscribers on the channel', { skip }, () => {
  const redisKeyPrefix = uniqueName('nova_delivery');
  const crowd: net.Socket[] = [];
  let a: TestServer;
  let b: TestServer;

  before(async () => {
    const channel = `${redisKeyPrefix}:events:balances`;
    const { hostname, port } = new URL(testRedisUrl!);
    for (let i = 0; i < crowdSize; i++) {
      const socket = net.connect(Number(port || 6379), hostname);
      socket.on('error', () => {});
      socket.write(`SUBSCRIBE ${channel}\r\n`);
      socket.pause();
      crowd.push(socket);
    }
    a = await startTestServer({ redisKeyPrefix });
    b = await startTestServer({ redisKeyPrefix, database: a.database, clock: a.clock });
    const redis = new Redis(testRedisUrl!);
    try {
      for (let tries = 0; ; tries++) {
        const [, subscribers] = (await redis.pubsub('NUMSUB', channel)) as [string, number];
        if (subscribers >= crowdSize + 2) break;
        assert.ok(tries < 200, `only ${subscribers} of ${crowdSize + 2} subscribers on ${channel}`);
        await sleep(10);
      }
    } finally {
      redis.disconnect();
    }
  });
  after(async () => {
    for (const socket of crowd) socket.destroy();
    await b?.close();
    await a?.close();
  });

  it('B never answers a balance older than the top-up A confirmed just before', async () => {
    const company = await a.createCompany('10');
    const balanceOnB = async () => (await b.api(company.apiKey).get('/api/v1/balance')).body.data.balance as number;
    let expected = 10;
    const stale: string[] = [];
    for (let round = 0; round < rounds; round++) {
      await balanceOnB(); // held in B's memory from here
      await a.services.billing.credit({ companyId: company.companyId, amount: 10_000, kind: 'topup', reason: 'test top-up' });
      expected += 1;
      const seen = await balanceOnB();
      if (seen !== expected) stale.push(`round ${round}: ${seen} instead of ${expected}`);
    }
    assert.ok(b.services.billing.balanceCacheStats().hits >= rounds / 2, 'B answers from its memory between changes');
    assert.deepEqual(stale, []);
  });
});
