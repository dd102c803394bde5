import type { Clock } from '../../clock.ts';
import type { Database } from '../../db/database.ts';
import * as repo from './support.repo.ts';

const dayMs = 24 * 3600 * 1000;

export interface RatingsReport {
  days: number;
  /** First UTC day of the window ("2026-05-04"); the window ends today, included. */
  from: string;
  count: number;
  /** null when there are no ratings. */
  average: number | null;
  distribution: Record<'1' | '2' | '3' | '4' | '5', number>;
  /** Every day of the window, oldest first, days without ratings included (charts need the gaps). */
  perDay: { date: string; count: number; average: number | null }[];
}

export interface FeedbackComment {
  id: number;
  rating: number;
  comment: string;
  context: repo.FeedbackContext;
  reference: string | null;
  account: { id: number; email: string; companyId: number; companyName: string } | null;
  /** The activation or conversation the answer came from, when its reference names one. */
  activationId: number | null;
  conversationId: number | null;
  createdAt: Date;
}

export interface FeedbackService {
  ratings(days: number): Promise<RatingsReport>;
  comments(page: { limit: number; offset: number }): Promise<{ comments: FeedbackComment[]; total: number }>;
}

const utcDate = (date: Date) => date.toISOString().slice(0, 10);
const round2 = (value: number) => Math.round(value * 100) / 100;
const numericReference = (reference: string | null) => (reference && /^\d{1,15}$/.test(reference) ? Number(reference) : null);

/** The console's feedback reports ("How was your experience?" answers left on the website). */
export function createFeedbackService(deps: { database: Database; clock: Clock }): FeedbackService {
  const { database, clock } = deps;
  const db = database.db;
  return {
    async ratings(days) {
      const today = new Date(`${utcDate(clock.now())}T00:00:00Z`);
      const since = new Date(today.getTime() - (days - 1) * dayMs);
      const [distributionRows, dayRows] = await Promise.all([repo.feedbackDistribution(db, since), repo.feedbackPerDay(db, since)]);
      const distribution = { '1': 0, '2': 0, '3': 0, '4': 0, '5': 0 };
      let count = 0;
      let sum = 0;
      for (const row of distributionRows) {
        distribution[String(row.rating) as keyof typeof distribution] = row.n;
        count += row.n;
        sum += row.n * row.rating;
      }
      const byDay = new Map(dayRows.map((row) => [row.date, row]));
      const perDay = Array.from({ length: days }, (_, i) => {
        const date = utcDate(new Date(since.getTime() + i * dayMs));
        const row = byDay.get(date);
        return { date, count: row?.n ?? 0, average: row && row.n > 0 ? round2(row.sum / row.n) : null };
      });
      return { days, from: utcDate(since), count, average: count > 0 ? round2(sum / count) : null, distribution, perDay };
    },
    async comments(page) {
      const [rows, total] = await Promise.all([repo.listFeedbackComments(db, page), repo.countFeedbackComments(db)]);
      return {
        comments: rows.map((row) => ({
          id: row.id,
          rating: row.rating,
          comment: row.comment ?? '',
          context: row.context,
          reference: row.reference,
          account:
            row.accountId !== null && row.accountEmail !== null && row.companyId !== null
              ? { id: row.accountId, email: row.accountEmail, companyId: row.companyId, companyName: row.companyName ?? '' }
              : null,
          activationId: row.context === 'activation' ? numericReference(row.reference) : null,
          conversationId: row.context === 'chat' ? numericReference(row.reference) : null,
          createdAt: row.createdAt,
        })),
        total,
      };
    },
  };
}
