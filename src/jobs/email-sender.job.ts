import type { FastifyBaseLogger } from 'fastify';
import type { Config } from '../config.ts';
import { createSmtpSender, type EmailService } from '../modules/email/email.service.ts';
import { type RunningJob, startJobLoop } from './job-loop.ts';

const intervalMs = 2000;
const readThem = 'read them with `npm run nova -- email:outbox [--to EMAIL]`';

/**
 * Sends the email outbox (password resets, invites) over SMTP every few seconds when
 * NOVA_SMTP_URL is set. Without it nothing is sent and nothing of an email's body is logged (its
 * link would let whoever reads the log into the account): the emails stay in the outbox for the
 * operator. In demo mode the log says that an email was queued, to whom, and how to read it.
 * Safe with several instances: each email is claimed (SKIP LOCKED, with a lease) before it is
 * sent, so it goes out once; a claim left by an instance that died mid-send runs out and another
 * instance sends it.
 */
export function startEmailSenderJob(email: EmailService, config: Config, log: FastifyBaseLogger): RunningJob {
  if (config.smtp.url) {
    const sender = createSmtpSender(config.smtp.url, config.smtp.from);
    return startJobLoop('email-sender', intervalMs, () => email.sendPending(sender), log);
  }
  if (!config.demo) {
    log.warn(`NOVA_SMTP_URL is not set: emails (sign-up links, password resets, invitations) are not sent; they stay in the database outbox, ${readThem}`);
    return { name: 'email-sender', runOnce: async () => 0, stop: async () => {} };
  }
  log.info(`Demo mode without NOVA_SMTP_URL: emails are not sent; ${readThem}`);
  let lastNoticed = 0;
  return startJobLoop(
    'email-notice',
    intervalMs,
    async () => {
      const queued = await email.unsentAfter(lastNoticed);
      for (const queuedEmail of queued) {
        lastNoticed = queuedEmail.id;
        log.info({ emailId: queuedEmail.id }, `email queued to ${queuedEmail.to}: "${queuedEmail.subject}" (not sent; ${readThem})`);
      }
      return queued.length;
    },
    log,
  );
}
