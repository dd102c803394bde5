import { type SQL, sql } from 'drizzle-orm';
import { type Db, rowsOf } from '../../db/database.ts';
import type { ActivationStatus } from './activations.tables.ts';

/*
 * The activations monitor's SQL: activations across companies with who bought them and which
 * provider's number they got, and sales figures. These read-only reports join the companies,
 * number_rentals and providers tables by name: one query per figure, rather than a call per row
 * into the accounts and supply modules.
 */

// An activation refunded in full: cancelled or expired (cancel and expiry refund the price).
const refunded = sql`a.status in ('cancelled', 'expired')`;

export interface MonitorFilter {
  status?: ActivationStatus;
  serviceCode?: string;
  countryId?: number;
  providerId?: number;
  companyId?: number;
  /** Bought at or after. */
  from?: Date;
  /** Bought before. */
  to?: Date;
}

function whereOf(filter: MonitorFilter): SQL {
  const conditions: SQL[] = [sql`true`];
  if (filter.status !== undefined) conditions.push(sql`a.status = ${filter.status}`);
  if (filter.serviceCode !== undefined) conditions.push(sql`a.service_code = ${filter.serviceCode}`);
  if (filter.countryId !== undefined) conditions.push(sql`a.country_id = ${filter.countryId}`);
  if (filter.providerId !== undefined) conditions.push(sql`r.provider_id = ${filter.providerId}`);
  if (filter.companyId !== undefined) conditions.push(sql`a.company_id = ${filter.companyId}`);
  if (filter.from !== undefined) conditions.push(sql`a.created_at >= ${filter.from.toISOString()}::timestamptz`);
  if (filter.to !== undefined) conditions.push(sql`a.created_at < ${filter.to.toISOString()}::timestamptz`);
  return sql.join(conditions, sql` and `);
}

export interface MonitorRow {
  id: number | string;
  companyId: number;
  companyName: string;
  accountId: number;
  serviceCode: string;
  countryId: number;
  operator: string;
  number: string;
  providerId: number | null;
  providerName: string | null;
  providerKind: string | null;
  price: number | string;
  supplyCost: number | string | null;
  status: ActivationStatus;
  code: string | null;
  createdAt: Date | string;
  smsReceivedAt: Date | string | null;
  firstCodeAt: Date | string | null;
  finishedAt: Date | string | null;
}

export async function listAcrossCompanies(db: Db, filter: MonitorFilter, page: { limit: number; offset: number }) {
  const result = await db.execute(sql`
    select a.id, a.company_id as "companyId", c.name as "companyName", a.account_id as "accountId",
      a.service_code as "serviceCode", a.country_id as "countryId", a.operator, a.number,
      r.provider_id as "providerId", p.name as "providerName", p.kind as "providerKind",
      a.price, r.supply_cost as "supplyCost", a.status, a.code,
      a.created_at as "createdAt", a.sms_received_at as "smsReceivedAt", r.first_code_at as "firstCodeAt", a.finished_at as "finishedAt"
    from activations a
    join companies c on c.id = a.company_id
    left join number_rentals r on r.activation_id = a.id
    left join providers p on p.id = r.provider_id
    where ${whereOf(filter)}
    order by a.id desc
    limit ${page.limit} offset ${page.offset}`);
  return rowsOf<MonitorRow>(result);
}

export async function countAcrossCompanies(db: Db, filter: MonitorFilter) {
  const result = await db.execute(sql`
    select count(*)::int as n from activations a left join number_rentals r on r.activation_id = a.id
    where ${whereOf(filter)}`);
  return Number(rowsOf<{ n: number }>(result)[0]?.n ?? 0);
}

export interface TotalsRow {
  sold: number;
  charged: number | string;
  refunded: number;
  refundedAmount: number | string;
  supplyCost: number | string;
}

const totalsColumns = sql`
  count(*)::int as sold,
  coalesce(sum(a.price), 0)::bigint as charged,
  (count(*) filter (where ${refunded}))::int as refunded,
  coalesce(sum(a.price) filter (where ${refunded}), 0)::bigint as "refundedAmount",
  coalesce(sum(r.supply_cost) filter (where not ${refunded}), 0)::bigint as "supplyCost"`;

/** Sales figures of the activations bought in [from, to). */
export async function totals(db: Db, from: Date, to: Date): Promise<TotalsRow> {
  const result = await db.execute(sql`
    select ${totalsColumns}
    from activations a left join number_rentals r on r.activation_id = a.id
    where a.created_at >= ${from.toISOString()}::timestamptz and a.created_at < ${to.toISOString()}::timestamptz`);
  return rowsOf<TotalsRow>(result)[0];
}

/** The same per UTC day ("2026-06-02"); days without sales are absent. */
export async function dailyTotals(db: Db, from: Date, to: Date) {
  const result = await db.execute(sql`
    select to_char(a.created_at at time zone 'UTC', 'YYYY-MM-DD') as day, ${totalsColumns}
    from activations a left join number_rentals r on r.activation_id = a.id
    where a.created_at >= ${from.toISOString()}::timestamptz and a.created_at < ${to.toISOString()}::timestamptz
    group by 1`);
  return rowsOf<TotalsRow & { day: string }>(result);
}

export interface BreakdownFigures {
  activations: number;
  delivered: number;
  medianSecondsToCode: number | string | null;
  revenue: number | string;
  supplyCost: number | string;
}

// Delivered = got a code; median over the activations that did (percentile_cont skips nulls).
const breakdownColumns = sql`
  count(*)::int as activations,
  (count(*) filter (where a.code is not null))::int as delivered,
  percentile_cont(0.5) within group (order by extract(epoch from (r.first_code_at - a.created_at))) as "medianSecondsToCode",
  coalesce(sum(a.price) filter (where not ${refunded}), 0)::bigint as revenue,
  coalesce(sum(r.supply_cost) filter (where not ${refunded}), 0)::bigint as "supplyCost"`;

export async function byServiceCountry(db: Db, from: Date, to: Date) {
  const result = await db.execute(sql`
    select a.service_code as "serviceCode", a.country_id as "countryId", ${breakdownColumns}
    from activations a left join number_rentals r on r.activation_id = a.id
    where a.created_at >= ${from.toISOString()}::timestamptz and a.created_at < ${to.toISOString()}::timestamptz
    group by a.service_code, a.country_id
    order by activations desc, a.service_code, a.country_id`);
  return rowsOf<BreakdownFigures & { serviceCode: string; countryId: number }>(result);
}

export async function byProvider(db: Db, from: Date, to: Date) {
  const result = await db.execute(sql`
    select p.id as "providerId", p.name as "providerName", p.kind as "providerKind", ${breakdownColumns}
    from activations a
    join number_rentals r on r.activation_id = a.id
    join providers p on p.id = r.provider_id
    where a.created_at >= ${from.toISOString()}::timestamptz and a.created_at < ${to.toISOString()}::timestamptz
    group by p.id, p.name, p.kind
    order by activations desc, p.id`);
  return rowsOf<BreakdownFigures & { providerId: number; providerName: string; providerKind: string }>(result);
}
