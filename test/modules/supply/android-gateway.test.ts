import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql } from 'drizzle-orm';
import { runOperatorCommand } from '../../../src/cli/control-socket.ts';
import { signGatewayWebhook } from '../../../src/modules/supply/android-gateway/android-gateway.signature.ts';
import { type FakeGatewayPhone, registerGatewayWebhook, startFakeGatewayPhone } from '../../support/fakes/android-sms-gateway.ts';
import { startTestServer, type TestServer } from '../../support/test-server.ts';
import { uniqueName } from '../../support/test-target.ts';

/**
 * The example payload of docs/features/webhooks.md ("Step 5: Receive the Payload") of
 * android-sms-gateway/docs-web, byte for byte, pretty-printed as shown there.
 */
const docsExampleBody = `{
  "deviceId": "ffffffffceb0b1db0000018e937c815b",
  "event": "sms:received",
  "id": "Ey6ECgOkVVFjz3CL48B8C",
  "payload": {
    "messageId": "abc123",
    "message": "Android is always a sweet treat!",
    "phoneNumber": "6505551212",
    "simNumber": 1,
    "receivedAt": "2024-06-22T15:46:11.000+07:00"
  },
  "webhookId": "<unique-id>"
}`;

let numberCounter = 0;

describe('SMS Gateway for Android webhooks', () => {
  let server: TestServer;

  before(async () => {
    server = await startTestServer();
  });
  after(() => server.close());

  async function operator(name: string, args: string[]) {
    const reply = await runOperatorCommand(server.services, name, args);
    assert.ok(reply.ok, JSON.stringify(reply.error));
    // The command's JSON output is untyped; tests read its fields.
    return reply.output!.json as any;
  }

  /** A gateway provider created the way an operator does, a phone with its SIMs mapped to our numbers, and its webhook registered. */
  async function gatewayWithPhone(options: { deviceId?: string; sims?: number[] } = {}) {
    const created = await operator('provider:create', ['--kind', 'android-gateway', '--name', uniqueName('pixel')]);
    const phone = await startFakeGatewayPhone({
      signingKey: created.signing_key,
      deviceId: options.deviceId,
      nowSeconds: () => Math.floor(server.clock.now().getTime() / 1000),
    });
    const numbers: Record<number, string> = {};
    for (const sim of options.sims ?? [1]) {
      const number = `+1${300 + (++numberCounter % 600)}555${2000 + sim}`;
      await operator('numbers:add', ['--provider', String(created.provider_id), '--country', '6', '--operator', `gw${numberCounter}`, '--device', phone.deviceId, '--sim', String(sim), number]);
      numbers[sim] = number;
    }
    await registerGatewayWebhook(phone, `${server.url}${created.webhook_path}`);
    return { phone, numbers, providerId: created.provider_id as number, webhookPath: created.webhook_path as string };
  }

  async function buyOn(number: string) {
    const { apiKey } = await server.createCompany('10');
    const api = server.api(apiKey);
    const bought = await api.post('/api/v1/activations', { service_code: 'tg', country_id: 6, operator: await operatorOf(number) });
    assert.equal(bought.status, 201, JSON.stringify(bought.body));
    assert.equal(bought.body.data.activation.number, number);
    return { api, activation: bought.body.data.activation };
  }

  async function operatorOf(number: string): Promise<string> {
    const result = await server.database.db.execute(sql`select operator from phone_numbers where e164 = ${number}`);
    return (result as unknown as { rows: { operator: string }[] }).rows[0]!.operator;
  }

  const phones: FakeGatewayPhone[] = [];
  after(async () => {
    for (const phone of phones) await phone.close();
  });

  it('delivers the documented sms:received payload, byte for byte, to the activation on that device and SIM', async () => {
    const { phone, numbers } = await gatewayWithPhone({ deviceId: 'ffffffffceb0b1db0000018e937c815b' });
    phones.push(phone);
    const { api, activation } = await buyOn(numbers[1]!);
    const [attempt] = await phone.sendRaw('sms:received', docsExampleBody);
    assert.equal(attempt!.status, 200, JSON.stringify(attempt!.body));
    assert.equal(attempt!.body.data.activation_id, activation.id);
    assert.equal(attempt!.body.data.duplicate, false);
    const seen = (await api.get(`/api/v1/activations/${activation.id}`)).body.data;
    assert.equal(seen.activation.status, 'sms_received');
    assert.deepEqual(
      seen.activation.messages.map((m: { text: string; sender: string }) => m.text),
      ['Android is always a sweet treat!'],
    );
  });

  it('maps the SIM slot to our number: a code on SIM 2 reaches the SIM 2 activation only', async () => {
    const { phone, numbers } = await gatewayWithPhone({ sims: [1, 2] });
    phones.push(phone);
    const first = await buyOn(numbers[1]!);
    const second = await buyOn(numbers[2]!);
    const [attempt] = await phone.receiveSms({ message: 'Telegram code: 41852. Do not give this code to anyone', phoneNumber: 'Telegram', simNumber: 2 });
    assert.equal(attempt!.status, 200, JSON.stringify(attempt!.body));
    assert.deepEqual([attempt!.body.data.activation_id, attempt!.body.data.code], [second.activation.id, '41852']);
    assert.equal((await second.api.get(`/api/v1/activations/${second.activation.id}`)).body.data.activation.code, '41852');
    assert.equal((await first.api.get(`/api/v1/activations/${first.activation.id}`)).body.data.activation.status, 'waiting');
  });

  it('refuses webhooks with a wrong key, a tampered body, no signature, or for an unknown gateway, and stores nothing', async () => {
    const { phone, numbers, webhookPath } = await gatewayWithPhone();
    phones.push(phone);
    const { api, activation } = await buyOn(numbers[1]!);
    const wrongKey = await phone.receiveSms({ message: 'Telegram code: 11111', phoneNumber: 'Telegram' }, { signingKey: 'not-the-key' });
    const tampered = await phone.receiveSms({ message: 'Telegram code: 22222', phoneNumber: 'Telegram' }, { signature: signGatewayWebhook(phone.signingKey, '{}', '1') });
    for (const [attempt] of [wrongKey, tampered]) {
      assert.deepEqual([attempt!.status, attempt!.body.error.code], [401, 'unauthorized']);
    }
    const unsigned = await fetch(`${server.url}${webhookPath}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: docsExampleBody });
    assert.equal(unsigned.status, 401);
    const timestamp = String(Math.floor(server.clock.now().getTime() / 1000));
    const signedForOther = signGatewayWebhook(phone.signingKey, docsExampleBody, timestamp);
    // An unknown id, and a bearer-secret (http) provider: neither is a gateway with a signing key.
    const httpProvider = await server.createProvider({ count: 0 });
    const paths = ['999999', 'abc', '99999999999', String(httpProvider.providerId)].map((id) => `/api/v1/supply/android-gateway/${id}`);
    for (const path of paths) {
      const response = await fetch(`${server.url}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-timestamp': timestamp, 'x-signature': signedForOther },
        body: docsExampleBody,
      });
      assert.equal(response.status, 401, path);
    }
    const seen = (await api.get(`/api/v1/activations/${activation.id}`)).body.data;
    assert.deepEqual([seen.activation.status, seen.activation.messages.length], ['waiting', 0]);
  });

  it('refuses a signature whose timestamp is more than 5 minutes off our clock, either way', async () => {
    const { phone, numbers } = await gatewayWithPhone();
    phones.push(phone);
    const { api, activation } = await buyOn(numbers[1]!);
    const now = Math.floor(server.clock.now().getTime() / 1000);
    for (const timestamp of [now - 301, now + 301]) {
      const [attempt] = await phone.receiveSms({ message: 'Telegram code: 33333', phoneNumber: 'Telegram' }, { timestamp });
      assert.deepEqual([attempt!.status, attempt!.body.error.code], [401, 'unauthorized']);
      assert.match(attempt!.body.error.message, /clock/);
    }
    assert.equal((await api.get(`/api/v1/activations/${activation.id}`)).body.data.activation.messages.length, 0);
    const [fresh] = await phone.receiveSms({ message: 'Telegram code: 33333', phoneNumber: 'Telegram' }, { timestamp: now - 290 });
    assert.equal(fresh!.status, 200, JSON.stringify(fresh!.body));
    assert.equal(fresh!.body.data.code, '33333');
  });

  it('refuses a replayed request, and answers a retry of the same event without delivering it twice', async () => {
    const { phone, numbers } = await gatewayWithPhone();
    phones.push(phone);
    const { api, activation } = await buyOn(numbers[1]!);
    const [original] = await phone.receiveSms({ message: 'Telegram code: 44444', phoneNumber: 'Telegram', eventId: 'evt-replay-1' });
    assert.equal(original!.status, 200);
    // The same bytes and headers again: a replay.
    const [replay] = await phone.sendRaw('sms:received', original!.rawBody, { headers: original!.headers });
    assert.deepEqual([replay!.status, replay!.body.error.code], [409, 'conflict']);
    // The app retrying the event later: same id, new timestamp and signature.
    server.clock.advance(10);
    const [retry] = await phone.receiveSms({ message: 'Telegram code: 44444', phoneNumber: 'Telegram', eventId: 'evt-replay-1' });
    assert.equal(retry!.status, 200, JSON.stringify(retry!.body));
    assert.deepEqual([retry!.body.data.duplicate, retry!.body.data.sms_id], [true, original!.body.data.sms_id]);
    assert.equal((await api.get(`/api/v1/activations/${activation.id}`)).body.data.activation.messages.length, 1);
  });

  it('stores a duplicate SMS (same text to the same SIM within 2 minutes) once, and a repeat after that again', async () => {
    const { phone, numbers } = await gatewayWithPhone();
    phones.push(phone);
    const { api, activation } = await buyOn(numbers[1]!);
    const text = 'Your WhatsApp code: 512-778. Don\'t share it';
    const at = server.clock.now();
    const [first] = await phone.receiveSms({ message: text, phoneNumber: 'WhatsApp', receivedAt: at.toISOString() });
    const [again] = await phone.receiveSms({ message: text, phoneNumber: 'WhatsApp', receivedAt: new Date(at.getTime() + 90_000).toISOString() });
    assert.equal(again!.status, 200);
    assert.deepEqual([again!.body.data.duplicate, again!.body.data.sms_id], [true, first!.body.data.sms_id]);
    assert.equal((await api.get(`/api/v1/activations/${activation.id}`)).body.data.activation.messages.length, 1);
    const [later] = await phone.receiveSms({ message: text, phoneNumber: 'WhatsApp', receivedAt: new Date(at.getTime() + 200_000).toISOString() });
    assert.equal(later!.body.data.duplicate, false);
    assert.equal((await api.get(`/api/v1/activations/${activation.id}`)).body.data.activation.messages.length, 2);
  });

  it('delivers exactly once when the phone stops waiting and retries the event', async () => {
    const { phone, numbers } = await gatewayWithPhone();
    phones.push(phone);
    const { api, activation } = await buyOn(numbers[1]!);
    const sms = { message: 'G-904512 is your Google verification code.', phoneNumber: 'Google', eventId: 'evt-timeout-1' };
    // The app gives up on a slow answer (30 s in the app, 1 ms here) and retries later.
    await phone.receiveSms(sms, { timeoutMs: 1 }).catch((error: Error) => assert.match(error.name, /TimeoutError|AbortError/));
    server.clock.advance(10);
    const [retry] = await phone.receiveSms(sms);
    assert.equal(retry!.status, 200, JSON.stringify(retry!.body));
    const seen = (await api.get(`/api/v1/activations/${activation.id}`)).body.data;
    assert.deepEqual([seen.activation.code, seen.activation.messages.length], ['904512', 1]);
  });

  it('answers a signed but malformed webhook with 400 and names the bad part', async () => {
    const { phone } = await gatewayWithPhone();
    phones.push(phone);
    const [notJson] = await phone.sendRaw('sms:received', '{"deviceId": "x", "event": "sms:rec');
    assert.deepEqual([notJson!.status, notJson!.body.error.code], [400, 'invalid_request']);
    const [noMessage] = await phone.sendRaw(
      'sms:received',
      JSON.stringify({ deviceId: phone.deviceId, event: 'sms:received', id: 'evt-bad-1', payload: { phoneNumber: 'Telegram', simNumber: 1 } }),
    );
    assert.deepEqual([noMessage!.status, noMessage!.body.error.code], [400, 'invalid_request']);
    assert.match(noMessage!.body.error.message, /message/);
    const [noEnvelope] = await phone.sendRaw('sms:received', JSON.stringify({ event: 'sms:received' }));
    assert.equal(noEnvelope!.status, 400);
  });

  it('keeps an SMS for a SIM mapped to no number, and lists it as unmatched', async () => {
    const { phone } = await gatewayWithPhone({ sims: [1] });
    phones.push(phone);
    const text = `Uber code: ${1000 + numberCounter}. Never share this code.`;
    const [attempt] = await phone.receiveSms({ message: text, phoneNumber: 'Uber', simNumber: 2 });
    assert.equal(attempt!.status, 200, JSON.stringify(attempt!.body));
    assert.equal(attempt!.body.data.activation_id, null);
    const listed = await operator('sms:unmatched', []);
    const found = listed.messages.find((m: { id: number }) => m.id === attempt!.body.data.sms_id);
    assert.ok(found, 'the unmatched SMS is listed');
    assert.deepEqual([found.text, found.to], [text, `device:${phone.deviceId}/sim:2`]);
  });

  it('accepts other signed events (system:ping) as signs of life without storing an SMS', async () => {
    const { phone, webhookPath, providerId } = await gatewayWithPhone();
    phones.push(phone);
    await registerGatewayWebhook(phone, `${server.url}${webhookPath}`, 'system:ping');
    const lastSeen = async () => (await operator('provider:health', [])).providers.find((p: { provider_id: number }) => p.provider_id === providerId).last_seen_at;
    assert.equal(await lastSeen(), null);
    const [ping] = await phone.sendRaw('system:ping', JSON.stringify({ deviceId: phone.deviceId, event: 'system:ping', id: 'ping-1', payload: { health: { status: 'pass' } } }));
    assert.equal(ping!.status, 200, JSON.stringify(ping!.body));
    assert.deepEqual([ping!.body.data.event, ping!.body.data.sms_id], ['system:ping', null]);
    assert.match(await lastSeen(), /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/, 'a ping counts as a sign of life');
  });
});
