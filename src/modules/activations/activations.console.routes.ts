import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { ok } from '../../http/envelope.ts';
import { AppError } from '../../http/errors.ts';
import { formatApiTime } from '../../time-format.ts';
import { toUsdNumber } from '../billing/money.ts';
import { staffOf, supportAllowed } from '../console/staff-auth.ts';
import type { ActivationsMonitorService, Figures, MonitorRow, Totals } from './activations-monitor.service.ts';
import { activationStatuses, reportReasons } from './activations.tables.ts';
import type { ReportListRow } from './activation-reports.repo.ts';

const hide = { hide: true } as const;
const Id = Type.Integer({ minimum: 1, maximum: 2_147_483_647 });
const Day = Type.String({ maxLength: 10 });

const ListQuery = Type.Object(
  {
    status: Type.Optional(Type.Union(activationStatuses.map((s) => Type.Literal(s)))),
    service: Type.Optional(Type.String({ minLength: 1, maxLength: 50 })),
    country_id: Type.Optional(Id),
    provider_id: Type.Optional(Id),
    company_id: Type.Optional(Id),
    from: Type.Optional(Day),
    to: Type.Optional(Day),
    limit: Type.Integer({ minimum: 1, maximum: 200, default: 50 }),
    offset: Type.Integer({ minimum: 0, maximum: 10_000_000, default: 0 }),
  },
  { additionalProperties: false },
);
const ReportsQuery = Type.Object(
  {
    company_id: Type.Optional(Id),
    provider_id: Type.Optional(Id),
    reason: Type.Optional(Type.Union(reportReasons.map((r) => Type.Literal(r)))),
    limit: Type.Integer({ minimum: 1, maximum: 200, default: 50 }),
    offset: Type.Integer({ minimum: 0, maximum: 10_000_000, default: 0 }),
  },
  { additionalProperties: false },
);
const BreakdownQuery = Type.Object({ days: Type.Integer({ minimum: 1, maximum: 90, default: 30 }) }, { additionalProperties: false });

/** A UTC day "2026-06-02" → its midnight; `next` gives the following midnight (for an inclusive end). */
function parseDay(text: string, name: string, next = false): Date {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text.trim());
  const midnight = match ? Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3])) : Number.NaN;
  // Date.UTC rolls 2026-02-31 over to March: a day that does not come back unchanged does not exist.
  if (Number.isNaN(midnight) || new Date(midnight).toISOString().slice(0, 10) !== text.trim()) {
    throw new AppError('invalid_request', `${name} "${text}" is not a UTC day like 2026-06-02`);
  }
  return new Date(midnight + (next ? 86_400_000 : 0));
}

const time = (value: Date | string | null) => (value === null ? null : formatApiTime(new Date(value)));
const rate = (value: number | null) => (value === null ? null : Math.round(value * 1000) / 1000);

function rowJson(row: MonitorRow, showCost: boolean) {
  return {
    id: Number(row.id),
    company: { id: row.companyId, name: row.companyName },
    account_id: row.accountId,
    service: row.serviceCode,
    country_id: row.countryId,
    operator: row.operator,
    number: row.number,
    provider: row.providerId === null ? null : { id: row.providerId, name: row.providerName, kind: row.providerKind },
    price: toUsdNumber(Number(row.price)),
    supply_cost: showCost && row.supplyCost !== null ? toUsdNumber(Number(row.supplyCost)) : null,
    status: row.status,
    code: row.code,
    created_at: time(row.createdAt),
    sms_received_at: time(row.smsReceivedAt),
    first_code_at: time(row.firstCodeAt),
    finished_at: time(row.finishedAt),
  };
}

function reportJson(row: ReportListRow) {
  return {
    id: Number(row.id),
    created_at: time(row.createdAt),
    company: { id: row.companyId, name: row.companyName },
    account_id: row.accountId,
    activation: { id: Number(row.activationId), status: row.activationStatus },
    number: row.number,
    number_id: row.numberId,
    service: row.serviceCode,
    country_id: row.countryId,
    provider: row.providerId === null ? null : { id: row.providerId, name: row.providerName, kind: row.providerKind },
    reason: row.reason,
    note: row.note,
    refunded: row.refunded,
  };
}

function totalsJson(t: Totals) {
  return {
    from: t.from,
    to: t.to,
    sold: t.sold,
    charged: toUsdNumber(t.charged),
    refunded: t.refunded,
    refunded_amount: toUsdNumber(t.refundedAmount),
    revenue: toUsdNumber(t.revenue),
    supply_cost: toUsdNumber(t.supplyCost),
    margin: toUsdNumber(t.margin),
  };
}

function figuresJson(f: Figures) {
  return {
    activations: f.activations,
    delivered: f.delivered,
    delivery_rate: rate(f.deliveryRate),
    median_seconds_to_code: f.medianSecondsToCode === null ? null : Math.round(f.medianSecondsToCode),
    revenue: toUsdNumber(f.revenue),
    supply_cost: toUsdNumber(f.supplyCost),
    margin: toUsdNumber(f.margin),
  };
}

/**
 * Console → Activations monitor. Support may search activations (to answer a customer about
 * one), without what they cost us; the money figures are for admins.
 */
export const activationsConsoleRoutes: FastifyPluginAsyncTypebox<{ monitor: ActivationsMonitorService }> = async (app, { monitor }) => {
  app.get('/monitor/activations', { config: supportAllowed, schema: { ...hide, querystring: ListQuery } }, async (request) => {
    const q = request.query;
    const from = q.from ? parseDay(q.from, 'from') : undefined;
    const to = q.to ? parseDay(q.to, 'to', true) : undefined;
    const { activations, total } = await monitor.list(
      { status: q.status, serviceCode: q.service, countryId: q.country_id, providerId: q.provider_id, companyId: q.company_id, from, to },
      { limit: q.limit, offset: q.offset },
    );
    const showCost = staffOf(request).role === 'admin';
    return ok({ activations: activations.map((row) => rowJson(row, showCost)), total });
  });

  app.get('/monitor/summary', { schema: hide }, async () => {
    const { generatedAt, today, last30Days, daily } = await monitor.summary();
    return ok({
      generated_at: formatApiTime(generatedAt),
      today: totalsJson(today),
      last_30_days: totalsJson(last30Days),
      daily: daily.map((d) => ({
        day: d.day,
        sold: d.sold,
        refunded: d.refunded,
        revenue: toUsdNumber(d.revenue),
        supply_cost: toUsdNumber(d.supplyCost),
        margin: toUsdNumber(d.margin),
      })),
    });
  });

  // Customers' reports of bad numbers: what they said, about which number and provider, and whether it refunded.
  app.get('/monitor/reports', { schema: { ...hide, querystring: ReportsQuery } }, async (request) => {
    const q = request.query;
    const { reports, total } = await monitor.reports({ companyId: q.company_id, providerId: q.provider_id, reason: q.reason }, { limit: q.limit, offset: q.offset });
    return ok({ reports: reports.map(reportJson), total });
  });

  app.get('/monitor/breakdown', { schema: { ...hide, querystring: BreakdownQuery } }, async (request) => {
    const b = await monitor.breakdown(request.query.days);
    return ok({
      from: b.from,
      to: b.to,
      by_service_country: b.byServiceCountry.map((row) => ({ service: row.serviceCode, country_id: row.countryId, ...figuresJson(row) })),
      by_provider: b.byProvider.map((row) => ({ provider: row.provider, ...figuresJson(row) })),
    });
  });
};
