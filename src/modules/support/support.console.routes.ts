import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { ok } from '../../http/envelope.ts';
import { formatApiTime } from '../../time-format.ts';
import type { Activation } from '../activations/activations.service.ts';
import { toUsdNumber } from '../billing/money.ts';
import { actorOf, consoleSessionCookie, staffOf, supportAllowed } from '../console/staff-auth.ts';
import type { StaffService } from '../staff/staff.service.ts';
import { type EventStream, openEventStream } from '../web/event-stream.ts';
import type { ConversationSummary, InboxMessage, SupportInboxService, UnreadTotals, VisitorContext } from './support-inbox.service.ts';
import { type InboxChange, type SupportService, maxMessageLength, supportInboxChannel } from './support.service.ts';

const hide = { hide: true } as const;

const ConversationParams = Type.Object({ id: Type.Integer({ minimum: 1, maximum: 2_147_483_647 }) });
const ConversationsQuery = Type.Object(
  {
    status: Type.Union([Type.Literal('open'), Type.Literal('closed'), Type.Literal('all')], { default: 'open' }),
    assigned: Type.Union([Type.Literal('all'), Type.Literal('mine'), Type.Literal('unassigned')], { default: 'all' }),
    limit: Type.Integer({ minimum: 1, maximum: 200, default: 50 }),
    offset: Type.Integer({ minimum: 0, maximum: 1_000_000, default: 0 }),
  },
  { additionalProperties: false },
);
const ThreadQuery = Type.Object({ after: Type.Integer({ minimum: 0, maximum: 2_147_483_647, default: 0 }) }, { additionalProperties: false });
// The length after trimming is checked by the support service, with a clear message.
const ReplyBody = Type.Object({ text: Type.String({ minLength: 1, maxLength: maxMessageLength * 10 }) }, { additionalProperties: false });
const AssignBody = Type.Object({ staff_id: Type.Union([Type.Integer({ minimum: 1, maximum: 2_147_483_647 }), Type.Null()]) }, { additionalProperties: false });

export function conversationJson(c: ConversationSummary) {
  return {
    id: c.id,
    status: c.status,
    account: c.account ? { id: c.account.id, email: c.account.email, company_id: c.account.companyId, company_name: c.account.companyName } : null,
    assigned_to: c.assignedTo,
    page: c.page,
    unread: c.unread,
    messages: c.messages,
    last_message: c.lastMessage ? { author: c.lastMessage.author, text: c.lastMessage.text, created_at: formatApiTime(c.lastMessage.createdAt) } : null,
    last_message_at: c.lastMessageAt ? formatApiTime(c.lastMessageAt) : null,
    created_at: formatApiTime(c.createdAt),
    closed_at: c.closedAt ? formatApiTime(c.closedAt) : null,
  };
}

export function inboxMessageJson(m: InboxMessage) {
  return { id: m.id, conversation_id: m.conversationId, author: m.author, text: m.text, staff: m.staff, created_at: formatApiTime(m.createdAt) };
}

const totalsJson = (t: UnreadTotals) => ({ total_unread: t.totalUnread, unread_conversations: t.unreadConversations });

function activationJson(a: Activation) {
  return { id: a.id, service: a.serviceCode, country: a.countryId, number: a.number, price: toUsdNumber(a.price), status: a.status, code: a.code, created_at: formatApiTime(a.createdAt) };
}

function contextJson(c: VisitorContext) {
  return {
    conversation_id: c.conversationId,
    page: c.page,
    account: c.account ? { id: c.account.id, email: c.account.email, role: c.account.role, created_at: formatApiTime(c.account.createdAt) } : null,
    company: c.company
      ? { id: c.company.id, name: c.company.name, balance: toUsdNumber(c.company.balance), blocked: c.company.blocked, blocked_reason: c.company.blockedReason }
      : null,
    recent_activations: c.recentActivations.map(activationJson),
  };
}

/**
 * The pub/sub message of one inbox change, computed once by the instance where it happened: the
 * conversation's fresh row and the inbox totals, so every agent's stream just forwards it.
 */
export async function inboxEventJson(inbox: SupportInboxService, change: InboxChange) {
  const [conversation, totals, message] = await Promise.all([
    inbox.summary(change.conversationId),
    inbox.unreadTotals(),
    change.message ? inbox.withStaff([change.message]).then((rows) => rows[0]) : undefined,
  ]);
  return { kind: change.kind, conversation: conversationJson(conversation), ...totalsJson(totals), message: message ? inboxMessageJson(message) : null };
}

type InboxEvent = Awaited<ReturnType<typeof inboxEventJson>>;

