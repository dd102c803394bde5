import { parseArgs } from 'node:util';
import { createRedisPubSub } from '../../events/pubsub.ts';
import { formatApiTime } from '../../time-format.ts';
import { inboxEventJson } from '../../modules/support/support.console.routes.ts';
import { supportChannel, supportInboxChannel } from '../../modules/support/support.service.ts';
import type { OperatorCommand } from '../command.ts';
import { requireIdOption, requireOption } from '../options.ts';

export const supportReply: OperatorCommand = {
  name: 'support:reply',
  usage: 'support:reply --conversation ID --text TEXT',
  summary: 'Answer a "Chat with us" conversation as support; the visitor sees it live',
  async run(services, args) {
    const { values } = parseArgs({ args, options: { conversation: { type: 'string' }, text: { type: 'string' } } });
    const conversationId = requireIdOption(values, 'conversation');
    const message = await services.support.post(conversationId, 'support', requireOption(values, 'text'));
    // Run inside a server, the server publishes it; run on its own against PostgreSQL, the
    // command publishes through Redis so the servers' live streams get it.
    if (services.support.listenerCount() === 0 && process.env.REDIS_URL) {
      const pubsub = createRedisPubSub(process.env.REDIS_URL, 'nova:events');
      await pubsub.publish(supportChannel(conversationId), JSON.stringify({ ...message, createdAt: message.createdAt.toISOString() })).catch(() => {});
      // The agents' console inbox hears it too.
      const event = await inboxEventJson(services.supportInbox, { conversationId, kind: 'message', message });
      await pubsub.publish(supportInboxChannel, JSON.stringify(event)).catch(() => {});
      await pubsub.close();
    }
    return {
      json: { conversation_id: conversationId, message: { id: message.id, author: message.author, text: message.text, created_at: formatApiTime(message.createdAt) } },
      text: `Replied in conversation ${conversationId} (message ${message.id})`,
    };
  },
};
