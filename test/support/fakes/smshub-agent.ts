import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync, gzipSync } from 'node:zlib';

/**
 * A fake SIM-bank agent speaking the SMSHub agent protocol (version of March 6, 2024): it serves
 * GET_SERVICES, GET_NUMBER and FINISH_ACTIVATION as POSTed JSON `{action, key, …}` (gzip or
 * not), answers in the protocol's shapes, and pushes SMS (PUSH_SMS) to the SMSHub side, gzipped
 * with a User-Agent as the protocol asks. `behave` switches an action to a failure mode.
 */
export type AgentBehavior = 'normal' | 'timeout' | 'malformed' | 'error' | 'string-fields' | 'no-numbers';

export interface AgentRequest {
  action: string;
  // The decoded JSON the agent received; tests assert on its fields.
  body: any;
  gzip: boolean;
  userAgent: string | undefined;
}

export interface FakeSmshubAgent {
  url: string;
  key: string;
  requests: AgentRequest[];
  finishes: { activationId: number; status: number }[];
  /** Numbers still to hand out (digits with the country code). */
  pool: number[];
  countryList: { country: string; operatorMap: Record<string, Record<string, number>> }[];
  behave(action: 'GET_SERVICES' | 'GET_NUMBER' | 'FINISH_ACTIVATION', behavior: AgentBehavior): void;
  /** PUSH_SMS to the SMSHub side (our server), as the agent would. */
  pushSms(serverUrl: string, sms: { smsId: number | string; phone: number | string; phoneFrom: string; text: string }, key?: string): Promise<{ status: number; body: any }>;
  close(): Promise<void>;
}

function readBody(request: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => resolve(Buffer.concat(chunks)));
    request.on('error', reject);
  });
}

export async function startFakeSmshubAgent(options: {
  key: string;
  countryList: FakeSmshubAgent['countryList'];
  pool: number[];
  /** How long a "timeout" answer stalls. */
  stallMs?: number;
}): Promise<FakeSmshubAgent> {
  const behaviors = new Map<string, AgentBehavior>();
  const requests: AgentRequest[] = [];
  const finishes: FakeSmshubAgent['finishes'] = [];
  const activations = new Map<number, number>();
  let nextActivationId = 355;
  const agent = { pool: [...options.pool], countryList: options.countryList };

  const server = createServer(async (request, response) => {
    const raw = await readBody(request);
    const gzip = request.headers['content-encoding'] === 'gzip';
    const send = (reply: unknown, rawText?: string) => {
      const text = rawText ?? JSON.stringify(reply);
      const compress = /gzip/.test(String(request.headers['accept-encoding'] ?? ''));
      response.writeHead(200, { 'content-type': 'application/json', ...(compress ? { 'content-encoding': 'gzip' } : {}) });
      response.end(compress ? gzipSync(text) : text);
    };
    let body: any;
    try {
      body = JSON.parse((gzip ? gunzipSync(raw) : raw).toString('utf8'));
    } catch {
      return send({ status: 'ERROR', error: 'bad JSON' });
    }
    requests.push({ action: body.action, body, gzip, userAgent: request.headers['user-agent'] });
    if (body.key !== options.key) return send({ status: 'ERROR', error: 'wrong key' });
    const behavior = behaviors.get(body.action) ?? 'normal';
    if (behavior === 'timeout') {
      await new Promise((resolve) => setTimeout(resolve, options.stallMs ?? 2000));
      if (!response.destroyed) send({ status: 'NO_NUMBERS' });
      return;
    }
    if (behavior === 'malformed') return send(null, '<html>502 Bad Gateway</html>');
    if (behavior === 'error') return send({ status: 'ERROR', error: 'modem bank offline' });

    switch (body.action) {
      case 'GET_SERVICES':
        return send({ countryList: agent.countryList, status: 'SUCCESS' });
      case 'GET_NUMBER': {
        if (behavior === 'no-numbers') return send({ status: 'NO_NUMBERS' });
        const excluded: string[] = Array.isArray(body.exceptionPhoneSet) ? body.exceptionPhoneSet : [];
        const index = agent.pool.findIndex((n) => !excluded.some((prefix) => String(n).startsWith(prefix)));
        if (index < 0) return send({ status: 'NO_NUMBERS' });
        const [number] = agent.pool.splice(index, 1) as [number];
        const activationId = nextActivationId++;
        activations.set(activationId, number);
        if (behavior === 'string-fields') return send({ number: String(number), activationId: String(activationId), status: 'SUCCESS' });
        return send({ number, activationId, status: 'SUCCESS' });
      }
      case 'FINISH_ACTIVATION':
        // Idempotent, as the protocol demands: a repeated finish of a known activation is SUCCESS.
        if (!activations.has(body.activationId)) return send({ status: 'ERROR', error: 'unknown activation' });
        finishes.push({ activationId: body.activationId, status: body.status });
        return send({ status: 'SUCCESS' });
      default:
        return send({ status: 'ERROR', error: `unknown action ${body.action}` });
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/smshub`;

  return {
    url,
    key: options.key,
    requests,
    finishes,
    get pool() {
      return agent.pool;
    },
    set pool(value) {
      agent.pool = value;
    },
    get countryList() {
      return agent.countryList;
    },
    set countryList(value) {
      agent.countryList = value;
    },
    behave: (action, behavior) => void behaviors.set(action, behavior),
    async pushSms(serverUrl, sms, key = options.key) {
      const response = await fetch(`${serverUrl}/api/v1/supply/smshub`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'content-encoding': 'gzip', 'accept-encoding': 'gzip', 'user-agent': 'SMSHubAgent/1.0' },
        body: gzipSync(JSON.stringify({ smsId: sms.smsId, phoneFrom: sms.phoneFrom, phone: sms.phone, text: sms.text, action: 'PUSH_SMS', key })),
      });
      const text = await response.text();
      let body: unknown = text;
      try {
        body = JSON.parse(text);
      } catch {
        // Keep the text for the assertion message.
      }
      return { status: response.status, body };
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
