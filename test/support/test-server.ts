import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type Config, loadConfig } from '../../src/config.ts';
import { type Database, openDatabase } from '../../src/db/database.ts';
import { pgliteStart } from './pglite-snapshot.ts';
import { parseUsd } from '../../src/modules/billing/money.ts';
import { type RunningServer, startServer } from '../../src/server.ts';
import { ManualClock } from './manual-clock.ts';
import { recordSecret, recordSecretsIn } from './recorded-secrets.ts';
import { createScratchDatabase, testRedisUrl, testTarget, uniqueName } from './test-target.ts';

export interface TestServer extends RunningServer {
  clock: ManualClock;
  config: Config;
  /** A new company with an owner key and `credit` USD on its balance. */
  createCompany(credit?: string): Promise<{ companyId: number; accountId: number; apiKey: string }>;
  addMember(companyId: number): Promise<{ accountId: number; apiKey: string }>;
  /** A push provider with `count` fresh numbers in `countryId`; returns its secret and numbers. */
  createProvider(options?: { countryId?: number; count?: number; operator?: string; rentable?: boolean }): Promise<{ secret: string; numbers: string[]; providerId: number }>;
  /** A client for the API with a bearer key. */
  api(key?: string): ApiClient;
}

export interface ApiResponse<T = any> {
  status: number;
  headers: Headers;
  // The envelope is untyped JSON from the wire; tests assert on its fields.
  body: T;
}

export interface ApiClient {
  get(pathname: string, headers?: Record<string, string>): Promise<ApiResponse>;
  post(pathname: string, body?: unknown, headers?: Record<string, string>): Promise<ApiResponse>;
  raw(pathname: string, init: RequestInit): Promise<ApiResponse>;
}

export function apiClient(baseUrl: string, key?: string): ApiClient {
  const auth: Record<string, string> = key ? { authorization: `Bearer ${key}` } : {};
  const raw = async (pathname: string, init: RequestInit) => {
    const response = await fetch(`${baseUrl}${pathname}`, init);
    const text = await response.text();
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      body = text;
    }
    recordSecretsIn(body);
    return { status: response.status, headers: response.headers, body };
  };
  return {
    raw,
    get: (pathname, headers = {}) => raw(pathname, { headers: { ...auth, ...headers } }),
    post: (pathname, body, headers = {}) =>
      raw(pathname, {
        method: 'POST',
        headers: { ...auth, ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
        body: body === undefined ? undefined : JSON.stringify(body),
      }),
  };
}

let providerCounter = 0;
let serverCounter = 0;

export interface TestServerOptions {
  env?: Record<string, string>;
  clock?: ManualClock;
  /** Share one database between several servers (multi-instance tests). */
  database?: Database;
  /** Redis key prefix for shared state (rate limits); unique per server unless given, so give
   * two servers the same prefix to make them share one limit per key. */
  redisKeyPrefix?: string;
}

/**
 * Starts the real server on a loopback port, on a database of its own: in-memory PGlite, or a
 * scratch PostgreSQL database (plus Redis) when the suite runs against servers.
 */
