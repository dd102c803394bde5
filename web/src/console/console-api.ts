/**
 * The console's fetch wrapper: /api/console with its own CSRF cookie (nova_console_csrf), the JSON
 * envelope unwrapped, failures thrown as ApiError (the same error type as the customer website's).
 * Shapes follow docs/console-api.md.
 */
import { readCookie, requestEnvelope } from '../api.ts';

export { ApiError, errorMessage, formatLocalTime, formatUsd, parseApiTime } from '../api.ts';

export const consoleCsrfCookie = 'nova_console_csrf';

/** Fired when the server says the staff session is gone, so the shell re-reads it. */
export const consoleForbiddenEvent = 'nova:console-forbidden';

// The session answer carries the token too; kept for a browser that hides the cookie from JS.
let csrfFromSession: string | undefined;
export function rememberCsrfToken(token: string | undefined) {
  csrfFromSession = token;
}

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
export function consoleApi<T>(path: string, options: { method?: string; body?: unknown } = {}): Promise<T> {
  return requestEnvelope<T>(`/api/console${path}`, {
    ...options,
    csrfToken: () => readCookie(consoleCsrfCookie) ?? csrfFromSession ?? '',
    unreachable: 'We could not reach the server. Check your connection and try again.',
    onFailure(status) {
      const signInRoute = path.startsWith('/signin') || path.startsWith('/totp') || path.startsWith('/session');
      if (status === 403 && !signInRoute) {
        // Signed out elsewhere, session expired, or a role that may not do this: the shell checks which.
        window.dispatchEvent(new Event(consoleForbiddenEvent));
      }
    },
  });
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
  disabled: boolean;
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
