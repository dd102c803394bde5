import { parseArgs } from 'node:util';
import type { OperatorCommand } from '../command.ts';
import { formatApiTime } from '../../time-format.ts';
import { requireIdOption, requireOption } from '../options.ts';

export const emailOutbox: OperatorCommand = {
  name: 'email:outbox',
  usage: 'email:outbox [--to EMAIL] [--limit N]',
  summary:
    'Emails in the outbox, newest first, with their body (reset and invitation links): how to read them when NOVA_SMTP_URL is not set; treat the links as passwords',
  async run(services, args) {
    const { values } = parseArgs({ args, options: { to: { type: 'string' }, limit: { type: 'string' } } });
    const limit = values.limit === undefined ? 20 : Math.min(requireIdOption(values, 'limit'), 1000);
    const to = values.to === undefined ? undefined : requireOption(values, 'to');
    const emails = (await services.email.outbox({ to, limit })).map((e) => ({
      id: e.id,
      to: e.to,
      subject: e.subject,
      body: e.text,
      created_at: formatApiTime(e.createdAt),
      sent_at: e.sentAt ? formatApiTime(e.sentAt) : null,
      attempts: e.attempts,
      last_error: e.lastError,
    }));
    const text =
      emails.length === 0
        ? to === undefined
          ? 'The outbox is empty'
          : `No email to ${to}`
        : emails
            .map((e) => {
              const status = e.sent_at ? `sent ${e.sent_at}` : e.last_error ? `not sent (${e.attempts} attempts: ${e.last_error})` : 'not sent';
              return `#${e.id} ${e.created_at} to ${e.to} [${status}]\nSubject: ${e.subject}\n\n${e.body}\n`;
            })
            .join('\n');
    return { json: { emails }, text };
  },
};
