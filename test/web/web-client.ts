import { recordCookieSecrets, recordSecret, recordSecretsIn } from '../support/recorded-secrets.ts';
import { desc, eq } from 'drizzle-orm';
import type { Database } from '../../src/db/database.ts';
import { emailOutbox } from '../../src/modules/email/email.tables.ts';
import type { ApiResponse } from '../support/test-server.ts';

/**
 * A browser-like client of the website API: keeps cookies, sends the CSRF header on
 * state-changing requests, reads server-sent events.
 */
export interface WebClient {
  cookies: Map<string, string>;
  csrf: string;
  /** GET /api/web/session: sets the CSRF cookie (call it first, as the app does on load). */
  start(): Promise<ApiResponse>;
  get(pathname: string, headers?: Record<string, string>): Promise<ApiResponse>;
  post(pathname: string, body?: unknown, headers?: Record<string, string>): Promise<ApiResponse>;
  /** Opens a server-sent event stream; close it before the server stops. */
  events(pathname: string, headers?: Record<string, string>): Promise<EventReader>;
}

export interface ServerEvent {
  event: string;
  data: any;
  id?: string;
}

export interface EventReader {
  status: number;
  /** The next event matching `predicate`, or a rejection after `timeoutMs`. */
  next(predicate?: (event: ServerEvent) => boolean, timeoutMs?: number): Promise<ServerEvent>;
  close(): void;
}

/**
 * `options.apiBase` and `options.csrfCookie` point the same client at the console's API
 * (`/api/console`, `nova_console_csrf`); the defaults are the customer website's.
 */
export function webClient(baseUrl: string, options: { apiBase?: string; csrfCookie?: string } = {}): WebClient {
  const apiBase = options.apiBase ?? '/api/web';
  const csrfCookie = options.csrfCookie ?? 'nova_csrf';
  const cookies = new Map<string, string>();
  const cookieHeader = () => [...cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  const remember = (headers: Headers) => {
    for (const line of headers.getSetCookie()) {
      const [pair] = line.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      if (value === '' || /expires=Thu, 01 Jan 1970/i.test(line)) cookies.delete(name);
      else cookies.set(name, value);
    }
  };
  const raw = async (pathname: string, init: RequestInit & { headers?: Record<string, string> }): Promise<ApiResponse> => {
    const response = await fetch(`${baseUrl}${apiBase}${pathname}`, { ...init, headers: { cookie: cookieHeader(), ...init.headers } });
    remember(response.headers);
    recordCookieSecrets(response.headers);
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
  const client: WebClient = {
    cookies,
    get csrf() {
      return cookies.get(csrfCookie) ?? '';
    },
    start: () => raw('/session', {}),
    get: (pathname, headers = {}) => raw(pathname, { headers }),
    post: (pathname, body, headers = {}) =>
      raw(pathname, {
        method: 'POST',
        headers: { ...(client.csrf ? { 'x-csrf-token': client.csrf } : {}), ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
        body: body === undefined ? undefined : JSON.stringify(body),
      }),
    async events(pathname, headers = {}) {
      const abort = new AbortController();
      const response = await fetch(`${baseUrl}${apiBase}${pathname}`, { headers: { cookie: cookieHeader(), ...headers }, signal: abort.signal });
      const queue: ServerEvent[] = [];
      const waiters: (() => void)[] = [];
      let buffer = '';
      void (async () => {
        if (!response.body || !response.headers.get('content-type')?.startsWith('text/event-stream')) return;
        const decoder = new TextDecoder();
        try {
          for await (const chunk of response.body) {
            buffer += decoder.decode(chunk as Uint8Array, { stream: true });
            let end: number;
            while ((end = buffer.indexOf('\n\n')) >= 0) {
              const block = buffer.slice(0, end);
              buffer = buffer.slice(end + 2);
              const event: Partial<ServerEvent> & { lines: string[] } = { lines: [] };
              for (const line of block.split('\n')) {
                if (line.startsWith('event: ')) event.event = line.slice(7);
                else if (line.startsWith('data: ')) event.lines.push(line.slice(6));
                else if (line.startsWith('id: ')) event.id = line.slice(4);
              }
              if (!event.event) continue;
              queue.push({ event: event.event, data: JSON.parse(event.lines.join('\n')), id: event.id });
              for (const wake of waiters.splice(0)) wake();
            }
          }
        } catch {
          // Aborted.
        }
      })();
      return {
        status: response.status,
        async next(predicate = () => true, timeoutMs = 2000) {
          const deadline = Date.now() + timeoutMs;
          for (;;) {
            const index = queue.findIndex(predicate);
            if (index >= 0) return queue.splice(index, 1)[0];
            const left = deadline - Date.now();
            if (left <= 0) throw new Error(`no matching event within ${timeoutMs} ms`);
            await new Promise<void>((resolve) => {
              const timer = setTimeout(resolve, left);
              waiters.push(() => {
                clearTimeout(timer);
                resolve();
              });
            });
          }
        },
        close: () => abort.abort(),
      };
    },
  };
  return client;
}

let counter = 0;
/** A fresh email address for one test. */
export const freshEmail = (label = 'user') => `${label}.${process.pid}.${Date.now()}.${++counter}@example.com`;

/** Reads the body of the newest email queued to an address. */
export type EmailReader = (address: string) => Promise<string>;

/** The newest email to `address` in a server's outbox (the test server's own database). */
export function outboxReader(database: Database): EmailReader {
  return async (address) => {
    const [newest] = await database.db.select().from(emailOutbox).where(eq(emailOutbox.toAddress, address)).orderBy(desc(emailOutbox.id)).limit(1);
    if (!newest) throw new Error(`no email to ${address} in the outbox`);
    return newest.body;
  };
}

/** The token of the sign-up confirmation link in an email body, or throws. */
export function signUpToken(body: string): string {
  const token = /\/confirm-signup\?token=([A-Za-z0-9_-]+)/.exec(body)?.[1];
  if (!token) throw new Error(`no sign-up confirmation link in: ${body}`);
  return token;
}

/**
 * Signs up a new company owner through the website as a person does: the sign-up form, then the
 * link of the confirmation email (read with `readEmail`). Returns the client, now signed in.
 */
export async function signUpWith(baseUrl: string, readEmail: EmailReader, options: { password?: string; companyName?: string; email?: string } = {}) {
  const client = webClient(baseUrl);
  await client.start();
  const email = options.email ?? freshEmail('owner');
  const password = options.password ?? 'correct horse battery';
  const requested = await client.post('/signup', { email, password, company_name: options.companyName ?? 'Acme Ltd' });
  if (requested.status !== 200) throw new Error(`sign-up failed: ${requested.status} ${JSON.stringify(requested.body)}`);
  recordSecret(password);
  const token = signUpToken(await readEmail(email));
  recordSecret(token);
  const response = await client.post('/signup/confirm', { token });
  if (response.status !== 200) throw new Error(`sign-up confirmation failed: ${response.status} ${JSON.stringify(response.body)}`);
  return { client, email, password, account: response.body.data.account as { id: number; company_id: number; role: string } };
}

/** Signs up a new company owner on a test server (sign-up form, then the emailed link); returns the client, now signed in. */
export function signUp(server: { url: string; database: Database }, options: { password?: string; companyName?: string; email?: string } = {}) {
  return signUpWith(server.url, outboxReader(server.database), options);
}
