import { randomBytes, timingSafeEqual } from 'node:crypto';
import fastifyCookie from '@fastify/cookie';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import type { Services } from '../../app.ts';
import type { Config } from '../../config.ts';
import type { Database } from '../../db/database.ts';
import { type ActivationEvent } from '../../events/domain-events.ts';
import { activationChannel } from '../../events/pubsub.ts';
import { ok } from '../../http/envelope.ts';
import { AppError } from '../../http/errors.ts';
import { createKeyRateLimiter } from '../../http/rate-limit.ts';
import { formatApiTime } from '../../time-format.ts';
import type { AccountInfo, Principal } from '../accounts/accounts.service.ts';
import { activationJson, messageJson } from '../activations/activations.routes.ts';
import type { Activation } from '../activations/activations.service.ts';
import { toUsdNumber, usdNumberToUnits } from '../billing/money.ts';
import { topupLimits } from '../payments/payments.service.ts';
import { type SupportMessage, supportChannel } from '../support/support.service.ts';
import { deliveryJson, webhookInput, webhookJson } from '../webhooks/webhooks.routes.ts';
import { CreateWebhookBody, DeliveriesQuery, DeliveryIdParams, WebhookIdParams } from '../webhooks/webhooks.schema.ts';
import { sessionLifetimeMs } from '../web-sessions/web-sessions.service.ts';
import { type EventStream, openEventStream } from './event-stream.ts';
import { memberSpending } from './web.repo.ts';
import * as schema from './web.schema.ts';

export const sessionCookie = 'nova_session';
export const csrfCookie = 'nova_csrf';
const csrfHeader = 'x-csrf-token';
const visitorHeader = 'x-visitor-token';
const webhookPath = '/stripe/webhook';

export interface WebRoutesOptions {
  config: Config;
  services: Services;
  database: Database;
  /** Redis key prefix for the website's rate limits. */
  redisKeyPrefix: string;
}

interface WebSession {
  account: AccountInfo;
  principal: Principal;
}

declare module 'fastify' {
  interface FastifyRequest {
    webSession?: WebSession | null;
  }
}

const hide = { hide: true } as const;

function accountJson(account: AccountInfo) {
  return { id: account.id, email: account.email, role: account.role, company_id: account.companyId, company_name: account.companyName };
}

function supportMessageJson(message: SupportMessage) {
  return { id: message.id, author: message.author, text: message.text, created_at: formatApiTime(message.createdAt) };
}

