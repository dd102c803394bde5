import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { desc, eq } from 'drizzle-orm';
import { cliActor } from '../../src/modules/audit/audit.service.ts';
import { emailOutbox } from '../../src/modules/email/email.tables.ts';
import { consoleClient } from '../support/console-client.ts';
import type { ApiResponse, TestServer } from '../support/test-server.ts';
import { startTestServer } from '../support/test-server.ts';
import { uniqueName } from '../support/test-target.ts';
import { freshEmail, outboxReader, signUpToken, type WebClient, webClient } from '../web/web-client.ts';

// Small limits (the product defaults are in the README). rate-limiter-flexible counts in real
// time, not on the test clock: one server has a long window, so slow password hashes on a busy
// machine cannot let it lapse mid-test; the other a short one, to be waited out for real.
const longWindow = { NOVA_SIGNIN_WINDOW_S: '600', NOVA_SIGNIN_FAILURES_PER_ACCOUNT: '3', NOVA_SIGNIN_FAILURES_PER_IP: '3', NOVA_NEW_ACCOUNTS_PER_IP: '3' };
const failuresPerIp = 3;
const newAccountsPerIp = 3;
const shortWindowSeconds = 4;
const shortWindow = { NOVA_SIGNIN_WINDOW_S: String(shortWindowSeconds), NOVA_SIGNIN_FAILURES_PER_ACCOUNT: '2', NOVA_SIGNIN_FAILURES_PER_IP: '100' };
const failuresPerAccount = 2;

let ipCounter = 0;
/** A client address of its own (the server trusts X-Forwarded-For, as behind a proxy). */
const freshIp = () => `10.${Math.floor(++ipCounter / 250) % 250}.${ipCounter % 250}.${process.pid % 250}`;

/** A website client whose every request comes from `ip`. */
async function clientFrom(server: TestServer, ip: string, make = webClient): Promise<{ client: WebClient; post(path: string, body?: unknown): Promise<ApiResponse> }> {
  const client = make(server.url);
  await client.start();
  return { client, post: (path, body) => client.post(path, body, { 'x-forwarded-for': ip }) };
}

function assertRateLimited(answer: ApiResponse, context: string) {
  assert.equal(answer.status, 429, `${context}: expected 429, got ${answer.status} ${JSON.stringify(answer.body)}`);
  assert.equal(answer.body.ok, false);
  assert.equal(answer.body.error.code, 'rate_limited');
  assert.ok(answer.body.error.message.length > 0);
  assert.ok(Number(answer.headers.get('retry-after')) >= 1, `${context}: Retry-After is ${answer.headers.get('retry-after')}`);
}

async function signUpFrom(server: TestServer, ip: string) {
  const { client, post } = await clientFrom(server, ip);
  const email = freshEmail('owner');
  const password = 'correct horse battery';
  const answer = await post('/signup', { email, password });
  assert.equal(answer.status, 200, JSON.stringify(answer.body));
  // The account is created from the emailed link.
  const confirmed = await post('/signup/confirm', { token: signUpToken(await outboxReader(server.database)(email)) });
  assert.equal(confirmed.status, 200, JSON.stringify(confirmed.body));
  return { client, email, password };
}

