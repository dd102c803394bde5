import { asc, eq, sql } from 'drizzle-orm';
import nodemailer from 'nodemailer';
import type { Clock } from '../../clock.ts';
import type { Database, Db } from '../../db/database.ts';
import { emailOutbox } from './email.tables.ts';

export interface OutgoingEmail {
  to: string;
  subject: string;
  text: string;
}

/** Where emails go: SMTP in production, the log in the demo. */
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

export function createConsoleSender(log: (line: string) => void = (line) => console.log(line)): EmailSender {
  return {
    name: 'console',
    async send(email) {
      log(`[email] to ${email.to}: ${email.subject}\n${email.text}`);
    },
  };
}

export interface EmailService {
  /** Queues an email in the caller's transaction (or on its own); the email job sends it. */
  enqueue(email: OutgoingEmail, tx?: Db): Promise<number>;
  /** Sends up to `batch` pending emails; returns how many were sent. */
  sendPending(sender: EmailSender, batch?: number): Promise<number>;
}

const maxAttempts = 5;

export function createEmailService(deps: { database: Database; clock: Clock }): EmailService {
  const { database, clock } = deps;
  return {
    async enqueue(email, tx) {
      const rows = await (tx ?? database.db)
        .insert(emailOutbox)
        .values({ toAddress: email.to, subject: email.subject, body: email.text, createdAt: clock.now() })
        .returning({ id: emailOutbox.id });
      return rows[0].id;
    },
    async sendPending(sender, batch = 20) {
      const pending = await database.db
        .select()
        .from(emailOutbox)
        .where(sql`${emailOutbox.sentAt} is null and ${emailOutbox.attempts} < ${maxAttempts}`)
        .orderBy(asc(emailOutbox.id))
        .limit(batch);
      let sent = 0;
      for (const row of pending) {
        // Claim the row first, so two instances never send one email twice.
        const claimed = await database.db
          .update(emailOutbox)
          .set({ attempts: row.attempts + 1 })
          .where(sql`${emailOutbox.id} = ${row.id} and ${emailOutbox.attempts} = ${row.attempts} and ${emailOutbox.sentAt} is null`)
          .returning({ id: emailOutbox.id });
        if (claimed.length === 0) continue;
        try {
          await sender.send({ to: row.toAddress, subject: row.subject, text: row.body });
          await database.db.update(emailOutbox).set({ sentAt: clock.now(), lastError: null }).where(eq(emailOutbox.id, row.id));
          sent++;
        } catch (error) {
          await database.db.update(emailOutbox).set({ lastError: String((error as Error).message ?? error) }).where(eq(emailOutbox.id, row.id));
        }
      }
      return sent;
    },
  };
}