/** Console: the "Chat with us" inbox (admins and support staff). */
export const supportConsoleRoutes: FastifyPluginAsyncTypebox<{ support: SupportService; inbox: SupportInboxService; staff: StaffService }> = async (
  app,
  { support, inbox, staff },
) => {
  // Every change goes out on pub/sub, in the order it happened here, so agents on any instance see it.
  let publishing = Promise.resolve();
  support.onInboxChange((change) => {
    publishing = publishing
      .then(async () => app.pubsub.publish(supportInboxChannel, JSON.stringify(await inboxEventJson(inbox, change))))
      .catch((error) => app.log.warn({ err: error, conversationId: change.conversationId }, 'support inbox event not published'));
  });
  const streams = new Set<EventStream>();
  app.addHook('preClose', async () => {
    for (const stream of [...streams]) stream.end();
  });

  app.get('/support/conversations', { config: supportAllowed, schema: { ...hide, querystring: ConversationsQuery } }, async (request) => {
    const { status, assigned, limit, offset } = request.query;
    const result = await inbox.list(staffOf(request).id, { status, assigned }, { limit, offset });
    return ok({ conversations: result.conversations.map(conversationJson), total: result.total, ...totalsJson(result), limit, offset });
  });

  app.get('/support/conversations/:id', { config: supportAllowed, schema: { ...hide, params: ConversationParams, querystring: ThreadQuery } }, async (request) => {
    const { conversation, messages } = await inbox.read(request.params.id, request.query.after);
    return ok({ conversation: conversationJson(conversation), messages: messages.map(inboxMessageJson) });
  });

  app.get('/support/conversations/:id/context', { config: supportAllowed, schema: { ...hide, params: ConversationParams } }, async (request) =>
    ok(contextJson(await inbox.context(request.params.id))),
  );

  app.post('/support/conversations/:id/messages', { config: supportAllowed, schema: { ...hide, params: ConversationParams, body: ReplyBody } }, async (request) => {
    const message = await support.post(request.params.id, 'support', request.body.text, { staffId: staffOf(request).id });
    const [withStaff] = await inbox.withStaff([message]);
    return ok({ message: inboxMessageJson(withStaff) });
  });

  app.post('/support/conversations/:id/assign', { config: supportAllowed, schema: { ...hide, params: ConversationParams, body: AssignBody } }, async (request) => {
    await support.assign(actorOf(request), request.params.id, request.body.staff_id);
    return ok({ conversation: conversationJson(await inbox.summary(request.params.id)) });
  });

  app.post('/support/conversations/:id/close', { config: supportAllowed, schema: { ...hide, params: ConversationParams } }, async (request) => {
    await support.close(actorOf(request), request.params.id);
    return ok({ conversation: conversationJson(await inbox.summary(request.params.id)) });
  });

  app.post('/support/conversations/:id/reopen', { config: supportAllowed, schema: { ...hide, params: ConversationParams } }, async (request) => {
    await support.reopen(actorOf(request), request.params.id);
    return ok({ conversation: conversationJson(await inbox.summary(request.params.id)) });
  });

  app.get('/support/agents', { config: supportAllowed, schema: hide }, async () => {
    const agents = await staff.list();
    return ok({ agents: agents.map((s) => ({ id: s.id, email: s.email, role: s.role })) });
  });

  app.get('/support/live', { config: supportAllowed, schema: hide }, async (request, reply) => {
    const token = request.cookies[consoleSessionCookie] ?? '';
    let stream: EventStream | undefined;
    let opened!: () => void;
    // Events are forwarded one at a time, in the order they arrived, once the stream is open.
    let forwarding = new Promise<void>((resolve) => {
      opened = resolve;
    });
    const forward = async (raw: string) => {
      if (!stream) return;
      // A stream outlives its session otherwise: an agent signed out (or disabled) stops hearing the inbox.
      const session = await staff.resolve(token).catch(() => null);
      if (!session || session.stage !== 'complete') return stream.end();
      let event: InboxEvent;
      try {
        event = JSON.parse(raw) as InboxEvent;
      } catch {
        return;
      }
      if (event.message) stream.send('message', { conversation_id: event.conversation.id, message: event.message });
      stream.send('conversation', { conversation: event.conversation, total_unread: event.total_unread, unread_conversations: event.unread_conversations });
    };
    const subscription = app.pubsub.subscribe(supportInboxChannel, (raw) => {
      forwarding = forwarding.then(() => forward(raw)).catch(() => {});
    });
    // Subscribed before the stream opens: whatever happens once the agent sees "ready" reaches them.
    await subscription.ready;
    stream = openEventStream(request, reply, streams);
    stream.onClose(subscription);
    stream.send('ready', totalsJson(await inbox.unreadTotals()));
    opened();
  });
};