describe('sign-in, sign-up and invite throttling per address', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ env: { NOVA_TRUST_PROXY: '1', ...longWindow } });
  });
  after(async () => {
    await server.close();
  });
  const newOwnerFrom = (ip: string) => signUpFrom(server, ip);

  it('one address trying many emails is stopped after the failures per address, while other addresses and correct passwords are not', async () => {
    const attacker = await clientFrom(server, freshIp());
    const { email, password } = await newOwnerFrom(freshIp());
    // A correct password does not use up the address's allowance.
    assert.equal((await attacker.post('/signin', { email, password })).status, 200);
    for (let i = 0; i < failuresPerIp; i++) {
      const answer = await attacker.post('/signin', { email: freshEmail(`guess${i}`), password: 'not the password' });
      assert.equal(answer.status, 401, `failure ${i + 1}: ${JSON.stringify(answer.body)}`);
    }
    assertRateLimited(await attacker.post('/signin', { email: freshEmail('guess-more'), password: 'not the password' }), 'next email from the same address');
    assertRateLimited(await attacker.post('/signin', { email, password }), 'even a right password from that address within the window');
    const other = await clientFrom(server, freshIp());
    assert.equal((await other.post('/signin', { email: freshEmail('elsewhere'), password: 'not the password' })).status, 401);
    assert.equal((await other.post('/signin', { email, password })).status, 200);
  });

  it('staff sign-in from one address is stopped after the failures per address, across emails', async () => {
    const scanner = await clientFrom(server, freshIp(), consoleClient);
    for (let i = 0; i < failuresPerIp; i++) {
      assert.equal((await scanner.post('/signin', { email: `${uniqueName('nobody')}@nova.example`, password: 'not the password' })).status, 401);
    }
    assertRateLimited(await scanner.post('/signin', { email: `${uniqueName('nobody')}@nova.example`, password: 'not the password' }), 'console, per address');
    const other = await clientFrom(server, freshIp(), consoleClient);
    assert.equal((await other.post('/signin', { email: `${uniqueName('nobody')}@nova.example`, password: 'not the password' })).status, 401);
  });

  it('sign-ups from one address are limited, with 429 and Retry-After; another address still signs up', async () => {
    const ip = freshIp();
    for (let i = 0; i < newAccountsPerIp; i++) await newOwnerFrom(ip);
    const { post } = await clientFrom(server, ip);
    assertRateLimited(await post('/signup', { email: freshEmail('one-too-many'), password: 'correct horse battery' }), 'sign-up over the limit');
    await newOwnerFrom(freshIp());
  });

  it('invitation acceptances count towards the same limit of new accounts per address', async () => {
    const { client: owner } = await newOwnerFrom(freshIp());
    const tokens: string[] = [];
    for (let i = 0; i <= newAccountsPerIp; i++) {
      const invited = await owner.post('/team/invites', { email: freshEmail('invitee'), role: 'member' });
      assert.equal(invited.status, 200, JSON.stringify(invited.body));
      tokens.push(new URL(invited.body.data.invite_url).searchParams.get('token')!);
    }
    const ip = freshIp();
    for (const token of tokens.slice(0, newAccountsPerIp)) {
      const { post } = await clientFrom(server, ip);
      assert.equal((await post('/invites/accept', { token, password: 'member password 1' })).status, 200);
    }
    const { post } = await clientFrom(server, ip);
    assertRateLimited(await post('/invites/accept', { token: tokens[newAccountsPerIp], password: 'member password 1' }), 'acceptance over the limit');
    const elsewhere = await clientFrom(server, freshIp());
    assert.equal((await elsewhere.post('/invites/accept', { token: tokens[newAccountsPerIp], password: 'member password 1' })).status, 200);
  });

});

