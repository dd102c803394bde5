import { randomBytes, scrypt as scryptCallback, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';
import pLimit from 'p-limit';
import { AppError } from '../../http/errors.ts';

const scrypt = promisify(scryptCallback) as (password: string, salt: Buffer, keylen: number, options: object) => Promise<Buffer>;

// OWASP's minimum for scrypt: N=2^17, r=8, p=1 (128 MiB); the parameters are stored with each hash,
// so raising the cost later keeps old hashes verifiable.
export const defaultHashCostLog2 = 17;
const maxmem = 1024 * 1024 * 1024;
const keyLength = 32;

/** A new scrypt hash with N = 2^costLog2 (NOVA_PASSWORD_HASH_COST; only tests lower it). */
export async function hashPassword(password: string, costLog2 = defaultHashCostLog2): Promise<string> {
  const cost = { N: 2 ** costLog2, r: 8, p: 1, maxmem };
  const salt = randomBytes(16);
  const hash = await scrypt(password, salt, keyLength, cost);
  return `scrypt$${cost.N}$${cost.r}$${cost.p}$${salt.toString('base64')}$${hash.toString('base64')}`;
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [scheme, n, r, p, salt, hash] = stored.split('$');
  if (scheme !== 'scrypt' || !hash) return false;
  const expected = Buffer.from(hash, 'base64');
  const actual = await scrypt(password, Buffer.from(salt, 'base64'), expected.length, {
    N: Number(n),
    r: Number(r),
    p: Number(p),
    maxmem,
  });
  return timingSafeEqual(actual, expected);
}

export interface PasswordHasher {
  hash(password: string): Promise<string>;
  verify(password: string, stored: string): Promise<boolean>;
  /**
   * A hash of a random password at the configured cost, to verify against when the email is
   * unknown, so the answer time does not tell which emails have an account.
   */
  dummyHash(): Promise<string>;
}

/**
 * Password hashing behind a small queue, shared by every sign-in, sign-up and reset of this
 * process: each scrypt takes 128 MiB and ~0.1–0.3 s of a core, so a burst of attempts (from
 * however many addresses) would otherwise take all memory and CPU. At most `concurrency` run
 * at once and `queue` wait; the next one is refused at once with 429 `rate_limited`.
 */
export function createPasswordHasher(settings: { concurrency: number; queue: number; costLog2?: number }): PasswordHasher {
  const limit = pLimit(settings.concurrency);
  const costLog2 = settings.costLog2 ?? defaultHashCostLog2;
  let dummy: Promise<string> | undefined;
  // A running average of one hash, to tell a refused client how long the queue takes to drain.
  let averageMs = 250;

  function gated<T>(work: () => Promise<T>): Promise<T> {
    const ahead = limit.activeCount + limit.pendingCount;
    if (ahead >= settings.concurrency + settings.queue) {
      const retryAfter = Math.max(1, Math.ceil((averageMs * (ahead + 1)) / settings.concurrency / 1000));
      return Promise.reject(
        new AppError('rate_limited', `The server is busy checking passwords; try again in ${retryAfter} s`, { headers: { 'retry-after': String(retryAfter) } }),
      );
    }
    return limit(async () => {
      const started = performance.now();
      try {
        return await work();
      } finally {
        averageMs = averageMs * 0.8 + (performance.now() - started) * 0.2;
      }
    });
  }

  return {
    hash: (password) => gated(() => hashPassword(password, costLog2)),
    verify: (password, stored) => gated(() => verifyPassword(password, stored)),
    dummyHash: () => (dummy ??= hashPassword(randomBytes(16).toString('hex'), costLog2)),
  };
}
