import { createHash, randomBytes } from 'node:crypto';
import { generateSecret, generateURI, verify as verifyTotp } from 'otplib';
import type { Clock } from '../../clock.ts';
import type { Database } from '../../db/database.ts';
import { isUniqueViolation } from '../../db/database.ts';
import { AppError } from '../../http/errors.ts';
import { normalizeEmail } from '../accounts/accounts.service.ts';
import type { PasswordHasher } from '../accounts/password.ts';
import type { Actor, AuditService } from '../audit/audit.service.ts';
import type { SecretBox } from '../web-sessions/secret-box.ts';
import * as repo from './staff.repo.ts';
import { staffRoles, type StaffRole } from './staff.tables.ts';

// Console sessions are short: a stolen cookie of a back-office user is worth a lot.
export const staffSessionLifetimeMs = 12 * 3600 * 1000;
// A code from the previous or next 30 s step still counts (clock drift of the phone).
const totpToleranceSeconds = 30;

const newToken = () => randomBytes(32).toString('base64url');
const hashToken = (token: string) => createHash('sha256').update(token).digest('hex');

export interface StaffMember {
  id: number;
  email: string;
  role: StaffRole;
  totpEnabled: boolean;
  disabled: boolean;
  createdAt: Date;
}

/**
 * Where a console session stands: 'totp_enroll' (an admin must set up a second factor first),
 * 'totp' (the second factor is due), or 'complete' (the console is open).
 */
export type SignInStage = 'totp_enroll' | 'totp' | 'complete';

export interface StaffSession {
  staff: StaffMember;
  stage: SignInStage;
}

export interface StaffService {
  /** A new staff member; a generated password (printed once) when none is given. */
  create(actor: Actor, input: { email: string; role: string; password?: string }): Promise<{ staff: StaffMember; password: string }>;
  list(): Promise<StaffMember[]>;
  /** null for a wrong email or password alike (and for a disabled staff member). */
  signIn(email: string, password: string): Promise<{ token: string; session: StaffSession } | null>;
  resolve(token: string): Promise<StaffSession | null>;
  /** Offers a new TOTP secret to a session that must enrol; confirmed by verifyTotp. */
  startTotpEnrolment(token: string): Promise<{ secret: string; otpauthUrl: string }>;
  /** Checks a 6-digit code (enrolling or signing in); the session becomes complete. */
  verifyTotp(token: string, code: string): Promise<StaffSession>;
  signOut(token: string): Promise<void>;
  /**
   * An admin changes a staff member: role, disabled (signs them out everywhere), or a reset of
   * their second factor (a lost phone: they enrol again at next sign-in). Audited; the last
   * active admin can be neither demoted nor disabled, and nobody changes themselves.
   */
  update(actor: Actor, staffId: number, change: { role?: StaffRole; disabled?: boolean; resetTotp?: boolean }): Promise<StaffMember>;
}

function memberOf(row: repo.StaffRow): StaffMember {
  return { id: row.id, email: row.email, role: row.role, totpEnabled: row.totpEnabledAt !== null, disabled: row.disabledAt !== null, createdAt: row.createdAt };
}

function stageOf(row: repo.StaffRow, sessionStage: 'password' | 'complete'): SignInStage {
  if (sessionStage === 'complete') return 'complete';
  if (row.totpEnabledAt) return 'totp';
  // Admins hold the keys to money and prices: they may not skip the second factor.
  return row.role === 'admin' ? 'totp_enroll' : 'complete';
}

