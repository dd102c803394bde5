import net from 'node:net';
import { pathToFileURL } from 'node:url';
import { signInStaff } from '../test/support/console-client.ts';
import { startTestServer, type TestServer } from '../test/support/test-server.ts';
import { signUp } from '../test/web/web-client.ts';

/**
 * `npm run fuzz -- [count] [--seed N] [--concurrency N]`: a seeded, bounded hostile-input run on
 * loopback. It starts the real server (embedded PGlite; PostgreSQL with NOVA_TEST_TARGET=postgres
 * as in the tests), lists every route from the app itself, learns the required body fields of
 * each from the server's own 400 answers, then sends `count` hostile requests: bad JSON, wrong
 * types, huge and negative numbers, NaN/Infinity, 1 MB bodies, NUL and odd unicode, SQL and HTML
 * payloads, path tricks, garbage auth headers and cookies, wrong content types, and malformed
 * HTTP over raw sockets. It passes when no answer is a 5xx, every answer on a JSON API path is
 * the `{ ok, error }` envelope, and the server still serves afterwards.
 *
 * Request i is generated from (seed, i) alone, so a finding is replayed with `--only i`.
 * test/production/fuzz.test.ts runs a small seeded share of it in `npm test`.
 */

// ---------------------------------------------------------------------------------------------
// Seeded randomness

/** mulberry32: small, fast and good enough to pick test inputs. */
function rngFor(seed: number): Rng {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  return { next, int, pick: <T>(items: readonly T[]) => items[int(items.length)], chance: (p: number) => next() < p };
}

interface Rng {
  next(): number;
  int(n: number): number;
  pick<T>(items: readonly T[]): T;
  chance(p: number): boolean;
}

// ---------------------------------------------------------------------------------------------
// Hostile values

/** A JSON-ish value: `raw` is written into the body as is, so NaN and friends can be sent. */
type Value = string | number | boolean | null | Value[] | { [key: string]: Value } | { raw: string };

const hostileStrings = [
  '',
  ' ',
  '\u0000',
  'tg\u0000',
  'a\u0001b\u001bc\u007f',
  '\r\n\r\nX-Injected: 1',
  "' OR '1'='1",
  "1; DROP TABLE accounts; --",
  "' UNION SELECT password_hash FROM accounts --",
  '<script>alert(1)</script>',
  '"><img src=x onerror=alert(1)>',
  '{{7*7}}${7*7}',
  '${jndi:ldap://127.0.0.1:9/a}',
  '../../../../etc/passwd',
  '..%2f..%2fetc%2fpasswd',
  '%00',
  '%s%s%s%n',
  '\u202eevil\u202c',
  '\u200b\u200d\ufeff',
  '\ud800',
  '\udfff\ud800',
  '\uffff\ufffe',
  '😀👩‍👩‍👧‍👦𝕏',
  'Z̷̧̛̖a̸͈͠l̶̙̍g̵͙̾o̵̟͌',
  'ﷺ'.repeat(50),
  'ä'.repeat(3000),
  'a'.repeat(70_000),
  'null',
  'undefined',
  'NaN',
  'Infinity',
  '-1',
  '0',
  '1e309',
  '0x1F',
  ' 6 ',
  '٦',
  'true',
  '[]',
  '{}',
  '__proto__',
  'constructor',
  'nova_' + 'a'.repeat(40),
  'owner@example.com\r\nBcc: x@example.com',
  'a@b',
  'http://127.0.0.1:9/hook',
  'javascript:alert(1)',
  'file:///etc/passwd',
  '2026-02-30 25:61:61',
  '1970-01-01T00:00:00Z',
  '9999-12-31T23:59:59Z',
];

const hostileNumbers: Value[] = [
  0,
  -1,
  -0,
  1.5,
  -2147483649,
  2147483648,
  2 ** 53,
  2 ** 53 + 2,
  Number.MAX_SAFE_INTEGER,
  1e308,
  -1e308,
  5e-324,
  { raw: 'NaN' },
  { raw: 'Infinity' },
  { raw: '-Infinity' },
  { raw: '1e999' },
  { raw: '-1e999' },
  { raw: '123456789012345678901234567890' },
  { raw: '0.0000000000000000000000000001' },
  { raw: '-0.0' },
  { raw: '01' },
  { raw: '1_000' },
];

// Spliced into otherwise plausible text, so the value passes format checks and reaches the rules.
const injections = ['\u0000', '\u0000', '\u0000', '\u0001', '\u0008', '\u001b', '\u007f', '\ud800', '\u202e', '\u0085', '\u2028', "'", '"', '\\', '%', '_', '<b>', '\r\n', '\t', '😀'];
const plausible = ['tg', 'wa', '6', 'fuzz@example.com', 'http://127.0.0.1:9/hook', 'Acme Ltd', 'hello', 'admin', 'owner', '+12025550123', 'activation.completed', '0.50'];

function hostileValue(rng: Rng, depth = 0): Value {
  const kind = rng.int(13);
  if (kind < 3) return rng.pick(hostileStrings);
  if (kind < 6) {
    const text = rng.pick(plausible);
    const at = rng.int(text.length + 1);
    return text.slice(0, at) + rng.pick(injections) + text.slice(at);
  }
  if (kind < 9) return rng.pick(hostileNumbers);
  if (kind === 9) return rng.pick([true, false, null]);
  if (depth > 2) return rng.pick(hostileStrings);
  if (kind === 10) return Array.from({ length: rng.int(4) }, () => hostileValue(rng, depth + 1));
  return rng.pick<Value>([{}, { __proto__x: 1 }, { a: hostileValue(rng, depth + 1) }, { raw: '{"__proto__":{"admin":true}}' }, { raw: '{"constructor":{"prototype":{"x":1}}}' }]);
}

