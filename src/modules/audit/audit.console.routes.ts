import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { ok } from '../../http/envelope.ts';
import { AppError } from '../../http/errors.ts';
import { formatApiTime } from '../../time-format.ts';
import type { AuditService } from './audit.service.ts';

const hide = { hide: true } as const;

const AuditQuery = Type.Object(
  {
    // Staff ids are 32-bit serials: a larger one would fail the query rather than match nothing.
    staff_id: Type.Optional(Type.Integer({ minimum: 1, maximum: 2_147_483_647 })),
    action: Type.Optional(Type.String({ maxLength: 100 })),
    target_type: Type.Optional(Type.String({ maxLength: 100 })),
    target_id: Type.Optional(Type.String({ maxLength: 100 })),
    from: Type.Optional(Type.String({ maxLength: 19 })),
    to: Type.Optional(Type.String({ maxLength: 19 })),
    before_id: Type.Optional(Type.Integer({ minimum: 1 })),
    limit: Type.Integer({ minimum: 1, maximum: 200, default: 50 }),
  },
  { additionalProperties: false },
);

/** "2026-06-02" or "2026-06-02 10:20:00", UTC, as the API prints times; `endOfDay` widens a bare date to its last second. */
export function parseConsoleTime(text: string, name: string, endOfDay = false): Date {
  const match = /^(\d{4}-\d{2}-\d{2})(?:[ T](\d{2}:\d{2}:\d{2}))?$/.exec(text.trim());
  const date = match ? new Date(`${match[1]}T${match[2] ?? (endOfDay ? '23:59:59' : '00:00:00')}Z`) : null;
  if (!date || Number.isNaN(date.getTime())) throw new AppError('invalid_request', `${name} "${text}" is not a UTC time like 2026-06-02 or 2026-06-02 10:20:00`);
  return date;
}

/** Console: the audit log, newest first, filterable (admins). */
export const auditConsoleRoutes: FastifyPluginAsyncTypebox<{ audit: AuditService }> = async (app, { audit }) => {
  app.get('/audit', { schema: { ...hide, querystring: AuditQuery } }, async (request) => {
    const q = request.query;
    const entries = await audit.list({
      staffId: q.staff_id,
      action: q.action || undefined,
      targetType: q.target_type || undefined,
      targetId: q.target_id || undefined,
      from: q.from ? parseConsoleTime(q.from, 'from') : undefined,
      to: q.to ? parseConsoleTime(q.to, 'to', true) : undefined,
      beforeId: q.before_id,
      limit: q.limit,
    });
    return ok({
      entries: entries.map((e) => ({
        id: e.id,
        staff_id: e.staffId,
        actor: e.actor,
        action: e.action,
        target_type: e.targetType,
        target_id: e.targetId,
        before: e.before,
        after: e.after,
        reason: e.reason,
        created_at: formatApiTime(e.createdAt),
      })),
      next_before_id: entries.length === q.limit ? entries[entries.length - 1].id : null,
    });
  });
};
