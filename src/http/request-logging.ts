import { appendFileSync, closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import path from 'node:path';
import type { FastifyBaseLogger, FastifyInstance, FastifyReply, FastifyRequest, FastifyServerOptions } from 'fastify';

/**
 * The log: JSON lines (pino, through Fastify), one request id on every line written while a
 * request is handled, the same id in the `X-Request-Id` answer header, and nothing in it that
 * would let a reader act as a customer, a provider or staff (keys, secrets, passwords, tokens).
 */

export const requestIdHeader = 'x-request-id';

// What a proxy may hand us as a request id: short, and nothing that could forge a log line or a header.
const saneRequestId = /^[A-Za-z0-9._-]{1,64}$/;

/**
 * Fastify's `genReqId`: behind a proxy we trust, its `X-Request-Id` (so one id follows a request
 * through the proxy's log and ours); otherwise, or when the value is not sane, a new UUID. A
 * client talking to us directly cannot choose the id a support person looks up.
 */
export function requestIdGenerator(trustProxy: boolean): (request: IncomingMessage) => string {
  return (request) => {
    const incoming = trustProxy ? request.headers[requestIdHeader] : undefined;
    return typeof incoming === 'string' && saneRequestId.test(incoming) ? incoming : crypto.randomUUID();
  };
}

/**
 * First of all hooks: the answer carries the id whatever happens next, errors included. Lines that
 * code set off by a request logs through `app.log` (a domain-event listener) carry what they are
 * about instead (a provider, an activation): an AsyncLocalStorage carrying the id there cost every
 * request 10–15% of its CPU on Node 20 (promise hooks on every promise; README → Logs).
 */
export function registerRequestIds(app: FastifyInstance) {
  app.addHook('onRequest', (request, reply, done) => {
    reply.header(requestIdHeader, request.id);
    done();
  });
}

type Level = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace';
type Write = (...args: unknown[]) => void;

/**
 * `request.log`, made when the request first writes a line: pino's child() for each request (to
 * bind its id) cost a cached read ~2% of its CPU, and most requests write none (per-request lines
 * are off outside debug). Lines below the level are dropped as pino would, without a child.
 */
class RequestLogger {
  #real: FastifyBaseLogger | undefined;
  constructor(
    private readonly parent: FastifyBaseLogger,
    private readonly bindings: Record<string, unknown>,
    private readonly options: object,
  ) {}
  private get real(): FastifyBaseLogger {
    return (this.#real ??= this.parent.child(this.bindings, this.options));
  }
  get level(): string {
    return this.#real?.level ?? this.parent.level;
  }
  set level(level: string) {
    this.real.level = level;
  }
  private write(level: Level, args: unknown[]): void {
    const enabled = (this.#real ?? this.parent) as FastifyBaseLogger & { isLevelEnabled?: (level: string) => boolean };
    if (enabled.isLevelEnabled?.(level) === false) return;
    (this.real[level] as Write)(...args);
  }
  fatal: Write = (...args) => this.write('fatal', args);
  error: Write = (...args) => this.write('error', args);
  warn: Write = (...args) => this.write('warn', args);
  info: Write = (...args) => this.write('info', args);
  debug: Write = (...args) => this.write('debug', args);
  trace: Write = (...args) => this.write('trace', args);
  silent: Write = () => {};
  child(bindings: Record<string, unknown>, options?: object): FastifyBaseLogger {
    return this.real.child(bindings, options);
  }
}

/** Fastify's `childLoggerFactory`: see RequestLogger. */
export function lazyRequestLogger(logger: FastifyBaseLogger, bindings: Record<string, unknown>, options: object): FastifyBaseLogger {
  return new RequestLogger(logger, bindings, options) as unknown as FastifyBaseLogger;
}

/** For answers sent before any hook runs (Fastify's `frameworkErrors`). */
export function echoRequestId(request: FastifyRequest, reply: FastifyReply) {
  reply.header(requestIdHeader, request.id);
}

// Query parameters that carry a credential: any name ending in token, key, secret, password or
// signature. Reset and invite links (`token`), the sms-activate protocol's `api_key`, the chat's
// `visitor_token` (an EventSource cannot send a header).
const secretQueryParameter = /([?&][\w.-]*(?:token|key|secret|password|signature)=)[^&#]*/gi;
// Path segments that are credentials: GET /api/web/invites/:token (not /invites/accept).
const secretPathSegment = /^(\/api\/web\/invites\/)(?!accept(?:[/?#]|$))[^/?#]+/;

/** A request URL as it may appear in the log: credentials in the path or query replaced. */
export function urlForLog(url: string): string {
  return url.replace(secretPathSegment, '$1[redacted]').replace(secretQueryParameter, '$1[redacted]');
}

// A failed query's parameters (Drizzle puts them in the message), the row PostgreSQL quotes in a
// constraint error and the value it quotes in a type error can hold what we keep in clear
// (webhook secrets, gateway signing keys) or were handed (a token in the wrong field).
const stripQueryValues = (text: string) =>
  text
    .replace(/(\nparams: )[\s\S]*?(?=\n {4}at |$)/, '$1[redacted]')
    .replace(/(Failing row contains )[\s\S]*$/, '$1[redacted]')
    .replace(/(invalid input (?:syntax|value) for [^:\n]*: )"(?:[^"\\\n]|\\.)*"/g, '$1"[redacted]"');
// Fields of errors that hold raw input: query parameters, the bytes of a refused HTTP request (headers and all).
const rawInputFields = new Set(['params', 'rawPacket']);

interface LoggedError {
  type: string;
  message: string;
  stack: string;
  [field: string]: unknown;
}

/** An error as the log shows it: type, message, stack, code-like fields; never query values or raw requests. */
export function errorForLog(error: Error, depth = 0): LoggedError {
  const shown: LoggedError = {
    type: error.constructor?.name ?? 'Error',
    message: stripQueryValues(String(error.message)),
    stack: stripQueryValues(error.stack ?? ''),
  };
  for (const [key, value] of Object.entries(error)) {
    if (key in shown || rawInputFields.has(key)) continue;
    if (typeof value === 'string') shown[key] = stripQueryValues(value);
    else if (typeof value === 'number' || typeof value === 'boolean') shown[key] = value;
  }
  const inner = (value: unknown) => (value instanceof Error ? errorForLog(value, depth + 1) : typeof value === 'string' ? stripQueryValues(value) : String(value));
  if (error.cause !== undefined && depth < 4) shown.cause = inner(error.cause);
  if (error instanceof AggregateError && depth < 4) shown.errors = error.errors.slice(0, 10).map(inner);
  return shown;
}

// A safety net for code that logs an object (no code here logs headers or bodies): credential
// headers, and credential fields at the top or in `body`. Not under `req`/`res`: the serializers
// below write no headers, and a path there would run on every request line (as one starting with
// `*` would on every line): each cost 15–45 µs a line, measured on the loaded 2-core machine.
const credentialHeaders = ['authorization', 'cookie', 'set-cookie', 'x-csrf-token', 'x-signature', 'stripe-signature', 'x-visitor-token'];
const credentialFields = ['password', 'new_password', 'current_password', 'secret', 'token', 'api_key', 'apiKey', 'signing_key', 'signingKey', 'totp_secret', 'totpSecret'];
const redactedPaths = [
  ...credentialHeaders.map((name) => `headers["${name}"]`),
  ...credentialFields.flatMap((field) => [field, `body.${field}`]),
  // A TOTP code or a protocol key in a body; not a top-level `code` (error codes are what an operator needs).
  'body.code',
  'body.key',
];

/** Lines to a file, appended synchronously: nothing is lost when the process dies right after. */
function fileDestination(file: string) {
  mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  let fd: number | null = openSync(file, 'a');
  return {
    write(line: string) {
      // A line from a job still finishing after the app closed goes to the file all the same.
      if (fd === null) appendFileSync(file, line);
      else writeSync(fd, line);
    },
    close() {
      if (fd !== null) closeSync(fd);
      fd = null;
    },
  };
}

/** The `logger` option of Fastify, and what to do when the app closes. */
export function createLogging(config: { logLevel: string; logFile?: string }): { logger: FastifyServerOptions['logger']; close(): void } {
  if (config.logLevel === 'silent') return { logger: false, close: () => {} };
  const destination = config.logFile ? fileDestination(config.logFile) : undefined;
  return {
    logger: {
      level: config.logLevel,
      ...(destination ? { stream: destination } : {}),
      redact: { paths: redactedPaths, censor: '[redacted]' },
      serializers: {
        // Fastify's own request shape, with the URL's credentials replaced and no headers at all.
        req: (request: FastifyRequest) => ({
          method: request.method,
          url: urlForLog(request.url),
          host: request.host,
          remoteAddress: request.ip,
          remotePort: request.socket?.remotePort,
        }),
        // Whatever is logged as `err` (pino's own serializer would keep every field of the error).
        err: (error: Error) => (error instanceof Error ? errorForLog(error) : { type: typeof error, message: String(error), stack: '' }),
      },
    },
    close: () => destination?.close(),
  };
}
