import type { Clock } from '../../clock.ts';
import type { Database, Db } from '../../db/database.ts';
import * as repo from './audit.repo.ts';

/** Who acts: a signed-in staff member, or the operator CLI (someone with shell access to the server). */
export interface Actor {
  staffId: number | null;
  /** 'staff:ann@nova.example' or 'cli'. */
  label: string;
}

export const cliActor: Actor = { staffId: null, label: 'cli' };

/** The product acting on its own rules (e.g. a markup price following a new supply cost). */
export const systemActor: Actor = { staffId: null, label: 'system' };

export function staffActor(staff: { id: number; email: string }): Actor {
  return { staffId: staff.id, label: `staff:${staff.email}` };
}

export interface AuditChange {
  action: string;
  targetType: string;
  targetId: string | number;
  before?: unknown;
  after?: unknown;
  reason?: string | null;
}

export interface AuditEntry {
  id: number;
  staffId: number | null;
  actor: string;
  action: string;
  targetType: string;
  targetId: string;
  before: unknown;
  after: unknown;
  reason: string | null;
  createdAt: Date;
}

export interface AuditService {
  /**
   * Writes one entry with the transaction handle of the change it describes, so the entry and
   * the change commit or roll back together. Returns the entry id (a ledger adjustment names it).
   */
  record(tx: Db, actor: Actor, change: AuditChange): Promise<number>;
  list(filter: repo.AuditFilter): Promise<AuditEntry[]>;
}

export function createAuditService(deps: { database: Database; clock: Clock }): AuditService {
  const { database, clock } = deps;
  return {
    record(tx, actor, change) {
      return repo.insertEntry(tx, {
        staffId: actor.staffId,
        actor: actor.label,
        action: change.action,
        targetType: change.targetType,
        targetId: String(change.targetId),
        before: change.before ?? null,
        after: change.after ?? null,
        reason: change.reason ?? null,
        createdAt: clock.now(),
      });
    },
    async list(filter) {
      return (await repo.listEntries(database.db, filter)).map((row) => ({ ...row }));
    },
  };
}
