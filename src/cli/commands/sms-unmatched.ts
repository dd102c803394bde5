import { parseArgs } from 'node:util';
import type { OperatorCommand } from '../command.ts';
import { formatApiTime } from '../../time-format.ts';
import { requireIdOption } from '../options.ts';

export const smsUnmatched: OperatorCommand = {
  name: 'sms:unmatched',
  usage: 'sms:unmatched [--limit N]',
  summary: 'List received SMS that matched no activation (newest first; they are kept, never dropped)',
  async run(services, args) {
    const { values } = parseArgs({ args, options: { limit: { type: 'string' } } });
    const limit = values.limit === undefined ? 50 : Math.min(requireIdOption(values, 'limit'), 1000);
    const messages = (await services.supply.listUnmatchedSms(limit)).map((m) => ({
      id: m.id,
      provider_id: m.providerId,
      to: m.to,
      from: m.sender,
      text: m.text,
      code: m.code,
      received_at: formatApiTime(m.receivedAt),
    }));
    const text =
      messages.length === 0
        ? 'No unmatched SMS'
        : messages.map((m) => `#${m.id} ${m.received_at} provider ${m.provider_id} to ${m.to} from ${m.from}: ${m.text}`).join('\n');
    return { json: { messages }, text };
  },
};
