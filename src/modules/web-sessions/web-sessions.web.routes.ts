import { randomBytes } from 'node:crypto';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ok } from '../../http/envelope.ts';
import { AppError } from '../../http/errors.ts';
import { type AccountInfo, accountBlockedMessage } from '../accounts/accounts.service.ts';
import { consumeOrExplain, csrfCookie, sessionCookie, type WebHttp } from '../web/web-session.ts';
import * as schema from '../web/web.schema.ts';
import { hide } from '../web/web.schema.ts';
import type { WebSessionsService } from './web-sessions.service.ts';

export function accountJson(account: AccountInfo) {
  return { id: account.id, email: account.email, role: account.role, company_id: account.companyId, company_name: account.companyName };
}

/** Website: the session, sign-up, sign-in, sign-out, password reset and invite acceptance (docs/web-api.md). */
export const webSessionsWebRoutes: FastifyPluginAsyncTypebox<{ web: WebHttp; webSessions: WebSessionsService }> = async (app, { web, webSessions }) => {
  // Sign-in: per IP and email, a few tries in a burst, then about one a second at most.
  const signInLimiter = web.keyRateLimiter('signin', { requestsPerSecond: 1, burst: 5 });
  // Password reset emails: a few per address and email, so nobody floods an inbox.
  const resetLimiter = web.keyRateLimiter('reset', { requestsPerSecond: 1, burst: 3 });

  function signedIn(request: FastifyRequest, reply: FastifyReply, result: { account: AccountInfo; sessionToken: string }) {
    web.setSessionCookie(request, reply, result.sessionToken);
    return ok({ account: accountJson(result.account) });
  }

  app.get('/session', { schema: hide }, async (request, reply) => {
    let csrf = request.cookies[csrfCookie];
    if (!csrf) {
      csrf = randomBytes(24).toString('base64url');
      reply.setCookie(csrfCookie, csrf, { ...web.cookieOptions(request), httpOnly: false, maxAge: 365 * 24 * 3600 });
    }
    const session = await web.sessionOf(request, reply);
    // A blocked company's members stay signed in to read why (every other signed-in route says 403 account_blocked).
    const blocked = session?.principal.blocked ?? false;
    return ok({
      account: session ? accountJson(session.account) : null,
      blocked,
      blocked_message: blocked ? accountBlockedMessage : null,
      csrf_token: csrf,
    });
  });

  app.post('/signup', { schema: { ...hide, body: schema.SignUpBody } }, async (request, reply) => {
    const { email, password, company_name } = request.body;
    if (password.length < 8) throw new AppError('invalid_request', 'The password must have at least 8 characters');
    return signedIn(request, reply, await webSessions.signUp({ email, password, companyName: company_name }));
  });

  app.post('/signin', { schema: { ...hide, body: schema.SignInBody } }, async (request, reply) => {
    const { email, password } = request.body;
    await consumeOrExplain(signInLimiter, `${request.ip}:${email.trim().toLowerCase()}`, 'Too many sign-in attempts; wait a few seconds and try again');
    const result = await webSessions.signIn(email, password);
    if (!result) throw new AppError('unauthorized', 'Wrong email or password');
    return signedIn(request, reply, result);
  });

  app.post('/signout', { schema: hide }, async (request, reply) => {
    await webSessions.signOut(web.sessionToken(request));
    reply.clearCookie(sessionCookie, { path: '/' });
    return ok({ signed_out: true });
  });

  app.post('/password-reset/request', { schema: { ...hide, body: schema.ResetRequestBody } }, async (request) => {
    await consumeOrExplain(resetLimiter, `${request.ip}:${request.body.email.trim().toLowerCase()}`, 'Too many reset requests; wait a few seconds and try again');
    await webSessions.requestPasswordReset(request.body.email, web.publicUrl(request));
    return ok({ sent: true });
  });

  app.post('/password-reset/confirm', { schema: { ...hide, body: schema.ResetConfirmBody } }, async (request, reply) =>
    signedIn(request, reply, await webSessions.confirmPasswordReset(request.body.token, request.body.password)),
  );

  // ---- Invites (accepting one signs the new member in) ----

  app.get('/invites/:token', { schema: { ...hide, params: schema.InviteParams } }, async (request) => {
    const invite = await webSessions.inviteInfo(request.params.token);
    return ok({ email: invite.email, company_name: invite.companyName, role: invite.role });
  });

  app.post('/invites/accept', { schema: { ...hide, body: schema.AcceptInviteBody } }, async (request, reply) => {
    if (request.body.password.length < 8) throw new AppError('invalid_request', 'The password must have at least 8 characters');
    return signedIn(request, reply, await webSessions.acceptInvite(request.body.token, request.body.password));
  });
};
