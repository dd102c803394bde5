/**
 * The closed list of error codes the API answers with, each with exactly one HTTP status.
 * The first seven are the published contract (nova-sms-api-v1); the rest name failures the
 * page leaves open, so a client can still tell them apart by code.
 */
export const errorStatuses = {
  unauthorized: 401,
  rate_limited: 429,
  insufficient_balance: 402,
  out_of_stock: 409,
  not_found: 404,
  invalid_state: 409,
  too_early: 409,
  invalid_request: 400,
  unknown_service: 404,
  unknown_country: 404,
  price_above_max: 409,
  idempotency_conflict: 409,
  forbidden: 403,
  // Behind a trusted TLS proxy, an API call that reached the proxy over plain HTTP.
  https_required: 403,
  // The company was blocked by staff: its keys and website sessions are turned away until unblocked.
  account_blocked: 403,
  conflict: 409,
  // Issue 11: a rental cancel past its refund window (or after an SMS), and a reuse the number no longer allows.
  too_late: 409,
  reuse_unavailable: 409,
  payload_too_large: 413,
  // Refused by Node's HTTP parser before routing: the request line or the headers are too long,
  // or the request stalled (see clientErrorHandler in http/error-handler.ts).
  uri_too_long: 414,
  headers_too_large: 431,
  request_timeout: 408,
  unsupported_media_type: 415,
  method_not_allowed: 405,
  internal: 500,
  // A dependency (the database, a payment provider) is down or not set up; Retry-After says when to retry.
  unavailable: 503,
} as const;

export type ErrorCode = keyof typeof errorStatuses;

/** The one error type rules throw; the HTTP layer maps it to the envelope and status above. */
export class AppError extends Error {
  readonly code: ErrorCode;
  /** Extra headers the response must carry (e.g. Retry-After). */
  readonly headers?: Record<string, string>;

  constructor(code: ErrorCode, message: string, options?: { headers?: Record<string, string> }) {
    super(message);
    this.name = 'AppError';
    this.code = code;
    this.headers = options?.headers;
  }

  get status(): number {
    return errorStatuses[this.code];
  }
}
