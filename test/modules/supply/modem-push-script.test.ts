import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startTestServer, type TestServer } from '../../support/test-server.ts';

/**
 * scripts/gammu-smsd-push.sh run the way Gammu SMSD (RunOnReceive, message in the environment)
 * and smstools (eventhandler RECEIVED FILE) run it, against the real server.
 */
const script = path.resolve(import.meta.dirname, '../../../scripts/gammu-smsd-push.sh');

function runScript(args: string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    // Only what SMSD would give: PATH plus the message and our configuration.
    const child = spawn('bash', [script, ...args], { env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('modem push script (Gammu SMSD RunOnReceive, smstools eventhandler)', () => {
  let server: TestServer;
  let inbox: string;

  before(async () => {
    server = await startTestServer();
    inbox = mkdtempSync(path.join(os.tmpdir(), 'nova-smstools-'));
  });
  after(async () => {
    await server.close();
    rmSync(inbox, { recursive: true, force: true });
  });

  async function modemWithActivation(service = 'tg') {
    const { secret, numbers } = await server.createProvider({ count: 1, operator: `modem-${Math.random().toString(36).slice(2, 8)}` });
    const { apiKey } = await server.createCompany('5');
    const api = server.api(apiKey);
    const activation = (await api.post('/api/v1/activations', { service_code: service, country_id: 6 })).body.data.activation;
    const env = { NOVA_URL: server.url, NOVA_PROVIDER_SECRET: secret, NOVA_NUMBER: activation.number };
    return { api, activation, env, numbers };
  }

  it('pushes a message from Gammu SMSD environment variables to the waiting activation', async () => {
    const { api, activation, env } = await modemWithActivation();
    const result = await runScript(['IN20261125_101500_00_+12025550100_00.txt'], {
      ...env,
      SMS_MESSAGES: '1',
      DECODED_PARTS: '0',
      SMS_1_CLASS: '-1',
      SMS_1_NUMBER: 'Telegram',
      SMS_1_TEXT: 'Telegram code: 60412\nYou can also tap on this link to log in:\nhttps://t.me/login/60412',
    });
    assert.equal(result.code, 0, result.stderr);
    assert.equal(JSON.parse(result.stdout).data.activation_id, activation.id);
    const seen = (await api.get(`/api/v1/activations/${activation.id}`)).body.data.activation;
    assert.equal(seen.code, '60412');
    assert.equal(seen.messages[0].text, 'Telegram code: 60412\nYou can also tap on this link to log in:\nhttps://t.me/login/60412');
  });

  it('joins a multipart message and keeps quotes, backslashes and non-Latin text intact', async () => {
    const { api, activation, env } = await modemWithActivation();
    const text = 'Код подтверждения "WhatsApp": 418-223.\tНе сообщайте его никому \\ 不要分享';
    const result = await runScript([], {
      ...env,
      SMS_MESSAGES: '2',
      DECODED_PARTS: '1',
      SMS_1_NUMBER: '+14155550123',
      SMS_1_TEXT: text.slice(0, 20),
      SMS_2_TEXT: text.slice(20),
      DECODED_1_TEXT: text,
    });
    assert.equal(result.code, 0, result.stderr);
    const seen = (await api.get(`/api/v1/activations/${activation.id}`)).body.data.activation;
    assert.deepEqual([seen.messages[0].text, seen.messages[0].from, seen.code], [text, '+14155550123', '418223']);
  });

  it('pushes a RECEIVED file from smstools and ignores its other events', async () => {
    const { api, activation, env } = await modemWithActivation();
    const file = path.join(inbox, 'GSM1.AbCdEf');
    writeFileSync(
      file,
      'From: 12025550188\nFrom_TOA: 91 international, ISDN/telephone\nFrom_SMSC: 12063130004\nSent: 26-11-25 10:15:01\nReceived: 26-11-25 10:15:09\nSubject: GSM1\nModem: GSM1\nReport: no\nAlphabet: ISO\nLength: 38\n\nYour verification code is 731 904\n',
    );
    const sent = await runScript(['SENT', file], env);
    assert.equal(sent.code, 0);
    assert.equal((await api.get(`/api/v1/activations/${activation.id}`)).body.data.activation.status, 'waiting');
    const received = await runScript(['RECEIVED', file, 'ignored-id'], env);
    assert.equal(received.code, 0, received.stderr);
    const seen = (await api.get(`/api/v1/activations/${activation.id}`)).body.data.activation;
    assert.deepEqual([seen.messages[0].from, seen.messages[0].text, seen.code], ['+12025550188', 'Your verification code is 731 904', '731904']);
  });

  it('fails loudly (non-zero exit, the server error on stdout) with a wrong secret or a missing setting', async () => {
    const { env } = await modemWithActivation();
    const wrong = await runScript([], { ...env, NOVA_PROVIDER_SECRET: 'nps_wrong', SMS_MESSAGES: '1', SMS_1_NUMBER: 'x', SMS_1_TEXT: 'code 1234' });
    assert.notEqual(wrong.code, 0);
    assert.match(wrong.stdout, /unauthorized/);
    const missing = await runScript([], { NOVA_URL: server.url, NOVA_PROVIDER_SECRET: 'x', SMS_MESSAGES: '1', SMS_1_NUMBER: 'x', SMS_1_TEXT: 'code 1234' });
    assert.notEqual(missing.code, 0);
    assert.match(missing.stderr, /NOVA_NUMBER/);
  });
});
