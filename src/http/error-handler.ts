import http from 'node:http';
import type { Socket } from 'node:net';
import type { ConnectionError, FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { isDatabaseUnavailable } from '../db/database.ts';
import { AppError, type ErrorCode, errorStatuses } from './errors.ts';
import { apiSecurityHeaders } from './security-headers.ts';
import { echoRequestId } from './request-logging.ts';

// A restarting PostgreSQL is usually back within seconds.
const databaseRetryAfterSeconds = '5';

function send(reply: FastifyReply, code: ErrorCode, message: string, headers?: Record<string, string>) {
  if (headers) reply.headers(headers);
  return reply.status(errorStatuses[code]).send({ ok: false, error: { code, message } });
}

/** Names the field a schema validation failure is about, e.g. "body.country_id must be integer". */
function describeValidation(error: FastifyError): string {
  const first = error.validation?.[0];
  if (!first) return error.message;
  const part = error.validationContext ?? 'request';
  const params = first.params as Record<string, unknown>;
  if (first.keyword === 'additionalProperties') {
    return `${part}.${String(params.additionalProperty)} is not a known field`;
  }
  if (first.keyword === 'required') {
    const base = first.instancePath ? `${part}${first.instancePath.replaceAll('/', '.')}` : part;
    return `${base}.${String(params.missingProperty)} is required`;
  }
  const field = first.instancePath ? `${part}${first.instancePath.replaceAll('/', '.')}` : part;
  if (first.keyword === 'const' || first.keyword === 'enum') {
    // A union of literals (e.g. the status filter) fails once per branch: list what is allowed
    // instead of ajv's "must be equal to constant".
    const allowed = (error.validation ?? [])
      .filter((e) => e.instancePath === first.instancePath && (e.keyword === 'const' || e.keyword === 'enum'))
      .flatMap((e) => {
        const p = e.params as { allowedValue?: unknown; allowedValues?: unknown[] };
        return e.keyword === 'const' ? [p.allowedValue] : (p.allowedValues ?? []);
      });
    return `${field} must be one of: ${allowed.map((v) => String(v)).join(', ')}`;
  }
  return `${field} ${first.message ?? 'is invalid'}`;
}

// Fastify's own client errors, mapped to the closest code of ours.
const fastifyErrorCodes: Record<string, ErrorCode> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'payload_too_large',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'unsupported_media_type',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'invalid_request',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'invalid_request',
  FST_ERR_CTP_INVALID_JSON_BODY: 'invalid_request',
  FST_ERR_BAD_URL: 'invalid_request',
  FST_ERR_MAX_PARAM_LENGTH: 'uri_too_long',
};

/** A piece of what the client sent, safe to quote back in a message. */
function quote(text: string): string {
  return JSON.stringify(text.length > 80 ? `${text.slice(0, 80)}…` : text);
}

/**
 * Fastify's `frameworkErrors` option: errors the router raises before any route or hook runs
 * (a path that is not valid percent-encoding, a path segment over `maxParamLength`). Without it
 * Fastify answers them in its own `{ statusCode, code, message }` shape, not our envelope.
 */
export function frameworkErrors(error: FastifyError, request: FastifyRequest, reply: FastifyReply) {
  // No hook has run for this request: the id and security headers are set here.
  echoRequestId(request, reply);
  reply.headers(apiSecurityHeaders);
  const path = request.url.split('?')[0];
  if (error.code === 'FST_ERR_BAD_URL') {
    return send(reply, 'invalid_request', `The URL path ${quote(path)} is not valid percent-encoded UTF-8; encode special characters as %XX of their UTF-8 bytes`);
  }
  if (error.code === 'FST_ERR_MAX_PARAM_LENGTH') {
    return send(reply, 'uri_too_long', `A segment of the URL path ${quote(path)} is too long; no identifier is longer than 100 characters`);
  }
  request.log.error({ err: error }, 'unexpected router error');
  return send(reply, 'internal', `Something went wrong on our side; quote request id ${request.id} to support`);
}

