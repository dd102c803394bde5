import type { OperatorCommand } from '../command.ts';
import { formatApiTime } from '../../time-format.ts';

export const supportInbox: OperatorCommand = {
  name: 'support:inbox',
  usage: 'support:inbox',
  summary: 'List "Chat with us" conversations, latest first; "waiting" marks the ones whose last message is from the visitor',
  async run(services) {
    const entries = await services.support.inbox();
    const json = entries.map((e) => ({
      conversation_id: e.conversationId,
      account_id: e.accountId,
      email: e.email,
      messages: e.messages,
      waiting: e.lastAuthor === 'visitor',
      last_author: e.lastAuthor,
      last_text: e.lastText,
      last_message_at: e.lastMessageAt ? formatApiTime(e.lastMessageAt) : null,
    }));
    const text =
      entries.length === 0
        ? 'No conversations yet'
        : json
            .map(
              (e) =>
                `#${e.conversation_id}${e.waiting ? ' [waiting]' : ''} ${e.email ?? 'anonymous visitor'} · ${e.messages} messages · ${e.last_message_at}\n    ${e.last_author}: ${(e.last_text ?? '').replace(/\s+/g, ' ').slice(0, 100)}`,
            )
            .join('\n');
    return { json: { conversations: json }, text };
  },
};
