import { sql } from 'drizzle-orm';
import { type Db, rowsOf } from '../../db/database.ts';

/** Per member of a company: how many activations and how much they cost (refunded ones excluded). */
export async function memberSpending(db: Db, companyId: number): Promise<Map<number, { activations: number; spent: number }>> {
  const result = await db.execute(sql`
    select account_id as "accountId", count(*)::int as n,
           coalesce(sum(price) filter (where status in ('waiting', 'sms_received', 'completed')), 0)::bigint as spent
    from activations where company_id = ${companyId} group by account_id`);
  const rows = rowsOf<{ accountId: number; n: number; spent: string | number }>(result);
  return new Map(rows.map((row) => [Number(row.accountId), { activations: Number(row.n), spent: Number(row.spent) }]));
}
