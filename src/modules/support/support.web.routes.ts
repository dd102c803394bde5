import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import { RateLimiterRes } from 'rate-limiter-flexible';
import { ok } from '../../http/envelope.ts';
import { AppError } from '../../http/errors.ts';
import { formatApiTime } from '../../time-format.ts';
import type { WebHttp } from '../web/web-session.ts';
import * as schema from '../web/web.schema.ts';
import { hide } from '../web/web.schema.ts';
import { type SupportMessage, type SupportService, supportChannel } from './support.service.ts';

const visitorHeader = 'x-visitor-token';

export function supportMessageJson(message: SupportMessage) {
  return { id: message.id, author: message.author, text: message.text, created_at: formatApiTime(message.createdAt) };
}

/**
 * Website: "Chat with us" (anonymous visitors or signed-in customers; a conversation is reached
 * by its visitor token) and feedback.
 */
export const supportWebRoutes: FastifyPluginAsyncTypebox<{ web: WebHttp; support: SupportService }> = async (app, { web, support }) => {
  // Chat: 10 visitor messages a minute per conversation.
  const chatLimiter = web.windowRateLimiter('chat', { points: 10, duration: 60 });

  // Every new message goes out on pub/sub, so a chat window on any instance sees it at once.
  support.onMessage((message) => {
    void app.pubsub.publish(supportChannel(message.conversationId), JSON.stringify({ ...message, createdAt: message.createdAt.toISOString() })).catch(() => {});
  });

  async function conversationOf(token: string) {
    const conversation = await support.conversationOf(token);
    if (!conversation) throw new AppError('not_found', 'Unknown conversation; start a new one');
    return conversation;
  }

  const visitorToken = (request: FastifyRequest) => {
    const header = request.headers[visitorHeader];
    return typeof header === 'string' ? header : '';
  };

  // ---- Chat with us ----

  app.post('/chat/conversations', { schema: { ...hide, body: schema.ChatStartBody } }, async (request, reply) => {
    const session = await web.sessionOf(request, reply);
    const { conversationId, visitorToken: token } = await support.startConversation(session?.account.id ?? null, request.body?.page);
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
    const session = await web.sessionOf(request, reply);
    if (session && conversation.accountId === null) await support.attachAccount(conversation.id, session.account.id);
    const message = await support.post(conversation.id, 'visitor', request.body.text, { page: request.body.page });
    return ok({ message: supportMessageJson(message) });
  });

  app.get('/chat/live', { schema: { ...hide, querystring: schema.ChatLiveQuery } }, async (request, reply) => {
    const conversation = await conversationOf(request.query.visitor_token);
    const stream = web.openEventStream(request, reply);
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

  // ---- Feedback ----

  app.post('/feedback', { schema: { ...hide, body: schema.FeedbackBody } }, async (request, reply) => {
    const session = await web.sessionOf(request, reply);
    const { rating, comment, context, reference } = request.body;
    await support.leaveFeedback({ rating, comment, context, reference, accountId: session?.account.id ?? null });
    return ok({ message: 'Thanks for your feedback!' });
  });
};
