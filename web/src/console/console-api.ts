/**
 * The console's fetch wrapper: /api/console with its own CSRF cookie (nova_console_csrf), the JSON
 * envelope unwrapped, failures thrown as ApiError (the same error type as the customer website's).
 * Shapes follow docs/console-api.md.
 */
import { ApiError, readCookie } from '../api.ts';

export { ApiError, errorMessage, formatLocalTime, formatUsd, parseApiTime } from '../api.ts';

export const consoleCsrfCookie = 'nova_console_csrf';

/** Fired when the server says the staff session is gone, so the shell re-reads it. */
export const consoleForbiddenEvent = 'nova:console-forbidden';

// The session answer carries the token too; kept for a browser that hides the cookie from JS.
let csrfFromSession: string | undefined;
export function rememberCsrfToken(token: string | undefined) {
  csrfFromSession = token;
}

const unsafeMethods = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

export type QueryValue = string | number | boolean | null | undefined;

/** `?a=1&b=x` from the values that are set; empty strings, null and undefined are left out. */
export function queryString(params: Record<string, QueryValue>): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value === undefined || value === null || value === '') continue;
    search.set(key, String(value));
  }
  const text = search.toString();
  return text ? `?${text}` : '';
}

/** `path` is relative to /api/console, e.g. `/staff` or `/audit?action=price.set`. */
export async function consoleApi<T>(path: string, options: { method?: string; body?: unknown } = {}): Promise<T> {
  const method = options.method ?? (options.body === undefined ? 'GET' : 'POST');
  const headers: Record<string, string> = { accept: 'application/json' };
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  // Double-submit CSRF: the server compares this header with its nova_console_csrf cookie.
  if (unsafeMethods.has(method)) headers['x-csrf-token'] = readCookie(consoleCsrfCookie) ?? csrfFromSession ?? '';
  let response: Response;
  try {
    response = await fetch(`/api/console${path}`, {
      method,
      headers,
      credentials: 'same-origin',
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
    });
  } catch {
    throw new ApiError('network', 'We could not reach the server. Check your connection and try again.', 0);
  }
  let envelope: { ok: boolean; data?: T; error?: { code: string; message: string } } | undefined;
  try {
    envelope = await response.json();
  } catch {
    envelope = undefined;
  }
  if (envelope?.ok) return envelope.data as T;
  const signInRoute = path.startsWith('/signin') || path.startsWith('/totp') || path.startsWith('/session');
  if (response.status === 403 && !signInRoute) {
    // Signed out elsewhere, session expired, or a role that may not do this: the shell checks which.
    window.dispatchEvent(new Event(consoleForbiddenEvent));
  }
  if (envelope?.error) throw new ApiError(envelope.error.code, envelope.error.message, response.status);
  throw new ApiError('internal', `The server answered ${response.status}. Please try again in a moment.`, response.status);
}

export const consoleGet = <T>(path: string, query: Record<string, QueryValue> = {}) => consoleApi<T>(`${path}${queryString(query)}`);
export const consolePost = <T>(path: string, body: unknown = {}) => consoleApi<T>(path, { method: 'POST', body });

/** Dollars typed by a person ("0.5", "$1.20", "1,5") as a number, or null when it is not one. */
export function parseUsdInput(text: string): number | null {
  const cleaned = text.trim().replace(/^\$/, '').replace(',', '.');
  if (!/^-?\d+(\.\d{1,4})?$/.test(cleaned)) return null;
  return Number(cleaned);
}

// ---- Shapes of /api/console answers (docs/console-api.md) ----

export type StaffRole = 'admin' | 'support';
export type SignInStage = 'totp_enroll' | 'totp' | 'complete';

export interface StaffMember {
  id: number;
  email: string;
  role: StaffRole;
  totp_enabled: boolean;
  created_at: string;
}

export interface ConsoleSession {
  staff: StaffMember | null;
  stage: SignInStage | null;
  csrf_token: string;
}

export interface AuditEntry {
  id: number;
  staff_id: number | null;
  actor: string;
  action: string;
  target_type: string;
  target_id: string | null;
  before: Record<string, unknown> | null;
  after: Record<string, unknown> | null;
  reason: string | null;
  created_at: string;
}
