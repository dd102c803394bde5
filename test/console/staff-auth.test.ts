import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { cliActor } from '../../src/modules/audit/audit.service.ts';
import { consoleClient, signInStaff, totpCode } from '../support/console-client.ts';
import { startTestServer, type TestServer } from '../support/test-server.ts';
import { uniqueName } from '../support/test-target.ts';
import { signUp } from '../web/web-client.ts';

describe('console staff sign-in', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
  });
  after(async () => {
    await server.close();
  });

  async function newStaff(role: 'admin' | 'support') {
    const email = `${uniqueName(role)}@nova.example`;
    const { password } = await server.services.staff.create(cliActor, { email, role });
    const client = consoleClient(server.url);
    await client.start();
    return { email, password, client };
  }

  it('an admin must enrol a TOTP second factor on first sign-in before any back-office route opens', async () => {
    const { email, password, client } = await newStaff('admin');
    const signIn = await client.post('/signin', { email, password });
    assert.equal(signIn.status, 200);
    assert.equal(signIn.body.data.stage, 'totp_enroll');
    assert.equal(signIn.body.data.staff.totp_enabled, false);

    const early = await client.get('/staff');
    assert.equal(early.status, 403);
    assert.match(early.body.error.message, /authenticator/);

    const enrol = await client.post('/totp/enroll');
    assert.equal(enrol.status, 200);
    const secret: string = enrol.body.data.secret;
    assert.match(enrol.body.data.otpauth_url, /^otpauth:\/\/totp\//);

    const wrong = await client.post('/totp/verify', { code: '000000' === (await totpCode(server, secret)) ? '111111' : '000000' });
    assert.equal(wrong.status, 401);
    assert.equal((await client.get('/staff')).status, 403);

    const right = await client.post('/totp/verify', { code: await totpCode(server, secret) });
    assert.equal(right.status, 200);
    assert.equal(right.body.data.stage, 'complete');
    assert.equal((await client.get('/staff')).status, 200);

    // Next sign-in: the enrolled factor is asked for, and a code of 3 minutes ago no longer works.
    await client.post('/signout');
    assert.equal((await client.get('/staff')).status, 403);
    const again = await client.post('/signin', { email, password });
    assert.equal(again.body.data.stage, 'totp');
    assert.equal((await client.post('/totp/enroll')).status, 409);
    const oldCode = await totpCode(server, secret);
    server.clock.advance(180);
    assert.equal((await client.post('/totp/verify', { code: oldCode })).status, 401);
    const verified = await client.post('/totp/verify', { code: await totpCode(server, secret) });
    assert.equal(verified.body.data.stage, 'complete');
    assert.equal((await client.get('/session')).body.data.staff.email, email);
  });

  it('a second-factor code opens one session only: the same code again, or in a race, is refused; the next one works', async () => {
    const admin = await signInStaff(server, 'admin');
    // Two more sessions at the password stage, a minute after the enrolment.
    server.clock.advance(60);
    const second = consoleClient(server.url);
    const third = consoleClient(server.url);
    for (const client of [second, third]) {
      await client.start();
      assert.equal((await client.post('/signin', { email: admin.email, password: admin.password })).body.data.stage, 'totp');
    }
    const code = await totpCode(server, admin.totpSecret!);
    // Both at once with one code (as someone who read it over a shoulder would race the owner): one wins.
    const raced = await Promise.all([second, third].map((client) => client.post('/totp/verify', { code })));
    assert.deepEqual(raced.map((answer) => answer.status).sort(), [200, 401], JSON.stringify(raced.map((answer) => answer.body)));
    const loser = raced[0]!.status === 401 ? second : third;
    const refused = raced.find((answer) => answer.status === 401)!;
    assert.equal(refused.body.error.code, 'unauthorized');
    assert.match(refused.body.error.message, /already used/);
    // The same code again, still within its 30 s: refused.
    assert.equal((await loser.post('/totp/verify', { code })).status, 401);
    assert.equal((await loser.get('/staff')).status, 403, 'that session stays at the second factor');
    // The next code opens it.
    server.clock.advance(30);
    const next = await loser.post('/totp/verify', { code: await totpCode(server, admin.totpSecret!) });
    assert.equal(next.status, 200, JSON.stringify(next.body));
    assert.equal(next.body.data.stage, 'complete');
  });

  it('support staff without a second factor sign in with the password and reach only the routes support may use', async () => {
    const { email, password, client } = await newStaff('support');
    const signIn = await client.post('/signin', { email, password });
    assert.equal(signIn.body.data.stage, 'complete');
    assert.equal((await client.get('/staff')).status, 200);
    const audit = await client.get('/audit');
    assert.equal(audit.status, 403);
    assert.match(audit.body.error.message, /admin/);
    const create = await client.post('/staff', { email: `${uniqueName('x')}@nova.example`, role: 'admin' });
    assert.equal(create.status, 403);
  });

  it('refuses a wrong password, then throttles repeated attempts with 429 and Retry-After', async () => {
    const { email, client } = await newStaff('support');
    const wrong = await client.post('/signin', { email, password: 'not the password' });
    assert.equal(wrong.status, 401);
    assert.equal(wrong.body.error.code, 'unauthorized');
    let throttled;
    // The burst limit or, on a slow machine where it refills between attempts, the 10-failures-per-account window.
    for (let i = 0; i < 14 && !throttled; i++) {
      const answer = await client.post('/signin', { email, password: 'not the password' });
      if (answer.status === 429) throttled = answer;
    }
    assert.ok(throttled, 'sign-in was never throttled');
    assert.equal(throttled.body.error.code, 'rate_limited');
    assert.ok(Number(throttled.headers.get('retry-after')) >= 1);
  });

  it('the console cookie is httpOnly and SameSite=Strict, expires with the session, and a POST without the CSRF header is refused', async () => {
    const { email, password, client } = await newStaff('support');
    const noCsrf = await client.post('/signin', { email, password }, { 'x-csrf-token': 'forged' });
    assert.equal(noCsrf.status, 403);
    const signIn = await client.post('/signin', { email, password });
    const line = signIn.headers.getSetCookie().find((c) => c.startsWith('nova_console='))!;
    assert.match(line, /HttpOnly/i);
    assert.match(line, /SameSite=Strict/i);
    assert.equal((await client.get('/staff')).status, 200);
    server.clock.advance(13 * 3600);
    assert.equal((await client.get('/staff')).status, 403);
    assert.equal((await client.get('/session')).body.data.staff, null);
  });

  it('a staff session is not a customer session and a customer session is not a staff session', async () => {
    const staff = await signInStaff(server, 'admin');
    const customer = await signUp(server);
    // The staff cookie on the customer website: not signed in there.
    const websiteBalance = await fetch(`${server.url}/api/web/balance`, {
      headers: { cookie: [...staff.client.cookies].map(([k, v]) => `${k}=${v}`).join('; ') },
    });
    assert.equal(websiteBalance.status, 401);
    // The customer's cookies on the console: forbidden.
    const consoleStaff = await fetch(`${server.url}/api/console/staff`, {
      headers: { cookie: [...customer.client.cookies].map(([k, v]) => `${k}=${v}`).join('; ') },
    });
    assert.equal(consoleStaff.status, 403);
    assert.equal(((await consoleStaff.json()) as { error: { code: string } }).error.code, 'forbidden');
  });

  it('an admin creates staff from the console; the generated password is shown once and the action is audited', async () => {
    const admin = await signInStaff(server, 'admin');
    const email = `${uniqueName('new')}@nova.example`;
    const created = await admin.client.post('/staff', { email, role: 'support' });
    assert.equal(created.status, 201);
    assert.equal(created.body.data.staff.email, email);
    assert.ok(created.body.data.password.length >= 12);
    const newcomer = consoleClient(server.url);
    await newcomer.start();
    assert.equal((await newcomer.post('/signin', { email, password: created.body.data.password })).body.data.stage, 'complete');

    const duplicate = await admin.client.post('/staff', { email, role: 'support' });
    assert.equal(duplicate.status, 409);
    const badRole = await admin.client.post('/staff', { email: `${uniqueName('r')}@nova.example`, role: 'owner' });
    assert.equal(badRole.status, 400);

    const audit = await admin.client.get(`/audit?action=staff.create&target_id=${created.body.data.staff.id}`);
    assert.equal(audit.status, 200);
    assert.equal(audit.body.data.entries.length, 1);
    const [entry] = audit.body.data.entries;
    assert.equal(entry.actor, `staff:${admin.email}`);
    assert.equal(entry.staff_id, admin.staffId);
    assert.deepEqual(entry.after, { email, role: 'support' });
    assert.equal(entry.before, null);
  });

  it('an admin changes a staff member: role, disabled (signed out at once), second factor reset; audited; never the last admin or oneself', async () => {
    const admin = await signInStaff(server, 'admin');
    const other = await signInStaff(server, 'admin');
    assert.equal((await other.client.get('/audit')).status, 200);

    // Demoted to support: their open session ends at once.
    const demoted = await admin.client.post(`/staff/${other.staffId}`, { role: 'support' });
    assert.equal(demoted.status, 200);
    assert.equal(demoted.body.data.staff.role, 'support');
    assert.equal((await other.client.get('/staff')).status, 403);

    // Second factor reset: the next sign-in enrols again.
    await admin.client.post(`/staff/${other.staffId}`, { reset_totp: true });
    const reenrol = await other.client.post('/signin', { email: other.email, password: other.password });
    assert.equal(reenrol.body.data.stage, 'complete', 'support staff without a factor need none');
    assert.equal((await other.client.get('/staff')).status, 200);
    assert.equal((await other.client.get('/audit')).status, 403, 'a support member: admin pages stay closed');

    // Disabled: signed out now and refused at sign-in; enabled again: back in.
    await admin.client.post(`/staff/${other.staffId}`, { disabled: true });
    assert.equal((await other.client.get('/staff')).status, 403);
    assert.equal((await other.client.post('/signin', { email: other.email, password: other.password })).status, 401);
    const listed = (await admin.client.get('/staff')).body.data.staff.find((s: { id: number }) => s.id === other.staffId);
    assert.equal(listed.disabled, true);
    await admin.client.post(`/staff/${other.staffId}`, { disabled: false });
    assert.equal((await other.client.post('/signin', { email: other.email, password: other.password })).status, 200);

    const audit = await admin.client.get(`/audit?action=staff.update&target_id=${other.staffId}`);
    const entries = audit.body.data.entries.reverse();
    assert.equal(entries.length, 4);
    assert.deepEqual(entries[0].before, { role: 'admin', disabled: false, totp_enabled: true });
    assert.deepEqual(entries[0].after, { role: 'support', disabled: false, totp_enabled: true });
    assert.deepEqual(entries[1].after, { role: 'support', disabled: false, totp_enabled: false });
    assert.deepEqual(entries[2].after, { role: 'support', disabled: true, totp_enabled: false });
    assert.equal(entries[0].actor, `staff:${admin.email}`);

    assert.equal((await admin.client.post(`/staff/${admin.staffId}`, { disabled: true })).status, 400);
    assert.equal((await admin.client.post(`/staff/${other.staffId}`, {})).status, 400);
    assert.equal((await admin.client.post('/staff/99999999', { disabled: true })).status, 404);
    assert.equal((await admin.client.post(`/staff/${other.staffId}`, { role: 'owner' })).status, 400);
  });

  it('the last active admin can be neither demoted nor disabled', async () => {
    const fresh = await startTestServer();
    try {
      const only = await signInStaff(fresh, 'admin');
      const second = await signInStaff(fresh, 'admin');
      assert.equal((await second.client.post(`/staff/${only.staffId}`, { disabled: true })).status, 200);
      // Now `second` is the only active admin; a third admin may not demote them.
      const third = await signInStaff(fresh, 'admin');
      assert.equal((await third.client.post(`/staff/${only.staffId}`, { disabled: false })).status, 200);
      await third.client.post(`/staff/${only.staffId}`, { role: 'support' });
      await third.client.post(`/staff/${second.staffId}`, { role: 'support' });
      const refused = await second.client.post(`/staff/${third.staffId}`, { disabled: true });
      assert.equal(refused.status, 403, 'support may not change staff');
      const last = await fresh.services.staff.update({ staffId: only.staffId, label: 'test' }, third.staffId, { disabled: true }).catch((e: Error) => e);
      assert.ok(last instanceof Error && /last active admin/.test(last.message));
    } finally {
      await fresh.close();
    }
  });

  it('the audit log filters by actor, action and time and pages newest first', async () => {
    const admin = await signInStaff(server, 'admin');
    for (let i = 0; i < 3; i++) await admin.client.post('/staff', { email: `${uniqueName('p')}@nova.example`, role: 'support' });
    const first = await admin.client.get(`/audit?staff_id=${admin.staffId}&limit=2`);
    assert.equal(first.body.data.entries.length, 2);
    assert.ok(first.body.data.entries[0].id > first.body.data.entries[1].id);
    const second = await admin.client.get(`/audit?staff_id=${admin.staffId}&limit=2&before_id=${first.body.data.next_before_id}`);
    assert.equal(second.body.data.entries.length, 1);
    assert.equal(second.body.data.next_before_id, null);
    const today = server.clock.now().toISOString().slice(0, 10);
    assert.equal((await admin.client.get(`/audit?staff_id=${admin.staffId}&from=${today}&to=${today}`)).body.data.entries.length, 3);
    assert.equal((await admin.client.get(`/audit?staff_id=${admin.staffId}&to=2000-01-01`)).body.data.entries.length, 0);
    const badTime = await admin.client.get('/audit?from=yesterday');
    assert.equal(badTime.status, 400);
    assert.match(badTime.body.error.message, /from/);
  });
});
