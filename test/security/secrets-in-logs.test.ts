import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { OutgoingEmail } from '../../src/modules/email/email.service.ts';
import { cliJson, runCli } from '../support/cli-runner.ts';
import { startTestServer } from '../support/test-server.ts';
import { embeddedOnly } from '../support/test-target.ts';
import { freshEmail, signUpToken, signUpWith, webClient } from '../web/web-client.ts';

/**
 * Reset and invitation links are as good as a password: they must never reach the log, which
 * more people (and log shippers) read than the database. The product runs as an operator starts
 * it (`tsx src/main.ts`, LOG_LEVEL=info, no NOVA_SMTP_URL) and everything it prints is kept.
 */
const root = path.resolve(import.meta.dirname, '../..');

interface RunningProduct {
  url: string;
  dataDir: string;
  /** Everything printed so far, stdout and stderr. */
  output(): string;
  /** Resolves once the output matches `pattern`; rejects after `timeoutMs`. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<string>;
  stop(): Promise<void>;
}

async function startProduct(env: Record<string, string>): Promise<RunningProduct> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'nova-logs-'));
  const childEnv: NodeJS.ProcessEnv = { ...process.env, PORT: '0', HOST: '127.0.0.1', NOVA_DATA_DIR: dataDir, LOG_LEVEL: 'info', ...env };
  for (const name of ['DATABASE_URL', 'REDIS_URL', 'NOVA_SMTP_URL', 'NODE_TEST_CONTEXT']) delete childEnv[name];
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], { cwd: root, env: childEnv });
  let output = '';
  const listeners = new Set<() => void>();
  const collect = (chunk: string) => {
    output += chunk;
    for (const listener of listeners) listener();
  };
  child.stdout!.setEncoding('utf8').on('data', collect);
  child.stderr!.setEncoding('utf8').on('data', collect);
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));

  const waitFor = (pattern: RegExp, timeoutMs = 60_000) =>
    new Promise<string>((resolve, reject) => {
      const check = () => {
        const match = pattern.exec(output);
        if (!match) return false;
        listeners.delete(listener);
        clearTimeout(timer);
        resolve(match[1] ?? match[0]);
        return true;
      };
      const listener = () => void check();
      const timer = setTimeout(() => {
        listeners.delete(listener);
        reject(new Error(`no ${pattern} in the output within ${timeoutMs} ms:\n${output}`));
      }, timeoutMs);
      listeners.add(listener);
      check();
    });

  const url = await waitFor(/Nova SMS is running at (http:\/\/\S+)/);
  return {
    url,
    dataDir,
    output: () => output,
    waitFor,
    async stop() {
      child.kill('SIGTERM');
      await exited;
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** The token of the link in an email body (`…?token=…`). */
const tokenIn = (body: string) => /[?&]token=([A-Za-z0-9_-]+)/.exec(body)?.[1];

describe('outside demo mode without NOVA_SMTP_URL, emails stay in the outbox and no link is logged', { skip: embeddedOnly, timeout: 180_000 }, () => {
  let product: RunningProduct;
  before(async () => {
    product = await startProduct({ NOVA_DEMO: '0', NOVA_COOKIE_SECURE: '0' });
  });
  after(async () => {
    await product?.stop();
  });

  it('warns at start-up that emails are not sent', () => {
    assert.match(product.output(), /NOVA_SMTP_URL/);
    assert.match(product.output(), /not sent/);
    assert.match(product.output(), /email:outbox/);
  });

  it('never logs a sign-up, reset or invite link; the operator reads them with email:outbox and the link works', async () => {
    const env = { NOVA_DATA_DIR: product.dataDir };
    // The sign-up's confirmation link, read the way an operator without SMTP reads it.
    const owner = await signUpWith(product.url, async (to) => (await cliJson(['email:outbox', '--to', to], env)).emails[0].body);
    const invitee = freshEmail('invitee');
    assert.equal((await owner.client.post('/team/invites', { email: invitee, role: 'member' })).status, 200);
    const visitor = webClient(product.url);
    await visitor.start();
    assert.equal((await visitor.post('/password-reset/request', { email: owner.email })).status, 200);
    // Longer than one pass of the email job (every 2 s), which used to write the emails to the log.
    await new Promise((resolve) => setTimeout(resolve, 3000));
    assert.doesNotMatch(product.output(), /token=/, 'a token-bearing link reached the log');

    const outbox = await cliJson(['email:outbox', '--to', owner.email], env);
    // Newest first: the reset link, then the sign-up's confirmation link.
    assert.equal(outbox.emails.length, 2, JSON.stringify(outbox));
    const [reset, confirmation] = outbox.emails;
    const signUpLinkToken = signUpToken(confirmation.body);
    assert.equal(reset.to, owner.email);
    assert.equal(reset.sent_at, null, 'nothing sends it');
    const resetToken = tokenIn(reset.body);
    assert.ok(resetToken, reset.body);
    const invite = (await cliJson(['email:outbox', '--to', invitee.toUpperCase()], env)).emails[0];
    const inviteToken = tokenIn(invite.body);
    assert.ok(inviteToken, invite.body);
    // Both, newest first, without a filter; --limit keeps the newest.
    const all = await cliJson(['email:outbox', '--limit', '1'], env);
    assert.equal(all.emails.length, 1);
    assert.equal(all.emails[0].id, reset.id);
    const text = await runCli(['email:outbox', '--to', owner.email], env);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, new RegExp(resetToken), 'the text output shows the link to the operator');
    const bad = await runCli(['email:outbox', '--limit', 'lots', '--json'], env);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stdout, /--limit/);

    for (const token of [signUpLinkToken, resetToken, inviteToken]) assert.ok(!product.output().includes(token), `token ${token} reached the log`);
    const confirmed = await visitor.post('/password-reset/confirm', { token: resetToken, password: 'a brand new password' });
    assert.equal(confirmed.status, 200, JSON.stringify(confirmed.body));
  });
});

