import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ok } from '../../http/envelope.ts';
import { carriesSecret } from '../../http/no-store.ts';
import { AppError } from '../../http/errors.ts';
import type { RateLimitSettings } from '../../http/rate-limit.ts';
import { formatApiTime } from '../../time-format.ts';
import type { ActivationsService } from '../activations/activations.service.ts';
import { toUsdNumber } from '../billing/money.ts';
import type { WebSessionsService } from '../web-sessions/web-sessions.service.ts';
import type { WebHttp } from '../web/web-session.ts';
import * as schema from '../web/web.schema.ts';
import { hide } from '../web/web.schema.ts';
import type { AccountsService } from './accounts.service.ts';

export interface TeamWebRoutesOptions {
  web: WebHttp;
  accounts: AccountsService;
  webSessions: WebSessionsService;
  /** For each member's spending on the team page. */
  activations: Pick<ActivationsService, 'memberSpending'>;
  /** The API's per-key limit, shown next to the key. */
  apiRateLimit: RateLimitSettings;
}

/** Website: Profile → API access, and the team page (owners). */
export const teamWebRoutes: FastifyPluginAsyncTypebox<TeamWebRoutesOptions> = async (app, { web, accounts, webSessions, activations, apiRateLimit }) => {
  // ---- Profile → API access ----

  app.get('/api-key', { schema: hide, config: carriesSecret }, async (request, reply) => {
    const { principal } = await web.requireSession(request, reply);
    return ok({
      api_key: await webSessions.apiKeyOf(principal),
      rate_limit: { requests_per_second: apiRateLimit.requestsPerSecond, burst: apiRateLimit.burst },
    });
  });

  app.post('/api-key/regenerate', { schema: hide, config: carriesSecret }, async (request, reply) => {
    const { principal } = await web.requireSession(request, reply);
    return ok({ api_key: await webSessions.regenerateApiKey(principal.accountId) });
  });

  // ---- Team (owners) ----

  const requireOwner = async (request: FastifyRequest, reply: FastifyReply) => {
    const session = await web.requireSession(request, reply);
    if (session.principal.role !== 'owner') throw new AppError('forbidden', 'Only owners manage the team');
    return session;
  };

  app.get('/team', { schema: hide }, async (request, reply) => {
    const { principal } = await requireOwner(request, reply);
    const [members, pending, spending] = await Promise.all([
      accounts.members(principal.companyId),
      webSessions.pendingInvites(principal.companyId),
      activations.memberSpending(principal.companyId),
    ]);
    return ok({
      members: members.map((m) => ({
        id: m.id,
        email: m.email,
        role: m.role,
        spent: toUsdNumber(spending.get(m.id)?.spent ?? 0),
        activations: spending.get(m.id)?.activations ?? 0,
        joined_at: formatApiTime(m.createdAt),
      })),
      invites: pending.map((i) => ({ id: i.id, email: i.email, role: i.role, created_at: formatApiTime(i.createdAt) })),
    });
  });

  app.post('/team/invites', { schema: { ...hide, body: schema.InviteBody }, config: carriesSecret }, async (request, reply) => {
    const { principal } = await requireOwner(request, reply);
    const { inviteUrl } = await webSessions.invite(principal, request.body, web.publicUrl(request));
    return ok({ invite_url: inviteUrl });
  });

  app.post('/team/invites/:id/revoke', { schema: { ...hide, params: schema.IdParams } }, async (request, reply) => {
    const { principal } = await requireOwner(request, reply);
    await webSessions.revokeInvite(principal, request.params.id);
    return ok({ id: request.params.id, revoked: true });
  });

  app.post('/team/members/:id/role', { schema: { ...hide, params: schema.IdParams, body: schema.RoleBody } }, async (request, reply) => {
    const { principal } = await requireOwner(request, reply);
    await accounts.changeRole(principal, request.params.id, request.body.role);
    return ok({ id: request.params.id, role: request.body.role });
  });

  app.post('/team/members/:id/remove', { schema: { ...hide, params: schema.IdParams } }, async (request, reply) => {
    const { principal } = await requireOwner(request, reply);
    await webSessions.removeMember(principal, request.params.id);
    return ok({ id: request.params.id, removed: true });
  });
};
