import nodemailer from 'nodemailer';
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
  const transport = nodemailer.createTransport(smtpUrl);
  return {
    name: 'smtp',
    async send(email) {
      await transport.sendMail({ from, to: email.to, subject: email.subject, text: email.text });
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
      for (const row of await repo.listSendable(db, maxAttempts, batch)) {
        // Claim the row first, so two instances never send one email twice.
        if (!(await repo.claimAttempt(db, row.id, row.attempts))) continue;
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
