import { createGunzip, gzipSync } from 'node:zlib';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { AppError } from '../../../http/errors.ts';
import type { SupplyService } from '../supply.service.ts';
import { AgentReply, PushSmsBody } from './smshub.schema.ts';

/**
 * The SMSHub-server side of the agent protocol that agents call: PUSH_SMS. Answers are the
 * protocol's `{status: "SUCCESS"}` / `{status: "ERROR", error}`, not our envelope, because the
 * agent software reads exactly that (and resends every 10 s until it sees SUCCESS). Agents send
 * gzip-compressed JSON and accept gzip back.
 */
export const smshubRoutes: FastifyPluginAsyncTypebox<{ supply: SupplyService }> = async (app, { supply }) => {
  app.addHook('preParsing', async (request, _reply, payload) => {
    if (request.headers['content-encoding'] !== 'gzip') return payload;
    const gunzip = createGunzip();
    // Fastify checks Content-Length against the bytes received, which are the compressed ones.
    let received = 0;
    payload.on('data', (chunk: Buffer) => {
      received += chunk.length;
      (gunzip as unknown as { receivedEncodedLength: number }).receivedEncodedLength = received;
    });
    payload.on('error', (error) => gunzip.destroy(error));
    return payload.pipe(gunzip);
  });

  app.addHook('onSend', async (request, reply, payload) => {
    if (typeof payload !== 'string' || !/\bgzip\b/.test(String(request.headers['accept-encoding'] ?? ''))) return payload;
    reply.header('content-encoding', 'gzip');
    return gzipSync(payload);
  });

  app.setErrorHandler((error: Error & { validation?: unknown; statusCode?: number }, request, reply) => {
    const status = error instanceof AppError ? error.status : error.validation ? 400 : (error.statusCode ?? 500);
    if (status >= 500) request.log.error({ err: error }, 'smshub PUSH_SMS failed');
    const message = status >= 500 ? 'Temporary error, send the SMS again' : error.message;
    void reply.code(status).send({ status: 'ERROR', error: message });
  });

  app.post(
    '/supply/smshub',
    {
      schema: {
        summary: 'SMSHub agent protocol: PUSH_SMS from a SIM-bank agent (protocol key in the body)',
        tags: ['supply'],
        body: PushSmsBody,
        response: { 200: AgentReply },
      },
    },
    async (request) => {
      const body = request.body;
      const provider = await supply.authenticateAgentKey(body.key);
      if (!provider) throw new AppError('unauthorized', 'Unknown protocol key');
      await supply.ingestAgentSms(provider, { smsId: String(body.smsId), phone: String(body.phone), from: body.phoneFrom, text: body.text });
      return { status: 'SUCCESS' as const };
    },
  );
};