function serialize(value: Value): string {
  if (value !== null && typeof value === 'object' && 'raw' in value && typeof value.raw === 'string' && Object.keys(value).length === 1) return value.raw;
  if (Array.isArray(value)) return `[${value.map(serialize).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    return `{${Object.entries(value as Record<string, Value>)
      .map(([k, v]) => `${JSON.stringify(k)}:${serialize(v)}`)
      .join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

const garbageBodies = [
  '{',
  '{"a":',
  '[1,2',
  '}',
  'null',
  'true',
  '"just a string"',
  '123',
  '[]',
  '{"a":1}{"b":2}',
  '{"a":1,}',
  "{'single':'quotes'}",
  '{"a":undefined}',
  '\ufeff{"service_code":"tg","country_id":6}',
  '{"service_code":"tg","service_code":"wa","country_id":6}',
  '{"__proto__":{"isAdmin":true},"country_id":6}',
  '\u0000\u0001\u0002',
  '<?xml version="1.0"?><a>1</a>',
  'service_code=tg&country_id=6',
  '{"a":"\\ud800"}',
  '{"a":"\\u0000"}',
  '{"a":"\\x41"}',
];

const contentTypes = [
  'text/plain',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=xyz',
  'application/xml',
  'application/json; charset=utf-16',
  'application/json; charset=binary',
  'application/JSON',
  'application/json, text/plain',
  'application/jsonx',
  'application/vnd.api+json',
  '*/*',
  ';;;',
  'application/json; boundary="',
];

function deepNesting(rng: Rng): string {
  const depth = rng.pick([1000, 10_000, 30_000]);
  return rng.chance(0.5) ? `${'['.repeat(depth)}${']'.repeat(depth)}` : `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
}

// ---------------------------------------------------------------------------------------------
// Routes, as the app lists them

export interface Route {
  method: string;
  /** The path template, e.g. /api/v1/activations/:id */
  path: string;
  scope: 'v1' | 'supply' | 'web' | 'console' | 'compat' | 'site';
}

/** Every route of the app, parsed from Fastify's printRoutes tree (full paths, one method each). */
export function listRoutes(server: TestServer): Route[] {
  const tree = server.app.printRoutes({ commonPrefix: false });
  const stack: string[] = [];
  const routes: Route[] = [];
  for (const line of tree.split('\n')) {
    const branch = line.search(/[├└]── /);
    if (branch === -1) continue;
    const depth = branch / 4;
    const match = /^(.*?)(?: \(([A-Z, ]+)\))?$/.exec(line.slice(branch + 4));
    if (!match) continue;
    // The catch-all prints as "*" at the top level.
    const full = (depth > 0 ? stack[depth - 1] : '') + (depth === 0 && !match[1].startsWith('/') ? `/${match[1]}` : match[1]);
    stack[depth] = full;
    stack.length = depth + 1;
    for (const method of (match[2] ?? '').split(', ').filter((m) => m && m !== 'HEAD')) {
      routes.push({ method, path: full, scope: scopeOf(full) });
    }
  }
  return routes;
}

function scopeOf(path: string): Route['scope'] {
  if (path.startsWith('/api/v1/supply/')) return 'supply';
  if (path.startsWith('/api/v1/')) return 'v1';
  if (path.startsWith('/api/web/')) return 'web';
  if (path.startsWith('/api/console/')) return 'console';
  if (path.startsWith('/stubs/')) return 'compat';
  return 'site';
}

// ---------------------------------------------------------------------------------------------
// The target: a server with valid credentials of every kind, so hostile values reach the handlers

export interface FuzzTarget {
  server: TestServer;
  routes: Route[];
  /** Learnt body fields per "METHOD path": a valid-looking body to start mutating from. */
  bodies: Map<string, Record<string, Value>>;
  credentials: Credentials;
  /** Fresh credentials (a request may sign out, regenerate the key or block the company). */
  refresh(): Promise<void>;
  /** Refreshes the credentials when one of them stopped working (one refresh at a time). */
  ensureCredentials(): Promise<void>;
}

/**
 * Routes that end or change the fuzzer's own credentials (sign-out, key rotation, blocking,
 * second-factor steps, role changes): sent with valid credentials less often, and never while
 * learning bodies, so most requests keep reaching the rules behind authentication.
 */
const destructive = /\/(signout|regenerate|block|rotate-key|enroll|verify|remove|role)$|\/staff\/:id$/;

interface Credentials {
  apiKey: string;
  providerSecret: string;
  web: { cookie: string; csrf: string };
  console: { cookie: string; csrf: string };
  ids: number[];
}

/** Env for a fuzz server: loopback only, no background job reaching out, limits out of the way. */
export const fuzzServerEnv: Record<string, string> = {
  NOVA_WEBHOOKS_ALLOW_HTTP_LOOPBACK: '1',
  NOVA_WEBHOOK_INTERVAL_MS: '3600000',
  NOVA_REMOTE_POLL_MS: '3600000',
  NOVA_REMOTE_TIMEOUT_MS: '500',
  NOVA_NEW_ACCOUNTS_PER_IP: '1000000',
  NOVA_SIGNIN_FAILURES_PER_IP: '1000000',
  NOVA_SIGNIN_FAILURES_PER_ACCOUNT: '1000000',
};

export async function prepareTarget(server: TestServer): Promise<FuzzTarget> {
  const routes = listRoutes(server);
  const credentials = await makeCredentials(server);
  const bodies = new Map<string, Record<string, Value>>();
  for (const route of routes) {
    if (route.method === 'GET' || route.scope === 'site' || route.scope === 'compat' || destructive.test(route.path)) continue;
    bodies.set(`${route.method} ${route.path}`, await learnBody(server, route, credentials));
  }
  const target: FuzzTarget = {
    server,
    routes,
    bodies,
    credentials,
    async refresh() {
      target.credentials = await makeCredentials(server);
    },
    ensureCredentials() {
      refreshing ??= (async () => {
        if (!(await credentialsWork(server.url, target.credentials))) await target.refresh();
      })().finally(() => {
        refreshing = undefined;
      });
      return refreshing;
    },
  };
  let refreshing: Promise<void> | undefined;
  await target.ensureCredentials();
  return target;
}

async function makeCredentials(server: TestServer): Promise<Credentials> {
  const company = await server.createCompany('1000');
  const provider = await server.createProvider({ count: 20 });
  const bought = await server.api(company.apiKey).post('/api/v1/activations', { service_code: 'tg', country_id: 6 });
  const web = await signUp(server);
  const staff = await signInStaff(server, 'admin');
  const cookieOf = (cookies: Map<string, string>) => [...cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  const ids = [company.companyId, company.accountId, provider.providerId, staff.staffId, web.account.id, web.account.company_id];
  if (bought.body?.data?.activation?.id) ids.push(bought.body.data.activation.id);
  return {
    apiKey: company.apiKey,
    providerSecret: provider.secret,
    web: { cookie: cookieOf(web.client.cookies), csrf: web.client.csrf },
    console: { cookie: cookieOf(staff.client.cookies), csrf: staff.client.csrf },
    ids,
  };
}

async function credentialsWork(baseUrl: string, credentials: Credentials): Promise<boolean> {
  const get = (path: string, scope: Route['scope']) =>
    fetch(baseUrl + path, { headers: validHeaders({ scope }, credentials) })
      .then(async (response) => ({ status: response.status, body: await response.json() }))
      .catch(() => ({ status: 0, body: null }));
  const [balance, web, staff] = await Promise.all([get('/api/v1/balance', 'v1'), get('/api/web/balance', 'web'), get('/api/console/staff', 'console')]);
  return balance.status === 200 && web.status === 200 && staff.status === 200;
}

function validHeaders(route: Pick<Route, 'scope'>, credentials: Credentials): Record<string, string> {
  switch (route.scope) {
    case 'v1':
      return { authorization: `Bearer ${credentials.apiKey}` };
    case 'supply':
      return { authorization: `Bearer ${credentials.providerSecret}` };
    case 'web':
      return { cookie: credentials.web.cookie, 'x-csrf-token': credentials.web.csrf };
    case 'console':
      return { cookie: credentials.console.cookie, 'x-csrf-token': credentials.console.csrf };
    default:
      return {};
  }
}

/**
 * The body fields a route requires, learnt from its 400 answers ("body.x is required", "body.x
 * must be integer"), so mutated bodies get past the schema often enough to reach the rules.
 */
async function learnBody(server: TestServer, route: Route, credentials: Credentials): Promise<Record<string, Value>> {
  const body: Record<string, Value> = {};
  for (let attempt = 0; attempt < 12; attempt++) {
    const path = route.path.replace(/:[A-Za-z]+/g, String(credentials.ids[0]));
    const response = await fetch(`${server.url}${path}`, {
      method: route.method,
      headers: { ...validHeaders(route, credentials), 'content-type': 'application/json' },
      body: JSON.stringify(body),
    }).catch(() => null);
    // The envelope's error.message, or the SIM-bank agent protocol's error.
    const answer = await response?.json().catch(() => null);
    const message: string = answer?.error?.message ?? (typeof answer?.error === 'string' ? answer.error : '');
    let match: RegExpExecArray | null;
    if ((match = /^body\.(\w+) is required|^body must have required property '(\w+)'/.exec(message))) body[match[1] ?? match[2]] = 'x';
    else if ((match = /^body\.(\w+) must be (integer|number)/.exec(message))) body[match[1]] = 1;
    else if ((match = /^body\.(\w+) must be boolean/.exec(message))) body[match[1]] = true;
    else if ((match = /^body\.(\w+) must be array/.exec(message))) body[match[1]] = ['x'];
    else if ((match = /^body\.(\w+) must be object/.exec(message))) body[match[1]] = {};
    else if ((match = /^body\.(\w+) must be one of: ([^,]+)/.exec(message))) body[match[1]] = /^\d+$/.test(match[2]) ? Number(match[2]) : match[2];
    else if ((match = /^body\.(\w+) must match format "email"/.exec(message))) body[match[1]] = 'fuzz@example.com';
    else if ((match = /^body\.(\w+) must match format "uri"/.exec(message))) body[match[1]] = 'http://127.0.0.1:9/hook';
    else if ((match = /^body\.(\w+) must NOT have fewer than (\d+)/.exec(message))) body[match[1]] = 'x'.repeat(Number(match[2]));
    else break;
  }
  // Values the rules accept, by field name, so that one hostile field at a time reaches them.
  for (const [key, value] of Object.entries(body)) {
    const known = (typeof value === 'number' ? plausibleNumbers : plausibleStrings)[key];
    if (known !== undefined) body[key] = known;
  }
  return body;
}

const plausibleStrings: Record<string, Value> = {
  service_code: 'tg',
  service: 'tg',
  code: 'tg',
  email: 'fuzz@example.com',
  password: 'correct horse battery',
  to: '+12025550123',
  from: 'Telegram',
  url: 'http://127.0.0.1:9/hook',
  amount: '1.00',
  price: '0.50',
  iso: 'US',
  csv: '+12025550199,6',
  name: 'Fuzz',
  reason: 'fuzz',
  text: 'hello',
};
const plausibleNumbers: Record<string, Value> = { country_id: 6, country: 6, id: 6, amount: 1 };

// ---------------------------------------------------------------------------------------------
// One hostile request

interface Attempt {
  via: 'fetch' | 'raw';
  method: string;
  url: string;
  headers: Record<string, string>;
  body?: string;
  /** For raw requests: the bytes as written. */
  raw?: string;
}

const queryNames = ['limit', 'offset', 'status', 'service', 'country', 'wait', 'q', 'id', 'from', 'to', 'page', 'operator', 'kind', 'action', 'api_key', 'role', '__proto__'];
const paramTricks = ['0', '-1', '1.5', '1e3', '99999999999999999999', 'NaN', 'null', '%00', '%2e%2e', '..', '%2F', '%zz', '%c0%ae', '%ff%fe', '%F0%9F%98%80', '%20', 'a'.repeat(150), "1'%20OR%201=1", '%3Cscript%3E', '1;2', '1,2', '0x10'];
const authGarbage = [
  'Bearer',
  'Bearer ',
  'Bearer nova_invalid',
  `Bearer ${'A'.repeat(12_000)}`,
  "Bearer ' OR 1=1 --",
  'Basic YWRtaW46YWRtaW4=',
  'bearer  x  y',
  'Bearer \u00ff\u00fe\u00e9',
  'Token abc',
  'Bearer nova_' + '0'.repeat(64),
];
const cookieGarbage = [
  'nova_session=',
  'nova_session=%00',
  'nova_session=' + 'x'.repeat(8000),
  'nova_session="quoted"; nova_csrf=""',
  'nova_session=a; nova_session=b',
  ';;;;',
  '=',
  'nova_session=%E0%A4%A',
  'nova_console_session=s:abc.def; nova_console_csrf=x',
  'nova_session=\u00ff\u00fe',
  '__proto__=x; constructor=y',
];

function fillPath(rng: Rng, template: string, ids: number[]): string {
  return template
    .replace(/:[A-Za-z]+/g, () => (rng.chance(0.6) ? String(rng.pick(ids)) : rng.pick(paramTricks)))
    .replace(/\*$/, () => rng.pick(['', 'index.html', 'assets/x.js', '..%2f..%2fpackage.json', 'a%00b', 'dashboard']));
}

/** encodeURIComponent, except that a lone surrogate becomes the invalid UTF-8 bytes it would be. */
function encodeText(value: string): string {
  return value
    .split(/([\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff])/)
    .map((part) => (/^[\ud800-\udfff]$/.test(part) ? '%ED%A0%80' : encodeURIComponent(part)))
    .join('');
}

function query(rng: Rng): string {
  if (rng.chance(0.5)) return '';
  const parts: string[] = [];
  for (let i = 0, n = 1 + rng.int(3); i < n; i++) {
    const name = rng.pick(queryNames);
    // A valid wait would hold the request open (long-poll); only refused values are sent.
    const hostile = hostileValue(rng);
    const value = name === 'wait' ? rng.pick(['-1', '61', 'NaN', 'abc', '1e9', '']) : typeof hostile === 'string' ? hostile : serialize(hostile);
    parts.push(`${encodeURIComponent(name)}=${rng.chance(0.8) ? encodeText(value) : value.replace(/[#\s?&]/g, '')}`);
  }
  if (rng.chance(0.1)) parts.push('a[b]=1', 'a[b][c]=2');
  if (rng.chance(0.1)) parts.push(`x=${'y'.repeat(7000)}`);
  return `?${parts.join('&')}`;
}

/** The learnt body with one field hostile (or one unknown field more, or one missing). */
function mutateField(rng: Rng, learnt: Record<string, Value>): string {
  const body: Record<string, Value> = { ...learnt };
  const keys = Object.keys(body);
  const roll = rng.int(10);
  if (keys.length > 0 && roll < 8) body[rng.pick(keys)] = hostileValue(rng);
  else if (keys.length > 0 && roll === 8) delete body[rng.pick(keys)];
  else body[rng.pick(['extra', 'amount', 'text', 'email', 'id', '__proto__', 'constructor', 'a\u0000b'])] = hostileValue(rng);
  return serialize(body);
}

/** A body that is broken as a whole: not JSON, not an object, huge, deeply nested or mislabelled. */
function brokenBody(rng: Rng, learnt: Record<string, Value>): { body?: string; contentType?: string } {
  const strategy = rng.int(10);
  if (strategy < 2) return { body: serialize(hostileValue(rng)), contentType: 'application/json' };
  if (strategy < 4) return { body: rng.pick(garbageBodies), contentType: 'application/json' };
  if (strategy < 6) return { body: rng.chance(0.5) ? serialize(learnt) : rng.pick(garbageBodies), contentType: rng.pick(contentTypes) };
  if (strategy === 6) return { body: rng.chance(0.5) ? serialize(learnt) : undefined, contentType: undefined };
  if (strategy === 7) return { body: `{"text":"${'a'.repeat(1024 * 1024)}"}`, contentType: 'application/json' };
  if (strategy === 8) return { body: deepNesting(rng), contentType: 'application/json' };
  return { body: '', contentType: 'application/json' };
}

/**
 * A request to a listed route, in one of three modes: deep (valid credentials and a valid-looking
 * body with one hostile field, so the value reaches the rules and the SQL), credentials (garbage
 * auth headers, cookies, CSRF and idempotency keys) or body (a broken body as a whole).
 */
const compatActions = ['getBalance', 'getNumber', 'getNumberV2', 'getStatus', 'setStatus', 'getPrices', 'getCountries', 'getServicesList', 'getActiveActivations', 'BAD', ''];
const compatPlausible: Record<string, string> = { service: 'tg', country: '6', operator: 'any', maxPrice: '0.50', id: '1', status: '8' };

/** The sms-activate protocol: a valid key and action, with one parameter hostile, as query or form. */
function compatAttempt(rng: Rng, target: FuzzTarget, route: Route): Attempt {
  const params: Record<string, string> = { api_key: rng.chance(0.85) ? target.credentials.apiKey : rng.pick(hostileStrings), action: rng.pick(compatActions), ...compatPlausible };
  const hostile = hostileValue(rng);
  params[rng.pick(Object.keys(params))] = typeof hostile === 'string' ? hostile : serialize(hostile);
  const encoded = Object.entries(params)
    .map(([name, value]) => `${name}=${encodeText(value)}`)
    .join('&');
  if (route.method === 'POST' && rng.chance(0.7)) {
    return { via: 'fetch', method: 'POST', url: route.path, headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: encoded };
  }
  return { via: 'fetch', method: route.method, url: `${route.path}?${encoded}`, headers: {} };
}

function routeAttempt(rng: Rng, target: FuzzTarget): Attempt {
  const { credentials } = target;
  const route = rng.pick(target.routes);
  if (route.scope === 'compat' && rng.chance(0.8)) return compatAttempt(rng, target, route);
  const mode = rng.pick(['deep', 'deep', 'deep', 'deep', 'deep', 'credentials', 'credentials', 'body', 'body', 'body'] as const);
  let method = mode === 'deep' || rng.chance(0.9) ? route.method : rng.pick(['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'HEAD', 'PROPFIND']);
  const path = fillPath(rng, route.path, credentials.ids);
  const headers: Record<string, string> = rng.chance(destructive.test(route.path) ? 0.1 : 0.9) ? validHeaders(route, credentials) : {};
  if (mode === 'credentials') {
    // Garbage credentials of every kind, sometimes next to valid ones.
    if (rng.chance(0.5)) headers.authorization = rng.pick(authGarbage);
    if (rng.chance(0.4)) headers.cookie = rng.pick(cookieGarbage);
    if (rng.chance(0.3)) headers['x-csrf-token'] = rng.pick(['', 'forged', 'a'.repeat(5000), '\u00ff']);
    if (rng.chance(0.2)) headers['idempotency-key'] = rng.pick(['', 'k'.repeat(5000), "' OR 1=1", '\u00e9\u00ff']);
    if (rng.chance(0.1)) headers['last-event-id'] = rng.pick(['-1', 'NaN', '99999999999999999999', 'abc']);
    if (rng.chance(0.1)) headers['content-encoding'] = rng.pick(['gzip', 'br', 'deflate', 'identity, gzip']);
    if (rng.chance(0.1)) headers.accept = rng.pick(['text/html', 'application/xml', '*/*;q=foo', '']);
  }
  const learnt = target.bodies.get(`${route.method} ${route.path}`) ?? {};
  let body: string | undefined;
  if (method !== 'GET' && method !== 'HEAD') {
    if (mode === 'body') {
      const broken = brokenBody(rng, learnt);
      body = broken.body;
      if (broken.contentType) headers['content-type'] = broken.contentType;
    } else {
      body = mode === 'deep' ? mutateField(rng, learnt) : serialize(learnt);
      headers['content-type'] = 'application/json';
    }
  }
  if (method === 'HEAD' && rng.chance(0.5)) method = 'GET';
  return { via: 'fetch', method, url: path + (mode === 'deep' && method !== 'GET' && rng.chance(0.7) ? '' : query(rng)), headers, body };
}

/** Path tricks fetch can send: duplicated slashes, dot segments, case, encoded separators. */
function pathTrickAttempt(rng: Rng, target: FuzzTarget): Attempt {
  const route = rng.pick(target.routes);
  const path = fillPath(rng, route.path, target.credentials.ids);
  const tricks = [
    (p: string) => `/${p}`,
    (p: string) => p.replace('/api/', '/api//'),
    (p: string) => `${p}/`,
    (p: string) => p.toUpperCase(),
    (p: string) => `/${p.slice(1).replace(/\//g, '%2F')}`,
    (p: string) => p.replace('/api/v1/', '/api/v1/%2e%2e/v1/'),
    (p: string) => `${p};jsessionid=1`,
    (p: string) => `${p}%00`,
    (p: string) => `${p}%`,
    (p: string) => `${p}/%c0%ae%c0%ae/`,
    (p: string) => `${p}.json`,
    (p: string) => `${p}?${'&'.repeat(500)}`,
    (p: string) => `${p}/${'x/'.repeat(300)}`,
    (p: string) => p.replace('/api/', `/api/${'%41'.repeat(50)}/`),
  ];
  const url = rng.pick(tricks)(path);
  return { via: 'fetch', method: route.method, url, headers: validHeaders(route, target.credentials) };
}

/** What fetch refuses to send: malformed HTTP, written to a raw socket. */
function rawAttempt(rng: Rng, target: FuzzTarget): Attempt {
  const route = rng.pick(target.routes.filter((r) => r.scope !== 'site'));
  const path = fillPath(rng, route.path, target.credentials.ids).replace(/\*$/, '');
  const auth = `Authorization: Bearer ${target.credentials.apiKey}\r\n`;
  const json = '{"service_code":"tg","country_id":6}';
  const templates = [
    () => `GET ${path} HTTP/1.1\r\nHost: localhost\r\nX-Evil: a\u0000b\r\n\r\n`,
    () => `GET ${path}\u0001 HTTP/1.1\r\nHost: localhost\r\n\r\n`,
    () => `GET ${path}/\u00ff\u00fe HTTP/1.1\r\nHost: localhost\r\n${auth}\r\n`,
    () => `GET ${path}/../../etc/passwd HTTP/1.1\r\nHost: localhost\r\n${auth}\r\n`,
    () => `GET /api/v1/./balance HTTP/1.1\r\nHost: localhost\r\n${auth}\r\n`,
    () => `GET ${path} HTTP/9.9\r\nHost: localhost\r\n\r\n`,
    () => `GET ${path} HTTP/1.1 extra\r\nHost: localhost\r\n\r\n`,
    () => `get ${path} HTTP/1.1\r\nHost: localhost\r\n\r\n`,
    () => `FOO ${path} HTTP/1.1\r\nHost: localhost\r\n\r\n`,
    () => 'GARBAGE\r\n\r\n',
    () => '\r\n\r\nGET\r\n\r\n',
    () => `GET http://evil.example${path} HTTP/1.1\r\nHost: localhost\r\n${auth}\r\n`,
    () => 'OPTIONS * HTTP/1.1\r\nHost: localhost\r\n\r\n',
    () => `GET ${path} HTTP/1.0\r\n\r\n`,
    () => `GET ${path} HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n`,
    () => `GET ${path} HTTP/1.1\r\nHost: localhost\r\nX-Folded: a\r\n b\r\n\r\n`,
    () => `GET ${path} HTTP/1.1\r\nHost: localhost\r\nNoColon\r\n\r\n`,
    () => `GET ${path} HTTP/1.1\r\nHost: localhost\r\nBad Name: x\r\n\r\n`,
    () => `GET ${path}?x=${'a'.repeat(20_000)} HTTP/1.1\r\nHost: localhost\r\n\r\n`,
    () => `GET ${path} HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer ${'a'.repeat(20_000)}\r\n\r\n`,
    () => `GET ${path} HTTP/1.1\r\nHost: localhost\r\n${'X-A: b\r\n'.repeat(3000)}\r\n`,
    () => `POST ${path} HTTP/1.1\r\nHost: localhost\r\n${auth}Content-Type: application/json\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n${json}`,
    () => `POST ${path} HTTP/1.1\r\nHost: localhost\r\n${auth}Content-Type: application/json\r\nContent-Length: -1\r\n\r\n${json}`,
    () => `POST ${path} HTTP/1.1\r\nHost: localhost\r\n${auth}Content-Type: application/json\r\nContent-Length: abc\r\n\r\n${json}`,
    () => `POST ${path} HTTP/1.1\r\nHost: localhost\r\n${auth}Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n${json}\r\n0\r\n\r\n`,
    () => `POST ${path} HTTP/1.1\r\nHost: localhost\r\n${auth}Content-Type: application/json\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n3\r\n{}}\r\n0\r\n\r\n`,
    () => `POST ${path} HTTP/1.1\r\nHost: localhost\r\n${auth}Content-Type: application/json\r\nContent-Length: ${json.length}\r\n\r\n${json}`,
    () => `POST ${path} HTTP/1.1\r\nHost: localhost\r\n${auth}Content-Type: application/json\r\nContent-Length: 2\r\nContent-Encoding: gzip\r\n\r\n{}`,
    () => `GET ${path} HTTP/1.1\r\nHost: localhost\r\n${auth}\r\nGET ${path} HTTP/1.1\r\nHost: localhost\r\n\r\n`,
  ];
  const raw = rng.pick(templates)();
  const [method, url] = raw.split(' ');
  return { via: 'raw', method: method ?? '?', url: (url ?? '').slice(0, 200), headers: {}, raw };
}

/** The path the server sees: fetch resolves dot segments (also %2e%2e) before sending. */
function pathSeen(attempt: Attempt): string {
  if (attempt.via === 'raw') return attempt.url.split('?')[0];
  try {
    return new URL(attempt.url, 'http://localhost').pathname;
  } catch {
    return attempt.url;
  }
}

function isJsonApi(url: string): boolean {
  return /^\/api\/(v1|web|console)(\/|$|\?)/.test(url);
}

// ---------------------------------------------------------------------------------------------
// Sending and judging

interface Answer {
  status: number;
  contentType: string;
  text: string;
  /** The status line never came (the server closed or the client gave up). */
  noAnswer?: string;
}

async function sendFetch(baseUrl: string, attempt: Attempt): Promise<Answer> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), 20_000);
  try {
    const response = await fetch(baseUrl + attempt.url, { method: attempt.method, headers: attempt.headers, body: attempt.body, signal: controller.signal, redirect: 'manual' });
    const contentType = response.headers.get('content-type') ?? '';
    // A live stream stays open: its head is the answer.
    if (contentType.startsWith('text/event-stream')) {
      controller.abort();
      return { status: response.status, contentType, text: '' };
    }
    return { status: response.status, contentType, text: await response.text() };
  } catch (error) {
    return { status: 0, contentType: '', text: '', noAnswer: (error as Error).cause ? String((error as Error & { cause: unknown }).cause) : String(error) };
  } finally {
    clearTimeout(timer);
  }
}

function sendRaw(baseUrl: string, attempt: Attempt): Promise<Answer> {
  const { port } = new URL(baseUrl);
  return new Promise((resolve) => {
    const socket = net.connect(Number(port), '127.0.0.1');
    const chunks: Buffer[] = [];
    socket.setTimeout(10_000, () => socket.destroy(new Error('no answer within 10 s')));
    socket.on('data', (chunk) => {
      chunks.push(chunk);
      // One answer is enough (pipelined requests would keep the connection open).
      const text = Buffer.concat(chunks).toString('latin1');
      const head = text.indexOf('\r\n\r\n');
      const length = /\r\ncontent-length: *(\d+)/i.exec(text.slice(0, head))?.[1];
      if (head !== -1 && length !== undefined && text.length >= head + 4 + Number(length)) socket.destroy();
    });
    let failure: string | undefined;
    socket.on('error', (error) => (failure = error.message));
    socket.on('close', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      const split = raw.indexOf('\r\n\r\n');
      const head = split === -1 ? raw : raw.slice(0, split);
      const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(head)?.[1] ?? 0);
      const contentType = /\r\ncontent-type: *([^\r]*)/i.exec(head)?.[1] ?? '';
      // The first answer only (a pipelined request gets a second one on the same connection).
      const length = /\r\ncontent-length: *(\d+)/i.exec(head)?.[1];
      const body = split === -1 ? '' : raw.slice(split + 4);
      resolve({ status, contentType, text: length === undefined ? body : Buffer.from(body).subarray(0, Number(length)).toString('utf8'), noAnswer: status === 0 ? (failure ?? 'the connection closed without an answer') : undefined });
    });
    socket.write(attempt.raw ?? '', 'latin1');
  });
}

export interface Finding {
  index: number;
  problem: string;
  method: string;
  url: string;
  status: number;
  answer: string;
  request: string;
}

/** What is wrong with an answer, or null. */
function judge(attempt: Attempt, answer: Answer): string | null {
  if (answer.noAnswer) return `no answer: ${answer.noAnswer}`;
  if (answer.status >= 500) return `status ${answer.status}`;
  if (/\bat .+:\d+:\d+\)|node_modules|"stack"/.test(answer.text)) return 'the answer looks like a stack trace';
  const path = pathSeen(attempt);
  if (!isJsonApi(path) || attempt.method === 'HEAD' || answer.status === 204 || answer.status === 304) return null;
  if (answer.status < 400 && !answer.contentType.includes('json')) return null; // CSV export, live stream heads
  if (answer.status < 400 && path.endsWith('/openapi.json')) return null;
  // The SIM-bank agent protocol answers in its own JSON shape, which its agents read.
  if (path.startsWith('/api/v1/supply/smshub')) return answer.contentType.includes('json') ? null : 'not JSON';
  let body: { ok?: unknown; error?: { code?: unknown; message?: unknown } };
  try {
    body = JSON.parse(answer.text);
  } catch {
    return 'not the JSON envelope';
  }
  if (typeof body?.ok !== 'boolean') return 'not the envelope (no ok flag)';
  if (answer.status >= 400 && (body.ok !== false || typeof body.error?.code !== 'string' || typeof body.error?.message !== 'string')) {
    return 'an error answer without error.code and error.message';
  }
  return null;
}

export interface FuzzReport {
  seed: number;
  count: number;
  durationMs: number;
  routes: number;
  statuses: Record<string, number>;
  /** Error codes of the envelopes answered, to see how deep the requests got. */
  codes: Record<string, number>;
  serverErrors: number;
  nonEnvelope: number;
  noAnswer: number;
  findings: Finding[];
  alive: boolean;
}

export interface FuzzOptions {
  count: number;
  seed: number;
  concurrency?: number;
  /** Replay these request indexes only. */
  only?: number[];
  /** Check the credentials every this many requests, and renew them when a request ended them. */
  checkEvery?: number;
  onProgress?: (done: number) => void;
}

/** Generates request `index` of a run with `seed`: the same pair always gives the same request. */
export function makeAttempt(target: FuzzTarget, seed: number, index: number): Attempt {
  const rng = rngFor(Math.imul(seed, 0x9e3779b1) ^ index);
  const kind = rng.int(100);
  if (kind < 72) return routeAttempt(rng, target);
  if (kind < 85) return pathTrickAttempt(rng, target);
  return rawAttempt(rng, target);
}

export async function runFuzz(target: FuzzTarget, options: FuzzOptions): Promise<FuzzReport> {
  const started = performance.now();
  const indexes = options.only ?? Array.from({ length: options.count }, (_, i) => i);
  const checkEvery = options.checkEvery ?? 50;
  const statuses: Record<string, number> = {};
  const codes: Record<string, number> = {};
  const findings: Finding[] = [];
  let serverErrors = 0;
  let nonEnvelope = 0;
  let noAnswer = 0;
  let next = 0;
  let done = 0;
  const baseUrl = target.server.url;

  // Workers share a cursor; every `refreshEvery` requests they pause while credentials renew.
  async function worker() {
    while (next < indexes.length) {
      const position = next++;
      if (position > 0 && position % checkEvery === 0) await target.ensureCredentials();
      const index = indexes[position];
      const attempt = makeAttempt(target, options.seed, index);
      const answer = attempt.via === 'raw' ? await sendRaw(baseUrl, attempt) : await sendFetch(baseUrl, attempt);
      statuses[answer.status || 'none'] = (statuses[answer.status || 'none'] ?? 0) + 1;
      const problem = judge(attempt, answer);
      const code = answer.status >= 400 ? /"code":"(\w+)"/.exec(answer.text)?.[1] : undefined;
      if (code) codes[code] = (codes[code] ?? 0) + 1;
      if (problem) {
        if (answer.status >= 500) serverErrors++;
        else if (answer.noAnswer) noAnswer++;
        else nonEnvelope++;
        if (findings.length < 50) {
          findings.push({
            index,
            problem,
            method: attempt.method,
            url: attempt.url.slice(0, 300),
            status: answer.status,
            answer: answer.text.slice(0, 300),
            request: (attempt.raw ?? `${JSON.stringify(attempt.headers)} ${attempt.body ?? ''}`).slice(0, 300),
          });
        }
      }
      options.onProgress?.(++done);
    }
  }
  await Promise.all(Array.from({ length: options.concurrency ?? 6 }, worker));

  // Alive afterwards: the process answers, and a fresh customer can still use the API.
  await target.refresh();
  const health = await fetch(`${baseUrl}/healthz`).catch(() => null);
  const balance = await fetch(`${baseUrl}/api/v1/balance`, { headers: { authorization: `Bearer ${target.credentials.apiKey}` } }).catch(() => null);
  return {
    seed: options.seed,
    count: indexes.length,
    durationMs: Math.round(performance.now() - started),
    routes: target.routes.length,
    statuses,
    codes,
    serverErrors,
    nonEnvelope,
    noAnswer,
    findings,
    alive: health?.status === 200 && balance?.status === 200,
  };
}

// ---------------------------------------------------------------------------------------------
// CLI

function parseArgs(argv: string[]) {
  const options = { count: 10_000, seed: 1, concurrency: 6, only: undefined as number[] | undefined };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--seed') options.seed = Number(argv[++i]);
    else if (arg === '--concurrency') options.concurrency = Number(argv[++i]);
    else if (arg === '--only') options.only = argv[++i].split(',').map(Number);
    else if (/^\d+$/.test(arg)) options.count = Number(arg);
    else throw new Error(`unknown argument ${arg}; usage: npm run fuzz -- [count] [--seed N] [--concurrency N] [--only i,j]`);
  }
  if (!Number.isInteger(options.seed) || !(options.concurrency >= 1)) throw new Error('--seed and --concurrency take whole numbers');
  return options;
}

