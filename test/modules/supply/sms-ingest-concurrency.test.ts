import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql } from 'drizzle-orm';
import { rowsOf } from '../../../src/db/database.ts';
import { holdRowLock, unlessBlocked } from '../../support/row-lock.ts';
import { startTestServer, type TestServer } from '../../support/test-server.ts';
import { testTarget } from '../../support/test-target.ts';

/**
 * A SIM bank pushes the SMS of many numbers at once. Each SMS used to note the provider's last sign
 * of life inside its own transaction, so every SMS of one provider queued on that provider's row
 * until the one before had committed (found in the benchmark's pg_stat_statements: 41 ms per
 * `update providers set last_seen_at` while 1,000 SMS arrived). Here another transaction holds that
 * row the whole time: the SMS must still be stored and answered, and the sign of life lands after.
 */
const skip = testTarget === 'postgres' ? false : 'a second connection holding a row lock needs PostgreSQL (NOVA_TEST_TARGET=postgres)';

describe('SMS from one provider do not queue on the provider', { skip }, () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
  });
  after(() => server?.close());

  it('stores and answers SMS while the provider row is locked elsewhere, then records the provider as seen', async () => {
    const provider = await server.createProvider({ count: 3 });
    const lastSeen = async () =>
      rowsOf<{ last_seen_at: Date | null }>(await server.database.db.execute(sql`select last_seen_at from providers where id = ${provider.providerId}`))[0].last_seen_at;
    assert.equal(await lastSeen(), null);

    // The lock an UPDATE of the row takes (as another SMS's sign of life did).
    const lock = await holdRowLock(server.database, sql`select id from providers where id = ${provider.providerId} for no key update`);
    try {
      const answers = await unlessBlocked(
        Promise.all(provider.numbers.map((to, i) => server.api(provider.secret).post('/api/v1/supply/sms', { to, from: 'Telegram', text: `Telegram code: 1111${i}` }))),
      );
      assert.notEqual(answers, 'blocked', 'the SMS waited for the lock on their provider');
      if (answers === 'blocked') return;
      assert.deepEqual(
        answers.map((answer) => answer.status),
        [200, 200, 200],
        JSON.stringify(answers.map((answer) => answer.body)),
      );
      assert.equal(await lastSeen(), null, 'the sign of life waits for the lock, not the SMS');
    } finally {
      await lock.release();
    }
    for (let tries = 0; (await lastSeen()) === null; tries++) {
      assert.ok(tries < 200, 'the provider is recorded as seen once the lock is gone');
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  });
});
