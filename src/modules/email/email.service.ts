import type { Transporter } from 'nodemailer';
import type { Clock } from '../../clock.ts';
import type { Database, Db } from '../../db/database.ts';
import * as repo from './email.repo.ts';

export interface OutgoingEmail {
  to: string;
  subject: string;
  text: string;
}

/** An email in the outbox, sent or not. */
export interface OutboxEmail extends OutgoingEmail {
  id: number;
  createdAt: Date;
  sentAt: Date | null;
  attempts: number;
  lastError: string | null;
}

/**
 * Where emails go: an SMTP server. There is deliberately no log sender: reset and invitation
 * links are as good as a password, so without SMTP emails stay in the outbox (`email:outbox`).
 */
export interface EmailSender {
  name: string;
  send(email: OutgoingEmail): Promise<void>;
}

export function createSmtpSender(smtpUrl: string, from: string): EmailSender {
  // nodemailer is loaded with the first email sent: a server without SMTP, or with nothing to
  // send yet, does not carry it in memory.
  let transport: Promise<Transporter> | undefined;
  const smtp = () =>
    (transport ??= import('nodemailer').then(({ default: nodemailer }) =>
      // Bounded well within the claim on an email (claimSeconds), so a hung server cannot make a
      // second instance send it while the first is still trying.
      nodemailer.createTransport({ url: smtpUrl, connectionTimeout: 20_000, greetingTimeout: 20_000, socketTimeout: 30_000 }),
    ));
  return {
    name: 'smtp',
    async send(email) {
      await (await smtp()).sendMail({ from, to: email.to, subject: email.subject, text: email.text });
    },
  };
}

export interface EmailService {
  /** Queues an email in the caller's transaction (or on its own); the email job sends it. */
  enqueue(email: OutgoingEmail, tx?: Db): Promise<number>;
  /** Sends up to `batch` pending emails; returns how many were sent. */
  sendPending(sender: EmailSender, batch?: number): Promise<number>;
  /** The outbox newest first, optionally to one address (the operator's `email:outbox`). */
  outbox(filter: { to?: string; limit: number }): Promise<OutboxEmail[]>;
  /** Unsent emails queued after `afterId`, oldest first (the demo's "an email was queued" log lines). */
  unsentAfter(afterId: number, limit?: number): Promise<OutboxEmail[]>;
}

const maxAttempts = 5;
// Longer than an SMTP exchange can take (see the transport's timeouts), so a claim runs out only
// when its sender died.
const claimSeconds = 120;

function emailOf(row: repo.OutboxRow): OutboxEmail {
  return {
    id: row.id,
    to: row.toAddress,
    subject: row.subject,
    text: row.body,
    createdAt: row.createdAt,
    sentAt: row.sentAt,
    attempts: row.attempts,
    lastError: row.lastError,
  };
}

export function createEmailService(deps: { database: Database; clock: Clock }): EmailService {
  const { database, clock } = deps;
  const db = database.db;
  return {
    enqueue: (email, tx) => repo.insertEmail(tx ?? db, { toAddress: email.to, subject: email.subject, body: email.text, createdAt: clock.now() }),
    async sendPending(sender, batch = 20) {
      let sent = 0;
      // One attempt per email per pass: the pass walks forward past each email it tried.
      let afterId = 0;
      for (let i = 0; i < batch; i++) {
        // Claimed one by one and sent outside any transaction: a slow SMTP server holds no
        // connection or lock, and no other instance sends the email meanwhile.
        const now = clock.now();
        const claimUntil = new Date(now.getTime() + claimSeconds * 1000);
        const row = await database.transaction((tx) => repo.claimNextEmail(tx, { afterId, now, claimUntil, maxAttempts }));
        if (!row) break;
        afterId = row.id;
        try {
          await sender.send({ to: row.toAddress, subject: row.subject, text: row.body });
          await repo.markSent(db, row.id, clock.now());
          sent++;
        } catch (error) {
          await repo.markFailed(db, row.id, String((error as Error).message ?? error));
        }
      }
      return sent;
    },
    outbox: async (filter) => (await repo.listOutbox(db, filter)).map(emailOf),
    unsentAfter: async (afterId, limit = 50) => (await repo.listUnsentAfter(db, afterId, limit)).map(emailOf),
  };
}