// What Node's HTTP parser refuses before Fastify sees a request, mapped to our codes.
function clientErrorCode(error: ConnectionError): ErrorCode {
  if (error.code === 'ERR_HTTP_REQUEST_TIMEOUT') return 'request_timeout';
  if (error.code !== 'HPE_HEADER_OVERFLOW') return 'invalid_request';
  // Node reports one overflow for the request line and the headers together (16 KiB); the
  // packet it choked on tells which: a first line without its end, or a request line that
  // alone is long, is the URL.
  // At run time rawPacket is the Buffer itself (Fastify's type describes its JSON form).
  const raw: unknown = error.rawPacket;
  const packet = Buffer.isBuffer(raw) ? raw.toString('latin1') : '';
  const end = packet.indexOf('\n');
  const firstLine = end === -1 ? packet : packet.slice(0, end);
  return end === -1 || (firstLine.length > 4096 && / HTTP\/1\.[01]\r?$/.test(firstLine)) ? 'uri_too_long' : 'headers_too_large';
}

const clientErrorMessages: Partial<Record<ErrorCode, string>> = {
  request_timeout: 'The request did not arrive in time; send it again',
  uri_too_long: 'The request URL is too long; send long values in a JSON body',
  headers_too_large: 'The request headers are too large (at most 16 KiB in all); check the Authorization and Cookie headers',
  invalid_request: 'The request is not valid HTTP/1.1 (a malformed request line, a control character in a header, or conflicting lengths)',
};

/**
 * Fastify's `clientErrorHandler` option (Node's `clientError` event): requests the HTTP parser
 * refuses never reach Fastify, so the answer is written to the socket here, still as the envelope.
 */
export function clientErrorHandler(this: FastifyInstance, error: ConnectionError, socket: Socket) {
  // A reset connection has no one to answer.
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const code = clientErrorCode(error);
  // Not a Fastify request, so no id yet: one for the log line and the answer. (The error's raw
  // packet, which holds the refused headers, Authorization and Cookie included, is never logged:
  // see errorForLog.)
  const reqId = crypto.randomUUID();
  this.log.debug({ reqId, err: error }, 'client error');
  // As Node's own handler: no answer in the middle of another response on this connection.
  const inFlight = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
  if (socket.writable && !inFlight?.headersSent) {
    const status = errorStatuses[code];
    const body = JSON.stringify({ ok: false, error: { code, message: clientErrorMessages[code] ?? code } });
    socket.write(
      `HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\nContent-Type: application/json; charset=utf-8\r\nX-Request-Id: ${reqId}\r\n` +
        Object.entries(apiSecurityHeaders).map(([name, value]) => `${name}: ${value}\r\n`).join('') +
        `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy(error);
}

/** The one place where any error becomes the `{ ok: false, error }` envelope. */
export function registerErrorHandling(app: FastifyInstance, options: { bodyLimitBytes: number }) {
  app.setErrorHandler((error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
    if (error instanceof AppError) return send(reply, error.code, error.message, error.headers);
    if (error.validation) return send(reply, 'invalid_request', describeValidation(error));
    const mapped = error.code ? fastifyErrorCodes[error.code] : undefined;
    if (mapped === 'payload_too_large') {
      return send(reply, mapped, `The request body is too large; send at most ${Math.floor(options.bodyLimitBytes / 1024)} KiB of JSON`);
    }
    if (mapped === 'unsupported_media_type') {
      return send(reply, mapped, 'Send the request body as JSON with Content-Type: application/json');
    }
    if (error.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || error instanceof SyntaxError) {
      return send(reply, 'invalid_request', 'The request body is not valid JSON');
    }
    if (mapped) return send(reply, mapped, error.message);
    if (error.statusCode && error.statusCode >= 400 && error.statusCode < 500) {
      return send(reply, 'invalid_request', error.message);
    }
    // The database is down or restarting: no bug, so no stack; the client retries, the pool reconnects.
    if (isDatabaseUnavailable(error)) {
      // The driver's reason only: Drizzle's own message quotes the query's parameters.
      const reason = error.cause instanceof Error ? error.cause : error;
      request.log.warn({ reason: reason.message, code: (reason as { code?: unknown }).code }, 'database unavailable');
      return send(reply, 'unavailable', 'The database is briefly unreachable; retry in a few seconds', { 'retry-after': databaseRetryAfterSeconds });
    }
    request.log.error({ err: error }, 'unexpected error');
    return send(reply, 'internal', `Something went wrong on our side; quote request id ${request.id} to support`);
  });

  app.setNotFoundHandler((request, reply) =>
    send(reply, 'not_found', `No endpoint ${request.method} ${request.url.split('?')[0]}; see /api/v1 in the API documentation`),
  );
}