describe('in demo mode without NOVA_SMTP_URL, the log says an email was queued, without its link', { skip: embeddedOnly, timeout: 180_000 }, () => {
  let product: RunningProduct;
  before(async () => {
    product = await startProduct({ NOVA_DEMO: '1', NOVA_COOKIE_SECURE: '0' });
  });
  after(async () => {
    await product?.stop();
  });

  it('logs the queued reset email (to, subject, how to read it) but never the token', async () => {
    const visitor = webClient(product.url);
    await visitor.start();
    assert.equal((await visitor.post('/password-reset/request', { email: 'demo@nova-sms.local' })).status, 200);
    await product.waitFor(/email[^\n]*queued[^\n]*demo@nova-sms\.local|demo@nova-sms\.local[^\n]*queued/i, 15_000);
    assert.doesNotMatch(product.output(), /token=/);
    const outbox = await cliJson(['email:outbox', '--to', 'demo@nova-sms.local'], { NOVA_DATA_DIR: product.dataDir });
    const token = tokenIn(outbox.emails[0].body);
    assert.ok(token);
    assert.ok(!product.output().includes(token), 'the token reached the log');
  });
});

describe('with an SMTP server, the outbox is sent (the only way an email leaves the database)', () => {
  it('sends each email once, and keeps the error of a failed attempt for the next pass', async () => {
    const server = await startTestServer();
    try {
      const to = freshEmail('smtp');
      const id = await server.services.email.enqueue({ to, subject: 'Hello', text: 'body' });
      const failing = { name: 'smtp', send: async () => Promise.reject(new Error('421 try later')) };
      assert.equal(await server.services.email.sendPending(failing), 0);
      let [row] = await server.services.email.outbox({ to, limit: 5 });
      assert.deepEqual([row.id, row.sentAt, row.attempts, row.lastError], [id, null, 1, '421 try later']);

      const delivered: OutgoingEmail[] = [];
      const smtp = { name: 'smtp', send: async (email: OutgoingEmail) => void delivered.push(email) };
      await server.services.email.sendPending(smtp);
      await server.services.email.sendPending(smtp);
      assert.deepEqual(
        delivered.filter((email) => email.to === to),
        [{ to, subject: 'Hello', text: 'body' }],
      );
      [row] = await server.services.email.outbox({ to, limit: 5 });
      assert.ok(row.sentAt);
      assert.equal(row.lastError, null);
    } finally {
      await server.close();
    }
  });
});
