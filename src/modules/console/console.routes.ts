import fastifyCookie from '@fastify/cookie';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Redis } from 'ioredis';
import type { Config } from '../../config.ts';
import { ok } from '../../http/envelope.ts';
import { carriesSecret } from '../../http/no-store.ts';
import { createCsrfTokens } from '../../http/csrf.ts';
import { AppError } from '../../http/errors.ts';
import { consumeOrExplain, createKeyRateLimiter, createWindowLimiter, limitFailures } from '../../http/rate-limit.ts';
import { formatApiTime } from '../../time-format.ts';
import type { AccountsService } from '../accounts/accounts.service.ts';
import { customersConsoleRoutes } from '../accounts/customers.console.routes.ts';
import type { CustomersService } from '../accounts/customers.service.ts';
import { activationsConsoleRoutes } from '../activations/activations.console.routes.ts';
import type { ActivationsMonitorService } from '../activations/activations-monitor.service.ts';
import { auditConsoleRoutes } from '../audit/audit.console.routes.ts';
import type { AuditService } from '../audit/audit.service.ts';
import type { BillingService } from '../billing/billing.service.ts';
import { catalogConsoleRoutes } from '../catalog/catalog.console.routes.ts';
import { rentalsConsoleRoutes } from '../rentals/rentals.console.routes.ts';
import type { RentalsService } from '../rentals/rentals.service.ts';
import type { CatalogService } from '../catalog/catalog.service.ts';
import { staffConsoleRoutes } from '../staff/staff.console.routes.ts';
import type { StaffService, StaffSession } from '../staff/staff.service.ts';
import { staffSessionLifetimeMs } from '../staff/staff.service.ts';
import { supplyConsoleRoutes } from '../supply/supply.console.routes.ts';
import type { SupplyConsoleService } from '../supply/supply-console.service.ts';
import type { SupplyService } from '../supply/supply.service.ts';
import { feedbackConsoleRoutes } from '../support/feedback.console.routes.ts';
import type { FeedbackService } from '../support/feedback.service.ts';
import { supportConsoleRoutes } from '../support/support.console.routes.ts';
import type { SupportInboxService } from '../support/support-inbox.service.ts';
import type { SupportService } from '../support/support.service.ts';
import { loadServerSecret } from '../web-sessions/web-sessions.service.ts';
import { consoleCsrfCookie, consoleCsrfHeader, consoleSessionCookie, staffAuthentication } from './staff-auth.ts';

/** The services behind the back office (each module's console routes get only their own). */
export interface ConsoleServices {
  staff: StaffService;
  audit: AuditService;
  accounts: AccountsService;
  customers: CustomersService;
  billing: BillingService;
  catalog: CatalogService;
  supply: SupplyService;
  supplyConsole: SupplyConsoleService;
  activationsMonitor: ActivationsMonitorService;
  support: SupportService;
  supportInbox: SupportInboxService;
  feedback: FeedbackService;
  rentals: RentalsService;
}

export interface ConsoleRoutesOptions {
  config: Config;
  services: ConsoleServices;
  /** Redis key prefix for the console's rate limits. */
  redisKeyPrefix: string;
  /** Filled with every back-office route as it is added (the authorization test walks it). */
  routeIndex?: ConsoleRoute[];
}

export interface ConsoleRoute {
  method: string;
  url: string;
  staffRoles: readonly string[];
}

const hide = { hide: true } as const;

const SignInBody = Type.Object({ email: Type.String({ maxLength: 320 }), password: Type.String({ maxLength: 1024 }) }, { additionalProperties: false });
const TotpBody = Type.Object({ code: Type.String({ maxLength: 16 }) }, { additionalProperties: false });

function sessionJson(session: StaffSession | null) {
  if (!session) return { staff: null, stage: null };
  const { staff } = session;
  return {
    staff: { id: staff.id, email: staff.email, role: staff.role, totp_enabled: staff.totpEnabled, created_at: formatApiTime(staff.createdAt) },
    stage: session.stage,
  };
}

/**
 * The console's JSON API under /api/console (docs/console-api.md): staff sign-in with its own
 * cookie, then every back-office route behind one staff-auth hook. Each business noun registers
 * its console routes from its own module.
 */