export function createStaffService(deps: { database: Database; clock: Clock; audit: AuditService; secretBox: SecretBox; passwords: PasswordHasher }): StaffService {
  const { database, clock, audit, secretBox, passwords } = deps;
  const db = database.db;

  async function liveSession(token: string) {
    if (!token) return null;
    const found = await repo.findLiveSession(db, hashToken(token), clock.now());
    if (!found || found.staff.disabledAt) return null;
    return found;
  }

  /** The time step of `code` when it is good for `secret` now and later than `usedStep` (a code is good once); null otherwise. */
  async function stepOfValidCode(secret: string, code: string, usedStep: number | null): Promise<number | null> {
    if (!/^\d{6}$/.test(code)) return null;
    const result = await verifyTotp({
      secret,
      token: code,
      epoch: Math.floor(clock.now().getTime() / 1000),
      epochTolerance: totpToleranceSeconds,
      ...(usedStep === null ? {} : { afterTimeStep: usedStep }),
    });
    // (A TOTP result carries its time step; the declared type is shared with HOTP's, which does not.)
    return result.valid && 'timeStep' in result ? (result.timeStep as number) : null;
  }

  return {
    async create(actor, input) {
      const email = normalizeEmail(input.email);
      if (!(staffRoles as readonly string[]).includes(input.role)) {
        throw new AppError('invalid_request', `Unknown staff role "${input.role}"; use admin or support`);
      }
      const password = input.password ?? randomBytes(15).toString('base64url');
      if (password.length < 12) throw new AppError('invalid_request', 'A staff password must have at least 12 characters');
      const passwordHash = await passwords.hash(password);
      try {
        const row = await database.transaction(async (tx) => {
          const created = await repo.insertStaff(tx, { email, passwordHash, role: input.role as StaffRole, createdAt: clock.now() });
          await audit.record(tx, actor, { action: 'staff.create', targetType: 'staff', targetId: created.id, after: { email, role: created.role } });
          return created;
        });
        return { staff: memberOf(row), password };
      } catch (error) {
        if (isUniqueViolation(error)) throw new AppError('conflict', `A staff member with email ${email} already exists`);
        throw error;
      }
    },

    async list() {
      return (await repo.listStaff(db)).map(memberOf);
    },

    async signIn(emailInput, password) {
      let email: string;
      try {
        email = normalizeEmail(emailInput);
      } catch {
        return null;
      }
      const row = await repo.findStaffByEmail(db, email);
      const valid = await passwords.verify(password, row?.passwordHash ?? (await passwords.dummyHash()));
      if (!row || !valid || row.disabledAt) return null;
      const token = newToken();
      const stage = stageOf(row, 'password') === 'complete' ? 'complete' : 'password';
      const now = clock.now();
      await repo.insertSession(db, { tokenHash: hashToken(token), staffId: row.id, stage, createdAt: now, expiresAt: new Date(now.getTime() + staffSessionLifetimeMs) });
      return { token, session: { staff: memberOf(row), stage: stageOf(row, stage) } };
    },

    async resolve(token) {
      const found = await liveSession(token);
      return found ? { staff: memberOf(found.staff), stage: stageOf(found.staff, found.session.stage) } : null;
    },

    async startTotpEnrolment(token) {
      const found = await liveSession(token);
      if (!found) throw new AppError('unauthorized', 'Sign in to the console first');
      if (found.staff.totpEnabledAt) throw new AppError('invalid_state', 'A second factor is already set up; enter its code');
      const secret = generateSecret();
      await repo.updateSession(db, found.session.id, { pendingTotpSealed: secretBox.seal(secret) });
      return { secret, otpauthUrl: generateURI({ issuer: 'Nova SMS Console', label: found.staff.email, secret }) };
    },

    async verifyTotp(token, code) {
      const found = await liveSession(token);
      if (!found) throw new AppError('unauthorized', 'Sign in to the console first');
      const { session, staff } = found;
      const enrolling = !staff.totpEnabledAt;
      const sealed = enrolling ? session.pendingTotpSealed : staff.totpSecretSealed;
      if (!sealed) throw new AppError('invalid_state', 'Start the second-factor setup first');
      const secret = secretBox.open(sealed);
      if (!secret) throw new AppError('invalid_state', 'The second-factor secret cannot be read (was NOVA_SECRET changed?); ask an admin to reset it');
      const usedStep = enrolling ? null : staff.totpLastStep;
      const step = await stepOfValidCode(secret, code.trim(), usedStep);
      const refused = () =>
        new AppError('unauthorized', 'Wrong, expired or already used code; enter the current 6-digit code from your authenticator app (a code works once: wait for the next one)');
      if (step === null) throw refused();
      await database.transaction(async (tx) => {
        // Checked again as it is written: of two sign-ins with one code, one wins.
        if (!(await repo.useTotpStep(tx, staff.id, step))) throw refused();
        if (enrolling) {
          await repo.setTotpSecret(tx, staff.id, sealed, clock.now());
          await repo.updateSession(tx, session.id, { pendingTotpSealed: null });
        }
        await repo.updateSession(tx, session.id, { stage: 'complete' });
      });
      return { staff: { ...memberOf(staff), totpEnabled: true }, stage: 'complete' };
    },

    async signOut(token) {
      if (token) await repo.deleteSession(db, hashToken(token));
    },

    async update(actor, staffId, change) {
      if (actor.staffId === staffId) throw new AppError('invalid_request', 'Ask another admin to change your own staff account');
      if (change.role === undefined && change.disabled === undefined && !change.resetTotp) {
        throw new AppError('invalid_request', 'Say what to change: role, disabled or reset_totp');
      }
      return database.transaction(async (tx) => {
        const before = await repo.lockStaff(tx, staffId);
        if (!before) throw new AppError('not_found', `No staff member ${staffId}`);
        const role = change.role ?? before.role;
        const disabledAt = change.disabled === undefined ? before.disabledAt : change.disabled ? (before.disabledAt ?? clock.now()) : null;
        const losesAdmin = before.role === 'admin' && before.disabledAt === null && (role !== 'admin' || disabledAt !== null);
        if (losesAdmin && (await repo.countActiveAdmins(tx)) <= 1) {
          throw new AppError('invalid_state', 'This is the last active admin; make another admin first');
        }
        const resetTotp = change.resetTotp === true && before.totpEnabledAt !== null;
        const totpChange = resetTotp ? { totpSecretSealed: null, totpEnabledAt: null, totpLastStep: null } : {};
        await repo.updateStaff(tx, staffId, { role, disabledAt, ...totpChange });
        // A disabled member, a new role or a new second factor: every open console session of theirs ends.
        await repo.deleteSessionsOf(tx, staffId);
        const after = { ...before, role, disabledAt, ...totpChange };
        const view = (row: repo.StaffRow) => ({ role: row.role, disabled: row.disabledAt !== null, totp_enabled: row.totpEnabledAt !== null });
        await audit.record(tx, actor, { action: 'staff.update', targetType: 'staff', targetId: staffId, before: view(before), after: view(after) });
        return memberOf(after);
      });
    },
  };
}
