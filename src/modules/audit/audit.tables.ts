import { bigserial, index, integer, jsonb, pgTable, text, timestamp } from 'drizzle-orm/pg-core';
import { staff } from '../staff/staff.tables.ts';

/**
 * Who changed what, from what to what, and when: one row per staff (or operator CLI) action
 * that changes money, prices, stock, providers, customers or staff, written in the same
 * transaction as the change it describes.
 */
export const auditLog = pgTable(
  'audit_log',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    // Null when the operator CLI acted (actor then says 'cli').
    staffId: integer('staff_id').references(() => staff.id),
    // 'staff:ann@nova.example' or 'cli': readable even after a staff member is removed.
    actor: text('actor').notNull(),
    // Dotted verb, e.g. 'price.set', 'company.block', 'balance.adjust'.
    action: text('action').notNull(),
    targetType: text('target_type').notNull(),
    targetId: text('target_id').notNull(),
    before: jsonb('before'),
    after: jsonb('after'),
    reason: text('reason'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull(),
  },
  (t) => [
    index('audit_log_created_idx').on(t.createdAt, t.id),
    index('audit_log_target_idx').on(t.targetType, t.targetId),
    index('audit_log_staff_idx').on(t.staffId, t.id),
  ],
);
