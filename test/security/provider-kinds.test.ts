import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestServer, type TestServer } from '../support/test-server.ts';
import { uniqueName } from '../support/test-target.ts';

/**
 * Each supply endpoint takes only the credential of its own provider kind: the bearer secret of a
 * push ('http') provider on POST /api/v1/supply/sms, the protocol key of a SIM-bank agent
 * ('smshub') in the body of POST /api/v1/supply/smshub. Both are hashed in one column, so the
 * kind is what tells them apart.
 */
describe('supply endpoints accept only their own kind of provider credential', () => {
  let server: TestServer;
  let pushSecret: string;
  let pushNumber: string;
  let agentKey: string;

  before(async () => {
    server = await startTestServer();
    const push = await server.createProvider({ count: 1 });
    pushSecret = push.secret;
    pushNumber = push.numbers[0];
    const agent = await server.services.supply.createProvider({
      name: uniqueName('simbank'),
      kind: 'smshub',
      // Nothing listens there: the agent is never called in these tests.
      smshub: { agentUrl: 'http://127.0.0.1:9/', countries: { '6': 'usa' }, payoutPercent: 80 },
    });
    agentKey = agent.secret;
  });
  after(async () => {
    await server.close();
  });

  const sms = () => ({ to: pushNumber, from: 'Telegram', text: `Telegram code: ${Math.floor(10000 + Math.random() * 89999)}` });

  it('refuses an SMSHub protocol key as a push secret on POST /api/v1/supply/sms', async () => {
    const answer = await server.api(agentKey).post('/api/v1/supply/sms', sms());
    assert.equal(answer.status, 401, JSON.stringify(answer.body));
    assert.equal(answer.body.ok, false);
    assert.equal(answer.body.error.code, 'unauthorized');
  });

  it('still takes the push secret of an http provider there', async () => {
    const answer = await server.api(pushSecret).post('/api/v1/supply/sms', sms());
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    assert.equal(answer.body.ok, true);
  });

  it('refuses a push secret as a protocol key on POST /api/v1/supply/smshub, and takes the agent key', async () => {
    const body = { action: 'PUSH_SMS', smsId: 1, phone: Number(pushNumber.slice(1)), phoneFrom: 'Telegram', text: 'Telegram code: 12345' };
    const wrongKind = await server.api().post('/api/v1/supply/smshub', { ...body, key: pushSecret });
    assert.equal(wrongKind.status, 401, JSON.stringify(wrongKind.body));
    assert.equal(wrongKind.body.status, 'ERROR');
    const own = await server.api().post('/api/v1/supply/smshub', { ...body, key: agentKey });
    assert.equal(own.status, 200, JSON.stringify(own.body));
    assert.equal(own.body.status, 'SUCCESS');
  });
});
