import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { ok } from '../../http/envelope.ts';
import { formatApiTime } from '../../time-format.ts';
import { supportAllowed } from '../console/staff-auth.ts';
import type { FeedbackService } from './feedback.service.ts';

const hide = { hide: true } as const;

const RatingsQuery = Type.Object({ days: Type.Integer({ minimum: 1, maximum: 365, default: 30 }) }, { additionalProperties: false });
const CommentsQuery = Type.Object(
  {
    limit: Type.Integer({ minimum: 1, maximum: 200, default: 50 }),
    offset: Type.Integer({ minimum: 0, maximum: 1_000_000, default: 0 }),
  },
  { additionalProperties: false },
);

/** Console: "How was your experience?" ratings over time and comments (admins and support staff). */
export const feedbackConsoleRoutes: FastifyPluginAsyncTypebox<{ feedback: FeedbackService }> = async (app, { feedback }) => {
  app.get('/feedback/ratings', { config: supportAllowed, schema: { ...hide, querystring: RatingsQuery } }, async (request) => {
    const report = await feedback.ratings(request.query.days);
    return ok({
      days: report.days,
      from: report.from,
      count: report.count,
      average: report.average,
      distribution: report.distribution,
      per_day: report.perDay,
    });
  });

  app.get('/feedback/comments', { config: supportAllowed, schema: { ...hide, querystring: CommentsQuery } }, async (request) => {
    const { limit, offset } = request.query;
    const { comments, total } = await feedback.comments({ limit, offset });
    return ok({
      comments: comments.map((c) => ({
        id: c.id,
        rating: c.rating,
        comment: c.comment,
        context: c.context,
        reference: c.reference,
        account: c.account ? { id: c.account.id, email: c.account.email, company_id: c.account.companyId, company_name: c.account.companyName } : null,
        activation_id: c.activationId,
        conversation_id: c.conversationId,
        created_at: formatApiTime(c.createdAt),
      })),
      total,
      limit,
      offset,
    });
  });
};
