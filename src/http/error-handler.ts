import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError, type ErrorCode, errorStatuses } from './errors.ts';

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
};

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
    request.log.error({ err: error }, 'unexpected error');
    return send(reply, 'internal', `Something went wrong on our side; quote request id ${request.id} to support`);
  });

  app.setNotFoundHandler((request, reply) =>
    send(reply, 'not_found', `No endpoint ${request.method} ${request.url.split('?')[0]}; see /api/v1 in the API documentation`),
  );
}