export const consoleRoutes: FastifyPluginAsyncTypebox<ConsoleRoutesOptions> = async (app, { config, services, redisKeyPrefix, routeIndex }) => {
  const { staff } = services;
  await app.register(fastifyCookie);

  const redis = config.redisUrl ? new Redis(config.redisUrl, { enableOfflineQueue: false, maxRetriesPerRequest: 1 }) : undefined;
  redis?.on('error', () => {});
  // Staff sign-in and second-factor codes: a few tries in a burst per IP and email, then one every 2 s.
  const signInLimiter = createKeyRateLimiter({ requestsPerSecond: 0.5, burst: 5 }, { redis, keyPrefix: `${redisKeyPrefix}:console-signin` });
  const totpLimiter = createKeyRateLimiter({ requestsPerSecond: 0.5, burst: 5 }, { redis, keyPrefix: `${redisKeyPrefix}:console-totp` });
  // Failed staff sign-ins in a window, per IP address (across emails) and per email (across
  // addresses): the same rule and numbers as the website's sign-in (README, "Abuse limits").
  const { windowSeconds, failuresPerIp, failuresPerAccount } = config.signInLimits;
  const failuresByIp = createWindowLimiter({ points: failuresPerIp, duration: windowSeconds }, { redis, keyPrefix: `${redisKeyPrefix}:console-signin-failures-ip` });
  const failuresByAccount = createWindowLimiter({ points: failuresPerAccount, duration: windowSeconds }, { redis, keyPrefix: `${redisKeyPrefix}:console-signin-failures-account` });
  app.addHook('onClose', async () => {
    await signInLimiter.close();
    await totpLimiter.close();
    redis?.disconnect();
  });

  // Secure also on plain HTTP when configured (NOVA_COOKIE_SECURE): behind a TLS proxy the request we see is http.
  const cookieOptions = (request: FastifyRequest) => ({ path: '/', sameSite: 'strict' as const, secure: config.cookieSecure || request.protocol === 'https' });
  const tokenOf = (request: FastifyRequest) => request.cookies[consoleSessionCookie] ?? '';

  // CSRF with the console's own cookie: a state-changing request must send its token in a header.
  // With a staff session cookie the token is bound to that session (src/http/csrf.ts), so it
  // changes at every sign-in and a planted cookie/header pair does not pass.
  const csrf = createCsrfTokens(loadServerSecret(config.secret, config.dataDir), 'console');
  app.addHook('onRequest', async (request) => {
    if (['GET', 'HEAD', 'OPTIONS'].includes(request.method)) return;
    if (!csrf.accepts(tokenOf(request), request.cookies[consoleCsrfCookie] ?? '', request.headers[consoleCsrfHeader])) {
      throw new AppError('forbidden', 'Missing or wrong CSRF token; reload the console and try again');
    }
  });
  // Lives as long as a staff session; JS reads it, so not httpOnly.
  const setCsrfCookie = (request: FastifyRequest, reply: FastifyReply, token: string) => {
    reply.setCookie(consoleCsrfCookie, token, { ...cookieOptions(request), httpOnly: false, maxAge: staffSessionLifetimeMs / 1000 });
  };

  const tooManyAttempts = 'Too many attempts; wait a few seconds and try again';

  // ---- Staff sign-in (open to anyone; everything else sits behind the staff-auth hook) ----

  app.get('/session', { schema: hide, config: carriesSecret }, async (request, reply: FastifyReply) => {
    const token = tokenOf(request);
    // Bound to the staff session cookie when there is one (re-issued when the cookie holds another).
    const cookie = request.cookies[consoleCsrfCookie] ?? '';
    const csrfToken = csrf.expected(token, cookie) || csrf.fresh();
    if (csrfToken !== cookie) setCsrfCookie(request, reply, csrfToken);
    const session = token ? await staff.resolve(token) : null;
    return ok({ ...sessionJson(session), csrf_token: csrfToken });
  });

  app.post('/signin', { schema: { ...hide, body: SignInBody } }, async (request, reply) => {
    const { email, password } = request.body;
    const emailKey = email.trim().toLowerCase();
    await consumeOrExplain(signInLimiter, `${request.ip}:${emailKey}`, tooManyAttempts);
    const result = await limitFailures(
      [
        { limiter: failuresByIp, key: request.ip, message: (s) => `Too many failed sign-ins from your network; try again in ${s} s` },
        { limiter: failuresByAccount, key: emailKey, message: (s) => `Too many failed sign-ins for this email; try again in ${s} s` },
      ],
      () => staff.signIn(email, password),
    );
    if (!result) throw new AppError('unauthorized', 'Wrong email or password');
    reply.setCookie(consoleSessionCookie, result.token, { ...cookieOptions(request), httpOnly: true, maxAge: staffSessionLifetimeMs / 1000 });
    // A new session, a new CSRF token (the console reads the cookie before every change).
    setCsrfCookie(request, reply, csrf.expected(result.token, ''));
    return ok(sessionJson(result.session));
  });

  app.post('/totp/enroll', { schema: hide, config: carriesSecret }, async (request) => {
    const { secret, otpauthUrl } = await staff.startTotpEnrolment(tokenOf(request));
    return ok({ secret, otpauth_url: otpauthUrl });
  });

  app.post('/totp/verify', { schema: { ...hide, body: TotpBody } }, async (request) => {
    const token = tokenOf(request);
    await consumeOrExplain(totpLimiter, `${request.ip}:${token.slice(0, 16)}`, tooManyAttempts);
    const session = await staff.verifyTotp(token, request.body.code);
    return ok(sessionJson(session));
  });

  app.post('/signout', { schema: hide }, async (request, reply) => {
    await staff.signOut(tokenOf(request));
    reply.clearCookie(consoleSessionCookie, { path: '/' });
    setCsrfCookie(request, reply, csrf.fresh());
    return ok({ signed_out: true });
  });

  // ---- The back office: one staff-auth hook in front of every module's console routes ----

  await app.register(async (backOffice) => {
    backOffice.addHook('onRequest', staffAuthentication(staff));
    backOffice.addHook('onRoute', (route) => {
      for (const method of [route.method].flat()) {
        if (method !== 'HEAD') routeIndex?.push({ method, url: route.url, staffRoles: route.config?.staffRoles ?? ['admin'] });
      }
    });
    // Each module's console routes register here (see docs/console-api.md).
    await backOffice.register(staffConsoleRoutes, { staff });
    await backOffice.register(auditConsoleRoutes, { audit: services.audit });
    await backOffice.register(supportConsoleRoutes, { support: services.support, inbox: services.supportInbox, staff });
    await backOffice.register(feedbackConsoleRoutes, { feedback: services.feedback });
    await backOffice.register(customersConsoleRoutes, { customers: services.customers, accounts: services.accounts, billing: services.billing });
    await backOffice.register(supplyConsoleRoutes, { supply: services.supply, supplyConsole: services.supplyConsole, staff });
    await backOffice.register(activationsConsoleRoutes, { monitor: services.activationsMonitor });
    await backOffice.register(catalogConsoleRoutes, { catalog: services.catalog });
    await backOffice.register(rentalsConsoleRoutes, { rentals: services.rentals });
  });
};