describe('sign-in throttling per account, across addresses', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ env: { NOVA_TRUST_PROXY: '1', ...shortWindow } });
  });
  after(async () => {
    await server.close();
  });

  it('one account attacked from many addresses is slowed down for one window only; its owner signs in from a fresh address once it has passed', async () => {
    const { email, password } = await signUpFrom(server, freshIp());
    const attackers = await Promise.all(Array.from({ length: failuresPerAccount }, () => clientFrom(server, freshIp())));
    const guesses = await Promise.all(attackers.map((attacker, i) => attacker.post('/signin', { email, password: `guess number ${i}` })));
    assert.deepEqual(guesses.map((g) => g.status), Array(failuresPerAccount).fill(401));
    const lastAttacker = await clientFrom(server, freshIp());
    assertRateLimited(await lastAttacker.post('/signin', { email, password: 'guess number 99' }), 'a further guess from yet another address');
    // Within the window the right password is refused too: otherwise the limit would let a
    // distributed guesser through on the guess that happens to be right.
    const owner = await clientFrom(server, freshIp());
    const during = await owner.post('/signin', { email, password });
    assertRateLimited(during, 'the owner during the window');
    const retryAfter = Number(during.headers.get('retry-after'));
    assert.ok(retryAfter <= shortWindowSeconds, `Retry-After ${retryAfter} s is within the ${shortWindowSeconds} s window`);
    // The attacker stops; after the documented window the owner gets in (no lasting lockout).
    await sleep(retryAfter * 1000 + 300);
    const later = await owner.post('/signin', { email, password });
    assert.equal(later.status, 200, JSON.stringify(later.body));
    assert.equal(later.body.data.account.email, email);
  });

  it('a staff account attacked from many addresses is slowed down for one window only', async () => {
    const staffEmail = `${uniqueName('support')}@nova.example`;
    const { password } = await server.services.staff.create(cliActor, { email: staffEmail, role: 'support' });
    const attackers = await Promise.all(Array.from({ length: failuresPerAccount }, () => clientFrom(server, freshIp(), consoleClient)));
    const guesses = await Promise.all(attackers.map((attacker, i) => attacker.post('/signin', { email: staffEmail, password: `guess ${i}` })));
    assert.deepEqual(guesses.map((g) => g.status), Array(failuresPerAccount).fill(401));
    const staffMember = await clientFrom(server, freshIp(), consoleClient);
    const during = await staffMember.post('/signin', { email: staffEmail, password });
    assertRateLimited(during, 'console, per staff account');
    await sleep(Number(during.headers.get('retry-after')) * 1000 + 300);
    assert.equal((await staffMember.post('/signin', { email: staffEmail, password })).status, 200);
  });
});

describe('the password hash queue', () => {
  let server: TestServer;
  before(async () => {
    // Real-cost hashes (the suite's default is cheap): the queue must actually fill.
    server = await startTestServer({ env: { NOVA_TRUST_PROXY: '1', NOVA_PASSWORD_HASH_CONCURRENCY: '1', NOVA_PASSWORD_HASH_QUEUE: '1', NOVA_PASSWORD_HASH_COST: '17' } });
  });
  after(async () => {
    await server.close();
  });

  it('password checks beyond the queue are answered 429 at once instead of piling up, and the server answers normally afterwards', async () => {
    const clients = await Promise.all(Array.from({ length: 8 }, () => clientFrom(server, freshIp())));
    const answers = await Promise.all(clients.map(({ post }) => post('/signin', { email: freshEmail('storm'), password: 'not the password' })));
    const statuses = answers.map((a) => a.status);
    assert.ok(statuses.every((s) => s === 401 || s === 429), statuses.join(','));
    assert.ok(statuses.includes(401), `some checks ran: ${statuses.join(',')}`);
    const limited = answers.filter((a) => a.status === 429);
    assert.ok(limited.length >= 8 - 3, `at most one running and one waiting (plus one finishing), got ${statuses.join(',')}`);
    assertRateLimited(limited[0], 'hash queue full');

    const { email, password } = await signUpFrom(server, freshIp());
    const calm = await clientFrom(server, freshIp());
    assert.equal((await calm.post('/signin', { email, password })).status, 200);
  });

  it('a password reset refused because the queue is full leaves its link working for the retry', async () => {
    const { email } = await signUpFrom(server, freshIp());
    const owner = await clientFrom(server, freshIp());
    assert.equal((await owner.post('/password-reset/request', { email })).status, 200);
    const rows = await server.database.db.select().from(emailOutbox).where(eq(emailOutbox.toAddress, email)).orderBy(desc(emailOutbox.id));
    const token = /reset-password\?token=(\S+)/.exec(rows[0].body)![1];

    // Fill the queue (one hash running, one waiting), then ask for the reset while it is full.
    const storm = Promise.all(
      Array.from({ length: 4 }, async () => (await clientFrom(server, freshIp())).post('/signin', { email: freshEmail('storm'), password: 'not the password' })),
    );
    await sleep(50);
    const visitor = await clientFrom(server, freshIp());
    const refused = await visitor.post('/password-reset/confirm', { token, password: 'a brand new password' });
    assertRateLimited(refused, 'reset while the queue is full');
    await storm;
    const retried = await visitor.post('/password-reset/confirm', { token, password: 'a brand new password' });
    assert.equal(retried.status, 200, JSON.stringify(retried.body));
    assert.equal(retried.body.data.account.email, email);
  });
});
