import { and, count, eq, gte, inArray, sql } from 'drizzle-orm';
import { type Db, rowsOf } from '../../db/database.ts';
import { activationReports, activations, type ReportReason } from './activations.tables.ts';

export type ActivationReportRow = typeof activationReports.$inferSelect;

/** Reasons that say the number is bad for the service: they cancel with a refund, and the number is never reused for it. */
export const badNumberReasons: ReportReason[] = ['used', 'blocked'];

/**
 * Records the report of an activation; null when it already has one (the unique index decides,
 * so two reports racing record one). The provider is the one whose number was sold (its rental).
 */
export async function insertReport(
  tx: Db,
  input: { activationId: number; companyId: number; accountId: number; numberId: number; serviceCode: string; reason: ReportReason; note: string | null; refunded: boolean; createdAt: Date },
): Promise<ActivationReportRow | null> {
  const rows = await tx
    .insert(activationReports)
    .values({ ...input, providerId: sql`(select r.provider_id from number_rentals r where r.activation_id = ${input.activationId})` })
    .onConflictDoNothing({ target: activationReports.activationId })
    .returning();
  return rows[0] ?? null;
}

export async function findReport(db: Db, activationId: number): Promise<ActivationReportRow | null> {
  const rows = await db.select().from(activationReports).where(eq(activationReports.activationId, activationId));
  return rows[0] ?? null;
}

/** Whether the number was reported used or blocked for the service (such a number is never reused for it). */
export async function numberReportedBad(db: Db, numberId: number, serviceCode: string): Promise<boolean> {
  const rows = await db
    .select({ id: activationReports.id })
    .from(activationReports)
    .where(and(eq(activationReports.numberId, numberId), eq(activationReports.serviceCode, serviceCode), inArray(activationReports.reason, badNumberReasons)))
    .limit(1);
  return rows.length > 0;
}

// The first key of the two-key advisory lock that serialises one company's reports (any fixed
// number: two-key locks do not share a key space with one-key locks).
const reportLockSpace = 7_211_011;

/**
 * Holds, until the transaction ends, the company's reports: two reports at once must not both
 * see the share below the abuse guard's limit and both refund.
 */
export async function lockCompanyReports(tx: Db, companyId: number): Promise<void> {
  await tx.execute(sql`select pg_advisory_xact_lock(${reportLockSpace}, ${companyId})`);
}

/** The company's reports since `since` that refunded (through activation_reports_company_idx). */
export async function countRefundedReports(db: Db, companyId: number, since: Date): Promise<number> {
  const rows = await db
    .select({ n: count() })
    .from(activationReports)
    .where(and(eq(activationReports.companyId, companyId), gte(activationReports.createdAt, since), eq(activationReports.refunded, true)));
  return Number(rows[0]?.n ?? 0);
}

/**
 * The company's purchases (activations, reuses included) since `since`, counted up to `cap`: the
 * abuse guard only needs to know whether there are at least so many, and a busy company's
 * month of activations then costs `cap` index entries, not all of them.
 */
export async function countPurchasesUpTo(db: Db, companyId: number, since: Date, cap: number): Promise<number> {
  const result = await db.execute(sql`
    select count(*)::int as n from (
      select 1 from ${activations} a
      where a.company_id = ${companyId} and a.created_at >= ${since.toISOString()}::timestamptz
      order by a.id desc
      limit ${cap}
    ) recent`);
  return Number(rowsOf<{ n: number }>(result)[0]?.n ?? 0);
}

/** A report as the back office lists it: who, which activation and number, which provider. */
export interface ReportListRow {
  id: number | string;
  activationId: number | string;
  companyId: number;
  companyName: string;
  accountId: number;
  number: string;
  numberId: number;
  serviceCode: string;
  countryId: number;
  providerId: number | null;
  providerName: string | null;
  providerKind: string | null;
  reason: ReportReason;
  note: string | null;
  refunded: boolean;
  activationStatus: string;
  createdAt: Date | string;
}

export interface ReportFilter {
  companyId?: number;
  providerId?: number;
  reason?: ReportReason;
}

function whereOf(filter: ReportFilter) {
  const conditions = [sql`true`];
  if (filter.companyId !== undefined) conditions.push(sql`x.company_id = ${filter.companyId}`);
  if (filter.providerId !== undefined) conditions.push(sql`x.provider_id = ${filter.providerId}`);
  if (filter.reason !== undefined) conditions.push(sql`x.reason = ${filter.reason}`);
  return sql.join(conditions, sql` and `);
}

/**
 * Reports across companies, newest first (console). Like the activations monitor, a read-only
 * report that joins the companies and providers tables by name.
 */
export async function listReports(db: Db, filter: ReportFilter, page: { limit: number; offset: number }): Promise<ReportListRow[]> {
  const result = await db.execute(sql`
    select x.id, x.activation_id as "activationId", x.company_id as "companyId", c.name as "companyName", x.account_id as "accountId",
      a.number, x.number_id as "numberId", x.service_code as "serviceCode", a.country_id as "countryId",
      x.provider_id as "providerId", p.name as "providerName", p.kind as "providerKind",
      x.reason, x.note, x.refunded, a.status as "activationStatus", x.created_at as "createdAt"
    from activation_reports x
    join activations a on a.id = x.activation_id
    join companies c on c.id = x.company_id
    left join providers p on p.id = x.provider_id
    where ${whereOf(filter)}
    order by x.id desc
    limit ${page.limit} offset ${page.offset}`);
  return rowsOf<ReportListRow>(result);
}

export async function countReports(db: Db, filter: ReportFilter): Promise<number> {
  const result = await db.execute(sql`select count(*)::int as n from activation_reports x where ${whereOf(filter)}`);
  return Number(rowsOf<{ n: number }>(result)[0]?.n ?? 0);
}

/** The reports of these activations (at most one each). */
export async function findReportsOf(db: Db, activationIds: number[]): Promise<ActivationReportRow[]> {
  if (activationIds.length === 0) return [];
  return db.select().from(activationReports).where(inArray(activationReports.activationId, activationIds));
}
