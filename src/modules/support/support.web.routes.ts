import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import { ok } from '../../http/envelope.ts';
import { carriesSecret } from '../../http/no-store.ts';
import { AppError } from '../../http/errors.ts';
import { consumeWindow } from '../../http/rate-limit.ts';
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
  // Spam limits (README, "Abuse limits"). Chat: 10 visitor messages a minute per conversation
  // (its visitor token) and 20 a minute per IP address across conversations; 20 new
  // conversations an hour per IP address (a browser keeps reusing its open one).
  // Feedback: 10 an hour per IP address and 10 per signed-in customer.
  const chatLimiter = web.windowRateLimiter('chat', { points: 10, duration: 60 });
  const chatByIp = web.windowRateLimiter('chat-ip', { points: 20, duration: 60 });
  const conversationsByIp = web.windowRateLimiter('chat-conversations-ip', { points: 20, duration: 3600 });
  const feedbackByIp = web.windowRateLimiter('feedback-ip', { points: 10, duration: 3600 });
  const feedbackByAccount = web.windowRateLimiter('feedback-account', { points: 10, duration: 3600 });
  const tooFast = (s: number) => `You are sending messages too fast; try again in ${s} s`;
  const inMinutes = (s: number) => `${Math.ceil(s / 60)} min`;

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

  app.post('/chat/conversations', { schema: { ...hide, body: schema.ChatStartBody }, config: carriesSecret }, async (request, reply) => {
    await consumeWindow(conversationsByIp, request.ip, (s) => `Too many new conversations from your network; continue an open one or try again in ${inMinutes(s)}`);
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
    // The conversation first: a message it refuses does not use up the address's allowance.
    await consumeWindow(chatLimiter, `conversation:${conversation.id}`, tooFast);
    await consumeWindow(chatByIp, request.ip, tooFast);
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
    const tooMuch = (s: number) => `Thanks, we have your feedback; you can send more in ${inMinutes(s)}`;
    if (session) await consumeWindow(feedbackByAccount, `account:${session.account.id}`, tooMuch);
    await consumeWindow(feedbackByIp, request.ip, tooMuch);
    const { rating, comment, context, reference } = request.body;
    await support.leaveFeedback({ rating, comment, context, reference, accountId: session?.account.id ?? null });
    return ok({ message: 'Thanks for your feedback!' });
  });
};
