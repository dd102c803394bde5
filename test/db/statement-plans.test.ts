import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql } from 'drizzle-orm';
import { preparedStatementTexts, rowsOf } from '../../src/db/database.ts';
import { startTestServer, type TestServer } from '../support/test-server.ts';

/**
 * The hot path's statements are prepared once per connection, and after five runs PostgreSQL may
 * keep a generic plan: one made without the values. A condition that only a value can match to an
 * index (a partial index `where kind = 'refund'` against `kind = $5`) then leaves a sequential scan,
 * whose cost grows with the table: found by profiling the buy benchmark, where a refund's
 * "refunded already?" check scanned the whole ledger (0.86 ms a refund after 5,000 of them, the
 * most expensive statement of buy + cancel). Each statement is planned here as that generic plan,
 * with sequential scans priced out: a Seq Scan left in the plan means no index can serve it.
 */

// Catalog tables of a few dozen rows at most: scanning them is what an index would cost.
const smallTables = new Set(['providers', 'countries', 'services']);

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  Plans?: PlanNode[];
}

function sequentialScans(node: PlanNode, found: string[] = []): string[] {
  if (node['Node Type'] === 'Seq Scan' && !smallTables.has(node['Relation Name'] ?? '')) found.push(node['Relation Name'] ?? '?');
  for (const child of node.Plans ?? []) sequentialScans(child, found);
  return found;
}

describe('prepared statements, planned without their values', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
  });
  after(() => server?.close());

  it('every one finds its rows through an index (no sequential scan of a table that grows)', async () => {
    const texts = preparedStatementTexts(server.database.db);
    assert.ok(texts.length >= 10, `the modules define their prepared statements (${texts.length} found)`);
    const scans: string[] = [];
    for (const text of texts) {
      const parameters = Math.max(0, ...[...text.matchAll(/\$(\d+)/g)].map((match) => Number(match[1])));
      const plan = await server.database.transaction(async (tx) => {
        await tx.execute(sql`set local enable_seqscan = off`);
        await tx.execute(sql`set local plan_cache_mode = force_generic_plan`);
        await tx.execute(sql.raw(`prepare nova_plan_check as ${text}`));
        try {
          const values = parameters ? `(${Array(parameters).fill('null').join(', ')})` : '';
          const rows = rowsOf<Record<string, unknown>>(await tx.execute(sql.raw(`explain (format json) execute nova_plan_check${values}`)));
          const json = Object.values(rows[0])[0];
          return (typeof json === 'string' ? JSON.parse(json) : json) as { Plan: PlanNode }[];
        } finally {
          await tx.execute(sql`deallocate nova_plan_check`);
        }
      });
      const found = sequentialScans(plan[0].Plan);
      if (found.length) scans.push(`${found.join(', ')} in: ${text.replace(/\s+/g, ' ').slice(0, 160)}…`);
    }
    assert.deepEqual(scans, []);
  });
});
