import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { signGatewayWebhook } from '../../../src/modules/supply/android-gateway/android-gateway.signature.ts';

/**
 * A fake phone running SMS Gateway for Android (capcom6/android-sms-gateway) in Local mode. Like
 * the app it serves `POST/GET /webhooks` (basic auth) where an operator registers a webhook URL
 * for an event, and when an SMS "arrives" it POSTs the documented envelope
 * `{deviceId, event, id, payload, webhookId}` to every `sms:received` webhook, signed the way
 * the app signs: `X-Signature` = hex HMAC-SHA256(signing key, raw body + X-Timestamp).
 */
export interface FakeGatewayPhone {
  url: string;
  deviceId: string;
  signingKey: string;
  username: string;
  password: string;
  /** Delivers an SMS to the phone: the app fires its sms:received webhooks. */
  receiveSms(sms: SmsOnPhone, options?: SendOptions): Promise<WebhookAttempt[]>;
  /** Sends an exact body (e.g. the docs' example, byte for byte) to every webhook of that event. */
  sendRaw(event: string, rawBody: string, options?: SendOptions): Promise<WebhookAttempt[]>;
  close(): Promise<void>;
}

export interface SmsOnPhone {
  message: string;
  phoneNumber: string;
  simNumber?: number | null;
  receivedAt?: string;
  messageId?: string;
  /** The event id; random like the app's unless given (a retry reuses it). */
  eventId?: string;
}

export interface SendOptions {
  /** Unix seconds to sign with (default: now). */
  timestamp?: number;
  /** Sign with another key (a phone whose key was changed). */
  signingKey?: string;
  /** Replace the signature (a tampered request). */
  signature?: string;
  /** Reuse a previous attempt's exact headers (a replay). */
  headers?: Record<string, string>;
  /** Abort after this many ms (the app's 30 s limit, shortened). */
  timeoutMs?: number;
}

export interface WebhookAttempt {
  status: number;
  // The server's JSON answer; tests assert on its fields.
  body: any;
  headers: Record<string, string>;
  rawBody: string;
}

interface Webhook {
  id: string;
  url: string;
  event: string;
}

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    request.setEncoding('utf8');
    request.on('data', (chunk: string) => (text += chunk));
    request.on('end', () => resolve(text));
    request.on('error', reject);
  });
}

/** 21-character ids like the app's event ids (e.g. "Ey6ECgOkVVFjz3CL48B8C"). */
const appId = () => randomBytes(16).toString('base64url').slice(0, 21);

export async function startFakeGatewayPhone(options: { signingKey: string; deviceId?: string; nowSeconds?: () => number }): Promise<FakeGatewayPhone> {
  const deviceId = options.deviceId ?? `ffffffff${randomBytes(12).toString('hex')}`;
  const username = 'sms';
  const password = randomBytes(6).toString('hex');
  const nowSeconds = options.nowSeconds ?? (() => Math.floor(Date.now() / 1000));
  const webhooks: Webhook[] = [];

  const server: Server = createServer(async (request, response) => {
    const expected = `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
    const send = (status: number, body: unknown) => {
      response.writeHead(status, { 'content-type': 'application/json' });
      response.end(JSON.stringify(body));
    };
    if (request.headers.authorization !== expected) return send(401, { message: 'Unauthorized' });
    if (request.url === '/webhooks' && request.method === 'GET') return send(200, webhooks);
    if (request.url === '/webhooks' && request.method === 'POST') {
      const input = JSON.parse(await readBody(request)) as Partial<Webhook>;
      if (!input.url || !input.event) return send(400, { message: 'url and event are required' });
      const webhook = { id: input.id ?? appId(), url: input.url, event: input.event };
      webhooks.push(webhook);
      return send(201, webhook);
    }
    send(404, { message: 'Not Found' });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  async function deliver(webhook: Webhook, rawBody: string, sendOptions: SendOptions): Promise<WebhookAttempt> {
    const timestamp = String(sendOptions.timestamp ?? nowSeconds());
    const headers = sendOptions.headers ?? {
      'content-type': 'application/json; charset=utf-8',
      'x-timestamp': timestamp,
      'x-signature': sendOptions.signature ?? signGatewayWebhook(sendOptions.signingKey ?? options.signingKey, rawBody, timestamp),
    };
    const response = await fetch(webhook.url, {
      method: 'POST',
      headers,
      body: rawBody,
      signal: sendOptions.timeoutMs ? AbortSignal.timeout(sendOptions.timeoutMs) : undefined,
    });
    const text = await response.text();
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      // Not JSON: keep the text for the assertion message.
    }
    return { status: response.status, body, headers, rawBody };
  }

  async function sendRaw(event: string, rawBody: string, sendOptions: SendOptions = {}) {
    const targets = webhooks.filter((w) => w.event === event);
    const attempts: WebhookAttempt[] = [];
    for (const webhook of targets) attempts.push(await deliver(webhook, rawBody, sendOptions));
    return attempts;
  }

  return {
    url,
    deviceId,
    signingKey: options.signingKey,
    username,
    password,
    sendRaw,
    async receiveSms(sms, sendOptions = {}) {
      const targets = webhooks.filter((w) => w.event === 'sms:received');
      const eventId = sms.eventId ?? appId();
      const attempts: WebhookAttempt[] = [];
      for (const webhook of targets) {
        // Compact JSON in the app's field order.
        const rawBody = JSON.stringify({
          deviceId,
          event: 'sms:received',
          id: eventId,
          payload: {
            messageId: sms.messageId ?? appId().slice(0, 8),
            message: sms.message,
            phoneNumber: sms.phoneNumber,
            simNumber: sms.simNumber === undefined ? 1 : sms.simNumber,
            receivedAt: sms.receivedAt ?? new Date(nowSeconds() * 1000).toISOString().replace('Z', '+00:00'),
          },
          webhookId: webhook.id,
        });
        attempts.push(await deliver(webhook, rawBody, sendOptions));
      }
      return attempts;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** Registers a webhook with the phone as the docs show (`curl -X POST -u user:pass … /webhooks`). */
export async function registerGatewayWebhook(phone: FakeGatewayPhone, webhookUrl: string, event = 'sms:received') {
  const response = await fetch(`${phone.url}/webhooks`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      authorization: `Basic ${Buffer.from(`${phone.username}:${phone.password}`).toString('base64')}`,
    },
    body: JSON.stringify({ url: webhookUrl, event }),
  });
  if (response.status !== 201) throw new Error(`webhook registration failed: ${response.status} ${await response.text()}`);
  return (await response.json()) as { id: string; url: string; event: string };
}
