import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { openDatabase } from '../../src/db/database.ts';
import { startTestServer } from '../support/test-server.ts';
import { createScratchDatabase, testRedisUrl, testTarget } from '../support/test-target.ts';

/**
 * `/healthz` says the process is alive; `/readyz` says this instance can serve: its database
 * answers and, when REDIS_URL is set, Redis does. A load balancer sends traffic elsewhere on 503.
 */
describe('health and readiness probes', () => {
  it('answers /healthz and /readyz with what is up, without a key', async () => {
    const server = await startTestServer();
    try {
      const health = await server.api().get('/healthz');
      assert.equal(health.status, 200);
      assert.deepEqual(health.body, { ok: true, data: { status: 'up' } });

      const ready = await server.api().get('/readyz');
      assert.equal(ready.status, 200, JSON.stringify(ready.body));
      assert.deepEqual(ready.body, {
        ok: true,
        data: { status: 'ready', database: 'up', redis: testRedisUrl ? 'up' : 'not configured' },
      });
    } finally {
      await server.close();
    }
  });

  it('answers /readyz 503 naming Redis, within the probe timeout, when REDIS_URL points at nothing', async () => {
    const server = await startTestServer({ env: { REDIS_URL: 'redis://127.0.0.1:1' } });
    try {
      const started = Date.now();
      const ready = await server.api().get('/readyz');
      assert.ok(Date.now() - started < 3000, `answered in ${Date.now() - started} ms`);
      assert.equal(ready.status, 503, JSON.stringify(ready.body));
      assert.equal(ready.body.ok, false);
      assert.equal(ready.body.error.code, 'unavailable');
      assert.match(ready.body.error.message, /Redis/);
      assert.doesNotMatch(ready.body.error.message, /database/);
      // Alive all the same: restarting this instance would not bring Redis back.
      assert.equal((await server.api().get('/healthz')).status, 200);
    } finally {
      await server.close();
    }
  });

  it('answers /readyz 503 naming the database once the database is gone', async () => {
    const scratch = testTarget === 'postgres' ? await createScratchDatabase() : undefined;
    const database = await openDatabase({ databaseUrl: scratch?.url, dataDir: 'memory://' });
    const server = await startTestServer({ database });
    try {
      assert.equal((await server.api().get('/readyz')).status, 200);
      await database.close();
      const ready = await server.api().get('/readyz');
      assert.equal(ready.status, 503, JSON.stringify(ready.body));
      assert.equal(ready.body.error.code, 'unavailable');
      assert.match(ready.body.error.message, /database/);
      assert.equal((await server.api().get('/healthz')).status, 200);
    } finally {
      await server.close();
      await scratch?.drop();
    }
  });
});
