import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import pg from 'pg';
import { openDatabase } from '../../src/db/database.ts';
import { createScratchDatabase, testTarget } from '../support/test-target.ts';

/**
 * Every instance applies the migrations when it starts, and a deploy starts several at once
 * (compose.yaml runs two): on an empty PostgreSQL database they must not trip over each other.
 */
const journal = JSON.parse(readFileSync(path.resolve(import.meta.dirname, '../../src/db/migrations/meta/_journal.json'), 'utf8')) as {
  entries: unknown[];
};

describe('migrations on start', { skip: testTarget === 'postgres' ? false : 'needs PostgreSQL (NOVA_TEST_TARGET=postgres)' }, () => {
  it('lets three instances starting at once on an empty database all come up, with each migration applied once', async () => {
    const scratch = await createScratchDatabase({ empty: true });
    try {
      const opened = await Promise.allSettled([1, 2, 3].map(() => openDatabase({ databaseUrl: scratch.url, dataDir: 'memory://', poolSize: 2 })));
      for (const result of opened) if (result.status === 'fulfilled') await result.value.close();
      const failures = opened.flatMap((result) => (result.status === 'rejected' ? [String(result.reason?.cause ?? result.reason)] : []));
      assert.deepEqual(failures, [], 'every instance opens the database');

      const client = new pg.Client({ connectionString: scratch.url });
      await client.connect();
      try {
        const applied = await client.query('select count(*)::int as n from drizzle.__drizzle_migrations');
        assert.equal(applied.rows[0].n, journal.entries.length);
      } finally {
        await client.end();
      }
    } finally {
      await scratch.drop();
    }
  });
});