function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function csvField(value: string | number | null): string {
  const text = value === null ? '' : String(value);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/**
 * The website's JSON API (docs/web-api.md): a session cookie instead of an API key, mapped to the
 * same Principal the API uses; every rule stays in the domain services.
 */
export const webRoutes: FastifyPluginAsyncTypebox<WebRoutesOptions> = async (app, { config, services, database, redisKeyPrefix }) => {
  const { accounts, activations, billing, catalog, webSessions, payments, support, webhooks } = services;
  await app.register(fastifyCookie);

  const redis = config.redisUrl ? new Redis(config.redisUrl, { enableOfflineQueue: false, maxRetriesPerRequest: 1 }) : undefined;
  redis?.on('error', () => {});
  // Sign-in: per IP and email, a few tries in a burst, then about one a second at most.
  const signInLimiter = createKeyRateLimiter({ requestsPerSecond: 1, burst: 5 }, { redis, keyPrefix: `${redisKeyPrefix}:web-signin` });
  // Password reset emails: a few per address and email, so nobody floods an inbox.
  const resetLimiter = createKeyRateLimiter({ requestsPerSecond: 1, burst: 3 }, { redis, keyPrefix: `${redisKeyPrefix}:web-reset` });
  // Chat: 10 visitor messages a minute per conversation.
  const chatMemory = new RateLimiterMemory({ points: 10, duration: 60, keyPrefix: `${redisKeyPrefix}:web-chat` });
  const chatLimiter = redis
    ? new RateLimiterRedis({ storeClient: redis, points: 10, duration: 60, keyPrefix: `${redisKeyPrefix}:web-chat`, insuranceLimiter: chatMemory })
    : chatMemory;

  const streams = new Set<EventStream>();
  support.onMessage((message) => {
    void app.pubsub.publish(supportChannel(message.conversationId), JSON.stringify({ ...message, createdAt: message.createdAt.toISOString() })).catch(() => {});
  });
  app.addHook('preClose', async () => {
    for (const stream of [...streams]) stream.end();
  });
  app.addHook('onClose', async () => {
    await signInLimiter.close();
    await resetLimiter.close();
    redis?.disconnect();
  });

  // Never taken from the request's Host: a forged Host would put an attacker's site in a reset
  // email. Without NOVA_PUBLIC_URL, the address this server listens on (right for the demo).
  const publicUrl = (_request: FastifyRequest) => {
    if (config.publicUrl) return config.publicUrl;
    const address = app.server.address();
    const port = address && typeof address === 'object' ? address.port : config.port;
    const host = ['0.0.0.0', '::', ''].includes(config.host) ? 'localhost' : config.host.includes(':') ? `[${config.host}]` : config.host;
    return `http://${host}:${port}`;
  };
  const cookieOptions = (request: FastifyRequest) => ({ path: '/', sameSite: 'lax' as const, secure: request.protocol === 'https' });

  function setSessionCookie(request: FastifyRequest, reply: FastifyReply, token: string) {
    reply.setCookie(sessionCookie, token, { ...cookieOptions(request), httpOnly: true, maxAge: sessionLifetimeMs / 1000 });
  }

  async function sessionOf(request: FastifyRequest, reply: FastifyReply): Promise<WebSession | null> {
    if (request.webSession !== undefined) return request.webSession;
    const token = request.cookies[sessionCookie] ?? '';
    const resolved = token ? await webSessions.resolve(token) : null;
    if (resolved?.renewed) setSessionCookie(request, reply, token);
    request.webSession = resolved ? { account: resolved.account, principal: resolved.principal } : null;
    return request.webSession;
  }

  async function requireSession(request: FastifyRequest, reply: FastifyReply): Promise<WebSession> {
    const session = await sessionOf(request, reply);
    if (!session) throw new AppError('unauthorized', 'Please sign in');
    return session;
  }

  function signedIn(request: FastifyRequest, reply: FastifyReply, result: { account: AccountInfo; sessionToken: string }) {
    setSessionCookie(request, reply, result.sessionToken);
    return ok({ account: accountJson(result.account) });
  }

  // CSRF, double submit: a state-changing request must echo the nova_csrf cookie in a header,
  // which a page on another site can neither read nor set.
  app.addHook('onRequest', async (request) => {
    if (['GET', 'HEAD', 'OPTIONS'].includes(request.method)) return;
    if (request.url.split('?')[0].endsWith(webhookPath)) return;
    const cookie = request.cookies[csrfCookie] ?? '';
    const header = request.headers[csrfHeader];
    if (!cookie || typeof header !== 'string' || !sameText(cookie, header)) {
      throw new AppError('forbidden', 'Missing or wrong CSRF token; reload the page and try again');
    }
  });

  // ---- Session ----

  app.get('/session', { schema: hide }, async (request, reply) => {
    let csrf = request.cookies[csrfCookie];
    if (!csrf) {
      csrf = randomBytes(24).toString('base64url');
      reply.setCookie(csrfCookie, csrf, { ...cookieOptions(request), httpOnly: false, maxAge: 365 * 24 * 3600 });
    }
    const session = await sessionOf(request, reply);
    return ok({ account: session ? accountJson(session.account) : null, csrf_token: csrf });
  });

  app.post('/signup', { schema: { ...hide, body: schema.SignUpBody } }, async (request, reply) => {
    const { email, password, company_name } = request.body;
    if (password.length < 8) throw new AppError('invalid_request', 'The password must have at least 8 characters');
    return signedIn(request, reply, await webSessions.signUp({ email, password, companyName: company_name }));
  });

  app.post('/signin', { schema: { ...hide, body: schema.SignInBody } }, async (request, reply) => {
    const { email, password } = request.body;
    try {
      await signInLimiter.consume(`${request.ip}:${email.trim().toLowerCase()}`);
    } catch (error) {
      if (error instanceof AppError && error.code === 'rate_limited') {
        throw new AppError('rate_limited', 'Too many sign-in attempts; wait a few seconds and try again', { headers: error.headers });
      }
      throw error;
    }
    const result = await webSessions.signIn(email, password);
    if (!result) throw new AppError('unauthorized', 'Wrong email or password');
    return signedIn(request, reply, result);
  });

  app.post('/signout', { schema: hide }, async (request, reply) => {
    await webSessions.signOut(request.cookies[sessionCookie] ?? '');
    reply.clearCookie(sessionCookie, { path: '/' });
    return ok({ signed_out: true });
  });

  app.post('/password-reset/request', { schema: { ...hide, body: schema.ResetRequestBody } }, async (request) => {
    try {
      await resetLimiter.consume(`${request.ip}:${request.body.email.trim().toLowerCase()}`);
    } catch (error) {
      if (error instanceof AppError && error.code === 'rate_limited') {
        throw new AppError('rate_limited', 'Too many reset requests; wait a few seconds and try again', { headers: error.headers });
      }
      throw error;
    }
    await webSessions.requestPasswordReset(request.body.email, publicUrl(request));
    return ok({ sent: true });
  });

  app.post('/password-reset/confirm', { schema: { ...hide, body: schema.ResetConfirmBody } }, async (request, reply) =>
    signedIn(request, reply, await webSessions.confirmPasswordReset(request.body.token, request.body.password)),
  );

  // ---- Public catalog ----

  app.get('/prices', { schema: hide }, async () => {
    const [prices, serviceList, countryList] = await Promise.all([catalog.prices({}), catalog.services(), catalog.countries()]);
    const serviceNames = new Map(serviceList.map((s) => [s.code, s.name]));
    const countryById = new Map(countryList.map((c) => [c.id, c]));
    return ok({
      prices: prices.map((row) => ({
        service: row.serviceCode,
        service_name: serviceNames.get(row.serviceCode) ?? row.serviceCode,
        country: row.countryId,
        country_name: countryById.get(row.countryId)?.name ?? String(row.countryId),
        country_iso: countryById.get(row.countryId)?.iso ?? '',
        price: toUsdNumber(row.price),
        available: row.available,
        in_stock: row.available > 0,
      })),
    });
  });

  // ---- Invites ----

  app.get('/invites/:token', { schema: { ...hide, params: schema.InviteParams } }, async (request) => {
    const invite = await webSessions.inviteInfo(request.params.token);
    return ok({ email: invite.email, company_name: invite.companyName, role: invite.role });
  });

  app.post('/invites/accept', { schema: { ...hide, body: schema.AcceptInviteBody } }, async (request, reply) => {
    if (request.body.password.length < 8) throw new AppError('invalid_request', 'The password must have at least 8 characters');
    return signedIn(request, reply, await webSessions.acceptInvite(request.body.token, request.body.password));
  });

  // ---- Signed in: balance, transactions ----

  app.get('/balance', { schema: hide }, async (request, reply) => {
    const { principal } = await requireSession(request, reply);
    return ok({ balance: toUsdNumber(await billing.balanceOf(principal.companyId)), currency: 'USD' });
  });

  app.get('/transactions', { schema: { ...hide, querystring: schema.PageQuery } }, async (request, reply) => {
    const { principal } = await requireSession(request, reply);
    const { limit, offset } = request.query;
    const [rows, total] = await Promise.all([billing.ledger(principal.companyId, { limit, offset }), billing.ledgerSize(principal.companyId)]);
    return ok({
      transactions: rows.map((row) => ({
        id: row.id,
        kind: row.kind,
        amount: toUsdNumber(row.amount),
        balance_after: toUsdNumber(row.balanceAfter),
        reason: row.reason,
        created_at: formatApiTime(row.createdAt),
      })),
      total,
      limit,
      offset,
    });
  });

  // ---- Activations (same service, same visibility as API v1) ----

  const fullActivation = async (principal: Principal, id: number) => {
    const { activation, messages } = await activations.get(principal, id);
    return { ...activationJson(activation, activations), messages: messages.map(messageJson) };
  };

  app.post('/activations', { schema: { ...hide, body: schema.BuyBody } }, async (request, reply) => {
    const { principal } = await requireSession(request, reply);
    const activation = await activations.buy(principal, {
      serviceCode: request.body.service_code,
      countryId: request.body.country_id,
      operator: request.body.operator || undefined,
    });
    return reply.status(201).send(ok({ activation: activationJson(activation, activations) }));
  });

  app.get('/activations', { schema: { ...hide, querystring: schema.ActivationsQuery } }, async (request, reply) => {
    const { principal } = await requireSession(request, reply);
    const { limit, offset, status } = request.query;
    const page = await activations.list(principal, { limit, offset, status: status as Activation['status'] | undefined });
    return ok({ activations: page.activations.map((a) => activationJson(a, activations)), total: page.total, limit, offset });
  });

  app.get('/activations.csv', { schema: { ...hide, querystring: schema.CsvQuery } }, async (request, reply) => {
    const { principal } = await requireSession(request, reply);
    const status = request.query.status as Activation['status'] | undefined;
    const lines = ['id,number,service,country,price,status,code,created_at,expires_at'];
    for (let offset = 0; offset < 10_000; offset += 100) {
      const page = await activations.list(principal, { limit: 100, offset, status });
      for (const a of page.activations) {
        lines.push(
          [a.id, a.number, a.serviceCode, a.countryId, toUsdNumber(a.price), a.status, a.code, formatApiTime(a.createdAt), formatApiTime(a.expiresAt)]
            .map(csvField)
            .join(','),
        );
      }
      if (page.activations.length < 100) break;
    }
    return reply
      .type('text/csv; charset=utf-8')
      .header('content-disposition', 'attachment; filename="nova-activations.csv"')
      .send(`${lines.join('\r\n')}\r\n`);
  });

  app.get('/activations/:id', { schema: { ...hide, params: schema.IdParams } }, async (request, reply) => {
    const { principal } = await requireSession(request, reply);
    return ok({ activation: await fullActivation(principal, request.params.id) });
  });

  app.post('/activations/:id/cancel', { schema: { ...hide, params: schema.IdParams } }, async (request, reply) => {
    const { principal } = await requireSession(request, reply);
    return ok({ activation: activationJson(await activations.cancel(principal, request.params.id), activations) });
  });

  app.post('/activations/:id/complete', { schema: { ...hide, params: schema.IdParams } }, async (request, reply) => {
    const { principal } = await requireSession(request, reply);
    return ok({ activation: activationJson(await activations.complete(principal, request.params.id), activations) });
  });

  // Live activation changes, pushed from pub/sub (works across instances; no database
  // connection held while waiting).
  app.get('/live', { schema: hide }, async (request, reply) => {
    await requireSession(request, reply);
    const token = request.cookies[sessionCookie] ?? '';
    const stream = openEventStream(request, reply, streams);
    let chain = Promise.resolve();
    const unsubscribe = app.pubsub.subscribe(activationChannel, (message) => {
      chain = chain.then(async () => {
        let event: ActivationEvent;
        try {
          event = JSON.parse(message) as ActivationEvent;
        } catch {
          return;
        }
        const session = await webSessions.resolve(token).catch(() => null);
        if (!session) return stream.end();
        const { principal } = session;
        if (event.companyId !== principal.companyId) return;
        if (principal.role !== 'owner' && event.accountId !== principal.accountId) return;
        try {
          stream.send('activation', { activation: await fullActivation(principal, event.activationId) });
        } catch {
          // Not visible (any more): nothing to push.
        }
      });
    });
    stream.onClose(unsubscribe);
  });

  // ---- Profile → API access ----

  app.get('/api-key', { schema: hide }, async (request, reply) => {
    const { principal } = await requireSession(request, reply);
    return ok({
      api_key: await webSessions.apiKeyOf(principal),
      rate_limit: { requests_per_second: config.rateLimit.requestsPerSecond, burst: config.rateLimit.burst },
    });
  });

  app.post('/api-key/regenerate', { schema: hide }, async (request, reply) => {
    const { principal } = await requireSession(request, reply);
    return ok({ api_key: await webSessions.regenerateApiKey(principal.accountId) });
  });

  // ---- Team (owners) ----

  const requireOwner = async (request: FastifyRequest, reply: FastifyReply) => {
    const session = await requireSession(request, reply);
    if (session.principal.role !== 'owner') throw new AppError('forbidden', 'Only owners manage the team');
    return session;
  };

  app.get('/team', { schema: hide }, async (request, reply) => {
    const { principal } = await requireOwner(request, reply);
    const [members, pending, spending] = await Promise.all([
      accounts.members(principal.companyId),
      webSessions.pendingInvites(principal.companyId),
      memberSpending(database.db, principal.companyId),
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

  app.post('/team/invites', { schema: { ...hide, body: schema.InviteBody } }, async (request, reply) => {
    const { principal } = await requireOwner(request, reply);
    const { inviteUrl } = await webSessions.invite(principal, request.body, publicUrl(request));
    return ok({ invite_url: inviteUrl });
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

  // ---- Webhooks (owners; the webhooks service enforces it, as on API v1) ----

  app.get('/webhooks', { schema: hide }, async (request, reply) => {
    const { principal } = await requireSession(request, reply);
    return ok({ webhooks: (await webhooks.list(principal)).map(webhookJson) });
  });

  app.post('/webhooks', { schema: { ...hide, body: CreateWebhookBody } }, async (request, reply) => {
    const { principal } = await requireSession(request, reply);
    const { endpoint, secret } = await webhooks.create(principal, webhookInput(request.body));
    return reply.status(201).send(ok({ webhook: { ...webhookJson(endpoint), secret } }));
  });

  app.post('/webhooks/:id/delete', { schema: { ...hide, params: WebhookIdParams } }, async (request, reply) => {
    const { principal } = await requireSession(request, reply);
    await webhooks.remove(principal, request.params.id);
    return ok({ deleted: true, id: request.params.id });
  });

  app.get('/webhooks/:id/deliveries', { schema: { ...hide, params: WebhookIdParams, querystring: DeliveriesQuery } }, async (request, reply) => {
    const { principal } = await requireSession(request, reply);
    return ok({ deliveries: (await webhooks.deliveries(principal, request.params.id, request.query)).map(deliveryJson) });
  });

  app.post('/webhooks/deliveries/:id/resend', { schema: { ...hide, params: DeliveryIdParams } }, async (request, reply) => {
    const { principal } = await requireSession(request, reply);
    return reply.status(201).send(ok({ delivery: deliveryJson(await webhooks.resend(principal, request.params.id)) }));
  });

  // ---- Top-up ----

  app.get('/topup', { schema: hide }, async (request, reply) => {
    await requireSession(request, reply);
    return ok({ provider: payments.provider?.name ?? 'none', min_amount: toUsdNumber(topupLimits.min), max_amount: toUsdNumber(topupLimits.max) });
  });

  app.post('/topup', { schema: { ...hide, body: schema.TopupBody } }, async (request, reply) => {
    const { principal } = await requireSession(request, reply);
    const amount = usdNumberToUnits(request.body.amount);
    if (amount === null) throw new AppError('invalid_request', 'body.amount must be a USD amount with at most 2 decimals');
    const result = await payments.startTopup({
      companyId: principal.companyId,
      accountId: principal.accountId,
      amount,
      returnUrl: `${publicUrl(request)}/topup`,
    });
    if ('checkoutUrl' in result) return ok({ checkout_url: result.checkoutUrl });
    return ok({ credited: true, balance: toUsdNumber(result.balance), label: 'Demo payment' });
  });

  // Stripe signs the exact bytes it sent: this route gets the raw body.
  await app.register(async (webhook) => {
    webhook.removeContentTypeParser('application/json');
    webhook.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));
    webhook.post(webhookPath, { schema: hide }, async (request) => {
      const signature = request.headers['stripe-signature'];
      if (typeof signature !== 'string') throw new AppError('invalid_request', 'Missing Stripe-Signature header');
      const result = await payments.handleStripeWebhook(request.body as Buffer, signature);
      return ok({ received: true, credited: result.credited });
    });
  });

  // ---- Chat with us ----

  async function conversationOf(token: string) {
    const conversation = await support.conversationOf(token);
    if (!conversation) throw new AppError('not_found', 'Unknown conversation; start a new one');
    return conversation;
  }

  const visitorToken = (request: FastifyRequest) => {
    const header = request.headers[visitorHeader];
    return typeof header === 'string' ? header : '';
  };

  app.post('/chat/conversations', { schema: hide }, async (request, reply) => {
    const session = await sessionOf(request, reply);
    const { conversationId, visitorToken: token } = await support.startConversation(session?.account.id ?? null);
    return ok({ conversation_id: conversationId, visitor_token: token });
  });

  app.get('/chat/messages', { schema: { ...hide, querystring: schema.ChatMessagesQuery } }, async (request) => {
    const conversation = await conversationOf(visitorToken(request));
    const messages = await support.messages(conversation.id, request.query.after);
    return ok({ messages: messages.map(supportMessageJson) });
  });

  app.post('/chat/messages', { schema: { ...hide, body: schema.ChatMessageBody } }, async (request, reply) => {
    const token = visitorToken(request);
    const conversation = await conversationOf(token);
    try {
      await chatLimiter.consume(`conversation:${conversation.id}`);
    } catch (rejection) {
      if (!(rejection instanceof RateLimiterRes)) throw rejection;
      const retryAfter = Math.max(1, Math.ceil(rejection.msBeforeNext / 1000));
      throw new AppError('rate_limited', `You are sending messages too fast; try again in ${retryAfter} s`, { headers: { 'retry-after': String(retryAfter) } });
    }
    const session = await sessionOf(request, reply);
    if (session && conversation.accountId === null) await support.attachAccount(conversation.id, session.account.id);
    const message = await support.post(conversation.id, 'visitor', request.body.text);
    return ok({ message: supportMessageJson(message) });
  });

  app.get('/chat/live', { schema: { ...hide, querystring: schema.ChatLiveQuery } }, async (request, reply) => {
    const conversation = await conversationOf(request.query.visitor_token);
    const stream = openEventStream(request, reply, streams);
    // Subscribe first, then send what the browser has not seen yet: nothing falls in between.
    let lastSent = request.query.after || Number(request.headers['last-event-id'] ?? 0) || 0;
    const sendOnce = (message: SupportMessage) => {
      if (message.id <= lastSent) return;
      lastSent = message.id;
      stream.send('message', supportMessageJson(message), message.id);
    };
    const unsubscribe = app.pubsub.subscribe(supportChannel(conversation.id), (raw) => {
      try {
        const parsed = JSON.parse(raw) as SupportMessage & { createdAt: string };
        sendOnce({ ...parsed, createdAt: new Date(parsed.createdAt) });
      } catch {
        // Not a message: ignore.
      }
    });
    stream.onClose(unsubscribe);
    if (lastSent > 0) for (const message of await support.messages(conversation.id, lastSent)) sendOnce(message);
  });

  app.post('/feedback', { schema: { ...hide, body: schema.FeedbackBody } }, async (request, reply) => {
    const session = await sessionOf(request, reply);
    const { rating, comment, context, reference } = request.body;
    await support.leaveFeedback({ rating, comment, context, reference, accountId: session?.account.id ?? null });
    return ok({ message: 'Thanks for your feedback!' });
  });
};