export async function startTestServer(options: TestServerOptions = {}): Promise<TestServer> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'nova-test-'));
  let scratch: Awaited<ReturnType<typeof createScratchDatabase>> | undefined;
  let database = options.database;
  if (!database) {
    if (testTarget === 'postgres') {
      scratch = await createScratchDatabase();
      database = await openDatabase({ databaseUrl: scratch.url, dataDir, poolSize: 10 });
    } else {
      database = await openDatabase({ dataDir: 'memory://', pgliteStart: await pgliteStart() });
    }
  }
  // A whole `npm test` run (NOVA_TEST_LOG_DIR) logs every request of every server, each to a file
  // of its own, and test/run-tests.ts then checks those files for leaked credentials; a test that
  // sets its own LOG_LEVEL keeps it.
  const runLogDir = process.env.NOVA_TEST_LOG_DIR;
  const runLog = runLogDir && !options.env?.LOG_LEVEL ? { LOG_LEVEL: 'debug', LOG_FILE: path.join(runLogDir, `server-${process.pid}-${++serverCounter}.log`) } : {};
  const config = loadConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    NOVA_DATA_DIR: dataDir,
    NOVA_DEMO: '0',
    NOVA_DEMO_PAYMENTS: '1',
    // Tests talk plain HTTP on loopback; the Secure default is tested in test/security/cookies-csrf.test.ts.
    NOVA_COOKIE_SECURE: '0',
    LOG_LEVEL: 'silent',
    NOVA_RATE_LIMIT_RPS: '1000',
    NOVA_RATE_LIMIT_BURST: '2000',
    NOVA_SWEEP_INTERVAL_MS: '60000',
    // A cancelled number is free again at once unless a test is about the cooldown (product default 600 s).
    NOVA_CANCEL_COOLDOWN_S: '0',
    // Password hashes at N=2^12 instead of 2^17: the suite hashes hundreds of passwords.
    NOVA_PASSWORD_HASH_COST: '12',
    ...runLog,
    ...(testRedisUrl ? { REDIS_URL: testRedisUrl } : {}),
    ...options.env,
  });
  const clock = options.clock ?? new ManualClock();
  const server = await startServer(config, { clock, database, redisKeyPrefix: options.redisKeyPrefix ?? uniqueName('nova_test'), controlSocket: false });
  // Catalog for tests: the demo catalog without demo supply, so every test controls its own stock.
  if (!options.database) {
    await server.services.catalog.upsertService({ code: 'tg', name: 'Telegram' });
    await server.services.catalog.upsertService({ code: 'wa', name: 'WhatsApp' });
    await server.services.catalog.upsertCountry({ id: 6, name: 'United States', iso: 'US', dialPrefix: '1' });
    await server.services.catalog.upsertCountry({ id: 16, name: 'United Kingdom', iso: 'GB', dialPrefix: '44' });
    await server.services.catalog.setPrice({ serviceCode: 'tg', countryId: 6, price: 5000 });
    await server.services.catalog.setPrice({ serviceCode: 'wa', countryId: 6, price: 7500 });
    await server.services.catalog.setPrice({ serviceCode: 'tg', countryId: 16, price: 6000 });
  }

  const { services } = server;
  return {
    ...server,
    clock,
    config,
    async createCompany(credit = '0') {
      const created = await services.accounts.createCompany({ name: uniqueName('company'), ownerEmail: `${uniqueName('owner')}@example.com` });
      const amount = parseUsd(credit)!;
      if (amount > 0) await services.billing.credit({ companyId: created.companyId, amount, kind: 'topup', reason: 'test credit' });
      recordSecret(created.apiKey);
      return { companyId: created.companyId, accountId: created.accountId, apiKey: created.apiKey };
    },
    async addMember(companyId) {
      const member = await services.accounts.addMember({ companyId, email: `${uniqueName('member')}@example.com` });
      recordSecret(member.apiKey);
      return { accountId: member.accountId, apiKey: member.apiKey };
    },
    async createProvider({ countryId = 6, count = 5, operator, rentable } = {}) {
      const { provider, secret } = await services.supply.createProvider({ name: uniqueName('provider'), kind: 'http' });
      recordSecret(secret);
      // Distinct numbers per provider within this process: a US area code each, or a block of
      // Ofcom's 07700 900xxx drama range for the UK.
      const block = ++providerCounter;
      const numbers = Array.from({ length: count }, (_, i) =>
        countryId === 16 ? `+447700${900000 + ((block * 50 + i) % 1000)}` : `+1${200 + (block % 700)}555${1000 + i}`,
      );
      await services.supply.addNumbers(provider.id, numbers.map((e164) => ({ e164, countryId, operator })), { rentable });
      return { secret, numbers, providerId: provider.id };
    },
    api: (key) => apiClient(server.url, key),
    async close() {
      await server.close();
      await scratch?.drop();
      if (!options.database) await database.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
