import type { FastifyBaseLogger } from 'fastify';
import type { Config } from '../config.ts';
import { createConsoleSender, createSmtpSender, type EmailService } from '../modules/email/email.service.ts';
import { startJobLoop } from './job-loop.ts';

const intervalMs = 2000;

/**
 * Sends the email outbox (password resets, invites) every few seconds: over SMTP when
 * NOVA_SMTP_URL is set, otherwise into the log (the demo).
 */
export function startEmailSenderJob(email: EmailService, config: Config, log: FastifyBaseLogger) {
  const sender = config.smtp.url
    ? createSmtpSender(config.smtp.url, config.smtp.from)
    : createConsoleSender((line) => log.info(line));
  return startJobLoop('email-sender', intervalMs, () => email.sendPending(sender), log);
}
