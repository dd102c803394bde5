/** The one fetch wrapper of the website: JSON envelope in and out, session cookie, CSRF header. */

export class ApiError extends Error {
  readonly code: string;
  readonly status: number;
  constructor(code: string, message: string, status: number) {
    super(message);
    this.code = code;
    this.status = status;
  }
}

export function readCookie(name: string): string | undefined {
  for (const part of document.cookie.split(';')) {
    const [key, ...rest] = part.trim().split('=');
    if (key === name) return decodeURIComponent(rest.join('='));
  }
  return undefined;
}

export const sessionEndedEvent = 'nova:session-ended';

const unsafeMethods = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

export interface EnvelopeRequest {
  method?: string;
  body?: unknown;
  headers?: Record<string, string>;
  /** The token of the site's double-submit CSRF cookie, sent as x-csrf-token on unsafe methods. */
  csrfToken(): string;
  /** What the user reads when the server cannot be reached at all. */
  unreachable: string;
  /** Called with the HTTP status of every failed answer, before it is thrown. */
  onFailure?(status: number): void;
}

/**
 * One JSON request to our server, as the website and the console both make them: the
 * `{ ok, data | error }` envelope unwrapped, failures thrown as ApiError.
 */
export async function requestEnvelope<T>(url: string, options: EnvelopeRequest): Promise<T> {
  const method = options.method ?? (options.body === undefined ? 'GET' : 'POST');
  const headers: Record<string, string> = { accept: 'application/json', ...options.headers };
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  // Double-submit CSRF: the server compares this header with the site's CSRF cookie.
  if (unsafeMethods.has(method)) headers['x-csrf-token'] = options.csrfToken();
  let response: Response;
  try {
    response = await fetch(url, {
      method,
      headers,
      credentials: 'same-origin',
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
    });
  } catch {
    throw new ApiError('network', options.unreachable, 0);
  }
  let envelope: { ok: boolean; data?: T; error?: { code: string; message: string } } | undefined;
  try {
    envelope = await response.json();
  } catch {
    envelope = undefined;
  }
  if (envelope?.ok) return envelope.data as T;
  options.onFailure?.(response.status);
  if (envelope?.error) throw new ApiError(envelope.error.code, envelope.error.message, response.status);
  throw new ApiError('internal', `The server answered ${response.status}. Please try again in a moment.`, response.status);
}

export function api<T>(path: string, options: { method?: string; body?: unknown; headers?: Record<string, string> } = {}): Promise<T> {
  return requestEnvelope<T>(path, {
    ...options,
    csrfToken: () => readCookie('nova_csrf') ?? '',
    unreachable: 'We could not reach Nova SMS. Check your connection and try again.',
    onFailure(status) {
      if (status === 401 && path.startsWith('/api/web/') && !path.startsWith('/api/web/signin')) {
        // The session ended (signed out elsewhere, removed from the team): the app goes to sign-in.
        window.dispatchEvent(new Event(sessionEndedEvent));
      }
    },
  });
}

export const post = <T>(path: string, body: unknown = {}) => api<T>(path, { method: 'POST', body });

export function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message;
  return 'Something went wrong. Please try again.';
}

// ---- Shapes of /api/web answers (docs/web-api.md) ----

export interface Account {
  id: number;
  email: string;
  role: 'owner' | 'member';
  company_id: number;
  company_name: string;
}

export interface PriceRow {
  service: string;
  service_name: string;
  country: number;
  country_name: string;
  country_iso: string;
  price: number;
  available: number;
  in_stock: boolean;
}

export type ActivationStatus = 'waiting' | 'sms_received' | 'completed' | 'cancelled' | 'expired';

export interface Activation {
  id: number;
  type: 'sms';
  number: string;
  service: string;
  country: number;
  operator: string;
  price: number;
  status: ActivationStatus;
  code: string | null;
  text: string | null;
  created_at: string;
  expires_at: string;
  cancel_available_at: string;
  /** A reuse ("Buy again"): the earlier activation on the same number and service. */
  reused_from?: number | null;
  /** In the history list: the customer's report of the number, if any. */
  report?: { reason: ReportReason; note: string | null; refunded: boolean; created_at: string } | null;
}

export type ReportReason = 'used' | 'blocked' | 'no_sms' | 'other';

/** The answer to POST /api/web/activations/:id/report. */
export interface ActivationReport {
  activation: Activation;
  report: { reason: ReportReason; note: string | null; refunded: boolean; created_at: string };
}

export interface Page<T> {
  total: number;
  limit: number;
  offset: number;
  items: T[];
}

export interface Transaction {
  id: number;
  kind: string;
  amount: number;
  balance_after: number;
  reason: string | null;
  created_at: string;
}

export interface TeamMember {
  id: number;
  email: string;
  role: 'owner' | 'member';
  spent: number;
  activations: number;
  joined_at: string;
}

export interface TeamInvite {
  id: number;
  email: string;
  role: 'owner' | 'member';
  created_at: string;
}

export interface ChatMessage {
  id: number;
  author: 'visitor' | 'support';
  text: string;
  created_at: string;
}

/** API times are "YYYY-MM-DD HH:MM:SS" in UTC. */
export function parseApiTime(value: string): number {
  return Date.parse(`${value.replace(' ', 'T')}Z`);
}

export function formatUsd(amount: number): string {
  const abs = Math.abs(amount);
  // Prices go down to 1/10000 USD; show the extra digits only when they matter.
  const digits = Math.round(abs * 100) === abs * 100 ? 2 : 4;
  return `${amount < 0 ? '−' : ''}$${abs.toFixed(digits)}`;
}

export function formatLocalTime(value: string): string {
  const ms = parseApiTime(value);
  if (Number.isNaN(ms)) return value;
  return new Date(ms).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}
