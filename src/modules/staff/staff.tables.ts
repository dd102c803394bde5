import { sql } from 'drizzle-orm';
import { bigint, check, index, integer, pgTable, serial, text, timestamp } from 'drizzle-orm/pg-core';

export const staffRoles = ['admin', 'support'] as const;
export type StaffRole = (typeof staffRoles)[number];

/** Nova's own people: they sign in to the console, never to the customer website. */
export const staff = pgTable(
  'staff',
  {
    id: serial('id').primaryKey(),
    email: text('email').notNull().unique(),
    passwordHash: text('password_hash').notNull(),
    role: text('role', { enum: staffRoles }).notNull(),
    // RFC 6238 shared secret, sealed with the server secret; null until the staff member enrols.
    totpSecretSealed: text('totp_secret_sealed'),
    totpEnabledAt: timestamp('totp_enabled_at', { withTimezone: true }),
    // The 30 s time step of the last code accepted: a code is good once (RFC 6238 §5.2), so one
    // seen over a shoulder or taken from a log cannot open a second session within its minute.
    totpLastStep: bigint('totp_last_step', { mode: 'number' }),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    disabledAt: timestamp('disabled_at', { withTimezone: true }),
  },
  (t) => [check('staff_role_known', sql`${t.role} in ('admin', 'support')`)],
);

/**
 * Console sessions, apart from customer sessions. A session starts at 'password' and becomes
 * 'complete' once the second factor is verified (or, for support staff without TOTP, at once).
 */
export const staffSessions = pgTable(
  'staff_sessions',
  {
    id: serial('id').primaryKey(),
    // SHA-256 of the cookie token.
    tokenHash: text('token_hash').notNull().unique(),
    staffId: integer('staff_id')
      .notNull()
      .references(() => staff.id),
    stage: text('stage', { enum: ['password', 'complete'] }).notNull(),
    // A TOTP secret offered during enrolment, sealed; moved to the staff row once confirmed.
    pendingTotpSealed: text('pending_totp_sealed'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull(),
    expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
  },
  (t) => [
    index('staff_sessions_staff_idx').on(t.staffId),
    check('staff_sessions_stage_known', sql`${t.stage} in ('password', 'complete')`),
  ],
);