async function main() {
  const options = parseArgs(process.argv.slice(2));
  const server = await startTestServer({ env: fuzzServerEnv });
  try {
    const target = await prepareTarget(server);
    console.log(`Fuzzing ${target.routes.length} routes at ${server.url} with ${options.only?.length ?? options.count} requests (seed ${options.seed}, concurrency ${options.concurrency})`);
    const report = await runFuzz(target, {
      ...options,
      onProgress: (done) => {
        if (done % 1000 === 0) console.log(`  ${done} sent`);
      },
    });
    for (const finding of report.findings) console.log(JSON.stringify(finding));
    const seconds = (report.durationMs / 1000).toFixed(1);
    console.log(`\n${report.count} requests in ${seconds} s (${Math.round(report.count / (report.durationMs / 1000))}/s) on ${report.routes} routes, seed ${report.seed}`);
    console.log(`statuses: ${JSON.stringify(report.statuses)}`);
    console.log(`error codes: ${JSON.stringify(report.codes)}`);
    console.log(`5xx: ${report.serverErrors}   not the envelope: ${report.nonEnvelope}   no answer: ${report.noAnswer}   alive afterwards: ${report.alive ? 'yes' : 'NO'}`);
    const failed = report.serverErrors + report.nonEnvelope + report.noAnswer > 0 || !report.alive;
    process.exitCode = failed ? 1 : 0;
  } finally {
    await server.close();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await main();
