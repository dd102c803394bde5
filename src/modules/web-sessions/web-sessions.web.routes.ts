import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Config } from '../../config.ts';
import { ok } from '../../http/envelope.ts';
import { carriesSecret } from '../../http/no-store.ts';
import { AppError } from '../../http/errors.ts';
import { consumeWindow, limitFailures } from '../../http/rate-limit.ts';
import { type AccountInfo, accountBlockedMessage } from '../accounts/accounts.service.ts';
import { consumeOrExplain } from '../../http/rate-limit.ts';
import type { WebHttp } from '../web/web-session.ts';
import * as schema from '../web/web.schema.ts';
import { hide } from '../web/web.schema.ts';
import type { WebSessionsService } from './web-sessions.service.ts';

export function accountJson(account: AccountInfo) {
  return { id: account.id, email: account.email, role: account.role, company_id: account.companyId, company_name: account.companyName };
}

/** Website: the session, sign-up, sign-in, sign-out, password reset and invite acceptance (docs/web-api.md). */
export const webSessionsWebRoutes: FastifyPluginAsyncTypebox<{
  web: WebHttp;
  webSessions: WebSessionsService;
  signInLimits: Config['signInLimits'];
}> = async (app, { web, webSessions, signInLimits }) => {
  const { windowSeconds, failuresPerAccount, failuresPerIp, newAccountsPerIpPerHour } = signInLimits;
  // Sign-in: per IP and email, a few tries in a burst, then about one a second at most.
  const signInLimiter = web.keyRateLimiter('signin', { requestsPerSecond: 1, burst: 5 });
  // Failed sign-ins in a window: per IP address (one address trying many emails) and per email
  // (one account guessed from many addresses). See limitFailures for what counts.
  const failuresByIp = web.windowRateLimiter('signin-failures-ip', { points: failuresPerIp, duration: windowSeconds });
  const failuresByAccount = web.windowRateLimiter('signin-failures-account', { points: failuresPerAccount, duration: windowSeconds });
  // New accounts (sign-up and invitation acceptance, a password hash each) per IP address per hour.
  const newAccounts = web.windowRateLimiter('new-accounts', { points: newAccountsPerIpPerHour, duration: 3600 });
  // Password reset emails: a few per IP address and email in a burst...
  const resetLimiter = web.keyRateLimiter('reset', { requestsPerSecond: 1, burst: 3 });
  // ...and at most 5 an hour to one email from anywhere. Counted whether or not the email has an
  // account, so the answer (sent, or 429) never tells which emails belong to customers.
  const resetsByEmail = web.windowRateLimiter('reset-email', { points: 5, duration: 3600 });
  // Sign-up emails: at most 5 an hour to one address from anywhere, counted whether or not it has
  // an account (a 429 tells nothing either), so nobody can flood an inbox through the form.
  const signUpsByEmail = web.windowRateLimiter('signup-email', { points: 5, duration: 3600 });
  const newAccountAllowed = (request: FastifyRequest) =>
    consumeWindow(newAccounts, request.ip, (s) => `Too many new accounts from your network; try again in ${Math.ceil(s / 60)} min`);

  function signedIn(request: FastifyRequest, reply: FastifyReply, result: { account: AccountInfo; sessionToken: string }) {
    web.setSessionCookie(request, reply, result.sessionToken);
    return ok({ account: accountJson(result.account) });
  }

  app.get('/session', { schema: hide, config: carriesSecret }, async (request, reply) => {
    // Bound to the session cookie when there is one (also re-issued when the cookie holds another).
    const csrf = web.csrfToken(request, reply);
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

  // The same answer (status, body, about the time) whether or not the email has an account: the
  // account is created only from the emailed link, and an existing account is emailed instead.
  app.post('/signup', { schema: { ...hide, body: schema.SignUpBody } }, async (request) => {
    const { email, password, company_name } = request.body;
    if (password.length < 8) throw new AppError('invalid_request', 'The password must have at least 8 characters');
    await newAccountAllowed(request);
    await consumeWindow(signUpsByEmail, email.trim().toLowerCase(), (s) => `Too many sign-up emails were sent to this address; check your inbox or try again in ${Math.ceil(s / 60)} min`);
    await webSessions.requestSignUp({ email, password, companyName: company_name }, web.publicUrl(request));
    return ok({ email_sent: true });
  });

  app.post('/signup/confirm', { schema: { ...hide, body: schema.ConfirmSignUpBody } }, async (request, reply) =>
    signedIn(request, reply, await webSessions.confirmSignUp(request.body.token)),
  );

  app.post('/signin', { schema: { ...hide, body: schema.SignInBody } }, async (request, reply) => {
    const { email, password } = request.body;
    const emailKey = email.trim().toLowerCase();
    await consumeOrExplain(signInLimiter, `${request.ip}:${emailKey}`, 'Too many sign-in attempts; wait a few seconds and try again');
    const result = await limitFailures(
      [
        { limiter: failuresByIp, key: request.ip, message: (s) => `Too many failed sign-ins from your network; try again in ${s} s` },
        { limiter: failuresByAccount, key: emailKey, message: (s) => `Too many failed sign-ins for this email; try again in ${s} s or reset your password` },
      ],
      () => webSessions.signIn(email, password),
    );
    if (!result) throw new AppError('unauthorized', 'Wrong email or password');
    return signedIn(request, reply, result);
  });

  app.post('/signout', { schema: hide }, async (request, reply) => {
    await webSessions.signOut(web.sessionToken(request));
    web.clearSessionCookie(request, reply);
    return ok({ signed_out: true });
  });

  app.post('/password-reset/request', { schema: { ...hide, body: schema.ResetRequestBody } }, async (request) => {
    const emailKey = request.body.email.trim().toLowerCase();
    await consumeOrExplain(resetLimiter, `${request.ip}:${emailKey}`, 'Too many reset requests; wait a few seconds and try again');
    await consumeWindow(resetsByEmail, emailKey, (s) => `Too many reset emails were sent to this address; check your inbox or try again in ${Math.ceil(s / 60)} min`);
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
    await newAccountAllowed(request);
    return signedIn(request, reply, await webSessions.acceptInvite(request.body.token, request.body.password));
  });
};
