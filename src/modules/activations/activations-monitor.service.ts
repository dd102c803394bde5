import type { Clock } from '../../clock.ts';
import type { Database } from '../../db/database.ts';
import type { Money } from '../billing/money.ts';
import * as repo from './activations-stats.repo.ts';
import * as reportsRepo from './activation-reports.repo.ts';

export type { MonitorFilter, MonitorRow } from './activations-stats.repo.ts';
export type { ReportFilter, ReportListRow } from './activation-reports.repo.ts';

const dayMs = 86_400_000;

/** Sales of a period; money in 1/10000 USD. */
export interface Totals {
  /** First and last UTC day, "2026-06-02". */
  from: string;
  to: string;
  sold: number;
  charged: Money;
  refunded: number;
  refundedAmount: Money;
  /** charged − refundedAmount. */
  revenue: Money;
  /** What the activations not refunded cost us. */
  supplyCost: Money;
  margin: Money;
}

export interface DayTotals {
  day: string;
  sold: number;
  refunded: number;
  revenue: Money;
  supplyCost: Money;
  margin: Money;
}

export interface Figures {
  activations: number;
  delivered: number;
  /** Share that got a code; null without activations. */
  deliveryRate: number | null;
  medianSecondsToCode: number | null;
  revenue: Money;
  supplyCost: Money;
  margin: Money;
}

export interface Breakdown {
  from: string;
  to: string;
  byServiceCountry: (Figures & { serviceCode: string; countryId: number })[];
  byProvider: (Figures & { provider: { id: number; name: string; kind: string } })[];
}

export interface ActivationsMonitorService {
  list(filter: repo.MonitorFilter, page: { limit: number; offset: number }): Promise<{ activations: repo.MonitorRow[]; total: number }>;
  /** Today's and the last 30 days' totals (today included), and the 30 days one by one, oldest first. */
  summary(): Promise<{ generatedAt: Date; today: Totals; last30Days: Totals; daily: DayTotals[] }>;
  /** Per service × country and per provider over the last `days` days (today included). */
  breakdown(days: number): Promise<Breakdown>;
  /** Customers' reports of bad numbers (POST /activations/{id}/report), newest first. */
  reports(filter: reportsRepo.ReportFilter, page: { limit: number; offset: number }): Promise<{ reports: reportsRepo.ReportListRow[]; total: number }>;
}

const dayOf = (date: Date) => date.toISOString().slice(0, 10);

function totalsOf(row: repo.TotalsRow | undefined) {
  const charged = Number(row?.charged ?? 0);
  const refundedAmount = Number(row?.refundedAmount ?? 0);
  const supplyCost = Number(row?.supplyCost ?? 0);
  const revenue = charged - refundedAmount;
  return { sold: Number(row?.sold ?? 0), charged, refunded: Number(row?.refunded ?? 0), refundedAmount, revenue, supplyCost, margin: revenue - supplyCost };
}

function figuresOf(row: repo.BreakdownFigures): Figures {
  const revenue = Number(row.revenue);
  const supplyCost = Number(row.supplyCost);
  return {
    activations: row.activations,
    delivered: row.delivered,
    deliveryRate: row.activations === 0 ? null : row.delivered / row.activations,
    medianSecondsToCode: row.medianSecondsToCode === null ? null : Number(row.medianSecondsToCode),
    revenue,
    supplyCost,
    margin: revenue - supplyCost,
  };
}

/**
 * The activations monitor (docs/console-api.md, "Activations monitor"): activations across
 * companies and the figures of what sold, what it cost and how providers deliver. An activation
 * counts on the UTC day it was bought; "today" is the injected clock's.
 */
export function createActivationsMonitorService(deps: { database: Database; clock: Clock }): ActivationsMonitorService {
  const { database, clock } = deps;
  const db = database.db;

  /** [first day's midnight, tomorrow's midnight) for the last `days` UTC days. */
  function lastDays(days: number) {
    const now = clock.now();
    const tomorrow = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()) + dayMs);
    return { from: new Date(tomorrow.getTime() - days * dayMs), to: tomorrow };
  }

  return {
    async list(filter, page) {
      const [activations, total] = await Promise.all([repo.listAcrossCompanies(db, filter, page), repo.countAcrossCompanies(db, filter)]);
      return { activations, total };
    },

    async summary() {
      const today = lastDays(1);
      const month = lastDays(30);
      const [todayRow, monthRow, dailyRows] = await Promise.all([
        repo.totals(db, today.from, today.to),
        repo.totals(db, month.from, month.to),
        repo.dailyTotals(db, month.from, month.to),
      ]);
      const byDay = new Map(dailyRows.map((row) => [row.day, totalsOf(row)]));
      const daily = Array.from({ length: 30 }, (_, i) => {
        const day = dayOf(new Date(month.from.getTime() + i * dayMs));
        const { sold, refunded, revenue, supplyCost, margin } = byDay.get(day) ?? totalsOf(undefined);
        return { day, sold, refunded, revenue, supplyCost, margin };
      });
      const last = (range: { to: Date }) => dayOf(new Date(range.to.getTime() - dayMs));
      return {
        generatedAt: clock.now(),
        today: { from: dayOf(today.from), to: last(today), ...totalsOf(todayRow) },
        last30Days: { from: dayOf(month.from), to: last(month), ...totalsOf(monthRow) },
        daily,
      };
    },

    async breakdown(days) {
      const range = lastDays(days);
      const [serviceCountry, providers] = await Promise.all([repo.byServiceCountry(db, range.from, range.to), repo.byProvider(db, range.from, range.to)]);
      return {
        from: dayOf(range.from),
        to: dayOf(new Date(range.to.getTime() - dayMs)),
        byServiceCountry: serviceCountry.map((row) => ({ serviceCode: row.serviceCode, countryId: Number(row.countryId), ...figuresOf(row) })),
        byProvider: providers.map((row) => ({ provider: { id: Number(row.providerId), name: row.providerName, kind: row.providerKind }, ...figuresOf(row) })),
      };
    },

    async reports(filter, page) {
      const [reports, total] = await Promise.all([reportsRepo.listReports(db, filter, page), reportsRepo.countReports(db, filter)]);
      return { reports, total };
    },
  };
}
