import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestServer, type TestServer } from '../../support/test-server.ts';

type Params = Record<string, string>;
interface Reply {
  status: number;
  type: string;
  text: string;
}

describe('sms-activate compatibility (/stubs/handler_api.php)', () => {
  let server: TestServer;
  let provider: { secret: string; numbers: string[] };

  before(async () => {
    server = await startTestServer();
    provider = await server.createProvider({ countryId: 6, count: 20 });
  });
  after(() => server.close());

  async function call(params: Params, method: 'GET' | 'POST' = 'GET'): Promise<Reply> {
    const url = `${server.url}/stubs/handler_api.php`;
    const response =
      method === 'GET'
        ? await fetch(`${url}?${new URLSearchParams(params)}`)
        : await fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(params).toString() });
    return { status: response.status, type: response.headers.get('content-type') ?? '', text: await response.text() };
  }

  /** Checks one request → exact reply row: text replies as text/plain, JSON replies as application/json, HTTP 200. */
  async function expectReply(params: Params, expected: string | object, method: 'GET' | 'POST' = 'GET') {
    const reply = await call(params, method);
    const label = `${method} ${JSON.stringify({ ...params, api_key: params.api_key ? '…' : undefined })}`;
    assert.equal(reply.status, 200, label);
    if (typeof expected === 'string') {
      assert.match(reply.type, /^text\/plain/, label);
      assert.equal(reply.text, expected, label);
    } else {
      assert.match(reply.type, /^application\/json/, label);
      assert.deepEqual(JSON.parse(reply.text), expected, label);
    }
    return reply.text;
  }

  const sms = (to: string, text: string) => server.api(provider.secret).post('/api/v1/supply/sms', { to, from: 'Telegram', text });

  it('answers every action and every refusal with the exact reply of the protocol', async () => {
    const { apiKey: key } = await server.createCompany('14.0912');
    const stranger = await server.createCompany('5');

    // Keys and actions.
    await expectReply({ action: 'getBalance' }, 'BAD_KEY');
    await expectReply({ api_key: 'nova_not_a_key', action: 'getBalance' }, 'BAD_KEY');
    await expectReply({ api_key: key }, 'BAD_ACTION');
    await expectReply({ api_key: key, action: 'getCoffee' }, 'BAD_ACTION');
    await expectReply({ api_key: key, action: 'getBalance' }, 'ACCESS_BALANCE:14.0912');

    // Buying: every refusal first, then a purchase.
    await expectReply({ api_key: key, action: 'getNumber', country: '6' }, 'BAD_SERVICE');
    await expectReply({ api_key: key, action: 'getNumber', service: 'zz', country: '6' }, 'BAD_SERVICE');
    await expectReply({ api_key: key, action: 'getNumber', service: 'tg', country: '99' }, 'NO_NUMBERS');
    await expectReply({ api_key: key, action: 'getNumber', service: 'tg', country: '16' }, 'NO_NUMBERS');
    await expectReply({ api_key: key, action: 'getNumber', service: 'tg', country: '6', maxPrice: '0.40' }, 'WRONG_MAX_PRICE:0.50');
    await expectReply({ api_key: key, action: 'getNumber', service: 'tg', country: '6', maxPrice: 'cheap' }, 'WRONG_MAX_PRICE:0.50');
    await expectReply({ api_key: key, action: 'getNumber', service: 'tg', country: '6', operator: 'vodafone' }, 'NO_NUMBERS');
    await expectReply({ api_key: key, action: 'getBalance' }, 'ACCESS_BALANCE:14.0912', 'GET');

    const bought = await call({ api_key: key, action: 'getNumber', service: 'tg', country: '6', maxPrice: '0.50', operator: 'any' });
    assert.match(bought.type, /^text\/plain/);
    assert.match(bought.text, /^ACCESS_NUMBER:\d+:1\d{10}$/);
    const [, firstId, firstNumber] = bought.text.split(':');
    assert.ok(provider.numbers.includes(`+${firstNumber}`), 'the number is sent without "+"');
    await expectReply({ api_key: key, action: 'getBalance' }, 'ACCESS_BALANCE:13.5912');
    const second = await call({ api_key: key, action: 'getNumber', service: 'tg', country: '6' });
    const [, secondId] = second.text.split(':');

    // The V2 purchase answers JSON with the protocol's field names.
    const v2 = await call({ api_key: key, action: 'getNumberV2', service: 'wa', country: '6' });
    assert.match(v2.type, /^application\/json/);
    const bodyV2 = JSON.parse(v2.text);
    const v1 = (await server.api(key).get(`/api/v1/activations/${bodyV2.activationId}`)).body.data.activation;
    assert.deepEqual(bodyV2, {
      activationId: v1.id,
      phoneNumber: v1.number.slice(1),
      activationCost: 0.75,
      countryCode: '6',
      canGetAnotherSms: true,
      activationTime: v1.created_at,
      activationOperator: v1.operator,
    });

    // Status of the first activation while it waits.
    await expectReply({ api_key: key, action: 'getStatus', id: firstId }, 'STATUS_WAIT_CODE');
    await expectReply({ api_key: key, action: 'getStatus', id: '99999999' }, 'NO_ACTIVATION');
    await expectReply({ api_key: key, action: 'getStatus', id: 'abc' }, 'NO_ACTIVATION');
    await expectReply({ api_key: stranger.apiKey, action: 'getStatus', id: firstId }, 'NO_ACTIVATION');
    await expectReply({ api_key: key, action: 'setStatus', id: firstId, status: '1' }, 'ACCESS_READY');
    await expectReply({ api_key: key, action: 'setStatus', id: firstId, status: '8' }, 'EARLY_CANCEL_DENIED');
    await expectReply({ api_key: key, action: 'setStatus', id: firstId, status: '6' }, 'BAD_STATUS');
    await expectReply({ api_key: key, action: 'setStatus', id: firstId, status: '5' }, 'BAD_STATUS');
    await expectReply({ api_key: key, action: 'setStatus', id: firstId }, 'BAD_STATUS');
    await expectReply({ api_key: key, action: 'setStatus', id: 'abc', status: '8' }, 'WRONG_ACTIVATION_ID');
    await expectReply({ api_key: key, action: 'setStatus', status: '8' }, 'WRONG_ACTIVATION_ID');
    await expectReply({ api_key: key, action: 'setStatus', id: '99999999', status: '8' }, 'NO_ACTIVATION');
    await expectReply({ api_key: stranger.apiKey, action: 'setStatus', id: firstId, status: '6' }, 'NO_ACTIVATION');

    // The code arrives, another one is asked for, then the activation completes.
    await sms(`+${firstNumber}`, 'Telegram code: 40321');
    await expectReply({ api_key: key, action: 'getStatus', id: firstId }, 'STATUS_OK:40321');
    await expectReply({ api_key: key, action: 'setStatus', id: firstId, status: '8' }, 'BAD_STATUS');
    await expectReply({ api_key: key, action: 'setStatus', id: firstId, status: '3' }, 'ACCESS_RETRY_GET');
    await sms(`+${firstNumber}`, 'Telegram code: 77110');
    await expectReply({ api_key: key, action: 'getStatus', id: firstId }, 'STATUS_OK:77110');
    await expectReply({ api_key: key, action: 'setStatus', id: firstId, status: '6' }, 'ACCESS_ACTIVATION');
    await expectReply({ api_key: key, action: 'getStatus', id: firstId }, 'STATUS_OK:77110');
    await expectReply({ api_key: key, action: 'setStatus', id: firstId, status: '6' }, 'BAD_STATUS');
    await expectReply({ api_key: key, action: 'setStatus', id: firstId, status: '1' }, 'BAD_STATUS');

    // The open ones, as getActiveActivations lists them (newest first).
    await expectReply({ api_key: key, action: 'getActiveActivations' }, {
      status: 'success',
      activeActivations: [
        {
          activationId: String(v1.id), serviceCode: 'wa', phoneNumber: v1.number.slice(1), activationCost: 0.75, activationStatus: '4',
          smsCode: null, smsText: null, activationTime: v1.created_at, discount: '0.00', repeated: '0', countryCode: '6',
          countryName: 'United States', canGetAnotherSms: '1',
        },
        await activeRow(key, Number(secondId)),
      ],
    });

    // Cancel after the 3 minutes; refunded.
    server.clock.advance(180);
    await expectReply({ api_key: key, action: 'setStatus', id: secondId, status: '8' }, 'ACCESS_CANCEL');
    await expectReply({ api_key: key, action: 'getStatus', id: secondId }, 'STATUS_CANCEL');
    await expectReply({ api_key: key, action: 'setStatus', id: secondId, status: '8' }, 'BAD_STATUS');
    await expectReply({ api_key: key, action: 'getBalance' }, 'ACCESS_BALANCE:12.8412');

    // Catalog actions.
    const stock = async (service: string, country: number) =>
      (await server.api(key).get(`/api/v1/prices?service=${service}&country=${country}`)).body.data.available;
    await expectReply({ api_key: key, action: 'getPrices', service: 'tg', country: '6' }, { '6': { tg: { cost: 0.5, count: await stock('tg', 6) } } });
    await expectReply({ api_key: key, action: 'getPrices' }, {
      '6': { tg: { cost: 0.5, count: await stock('tg', 6) }, wa: { cost: 0.75, count: await stock('wa', 6) } },
      '16': { tg: { cost: 0.6, count: 0 } },
    });
    await expectReply({ api_key: key, action: 'getPrices', service: 'zz' }, 'BAD_SERVICE');
    await expectReply({ api_key: key, action: 'getPrices', country: '99' }, {});
    await expectReply({ api_key: key, action: 'getCountries' }, {
      '6': { id: 6, rus: 'United States', eng: 'United States', chn: 'United States', visible: 1, retry: 1, rent: 0, multiService: 0 },
      '16': { id: 16, rus: 'United Kingdom', eng: 'United Kingdom', chn: 'United Kingdom', visible: 1, retry: 1, rent: 0, multiService: 0 },
    });
    await expectReply({ api_key: key, action: 'getServicesList' }, {
      status: 'success',
      services: [
        { code: 'tg', name: 'Telegram' },
        { code: 'wa', name: 'WhatsApp' },
      ],
    });

    // A company with no open activations, and one without money.
    await expectReply({ api_key: stranger.apiKey, action: 'getActiveActivations' }, { status: 'error', error: 'NO_ACTIVATIONS' });
    const poor = await server.createCompany('0.2');
    await expectReply({ api_key: poor.apiKey, action: 'getNumber', service: 'tg', country: '6' }, 'NO_BALANCE');
    await expectReply({ api_key: poor.apiKey, action: 'getNumberV2', service: 'tg', country: '6' }, 'NO_BALANCE');
  });

  async function activeRow(key: string, id: number) {
    const a = (await server.api(key).get(`/api/v1/activations/${id}`)).body.data.activation;
    return {
      activationId: String(a.id), serviceCode: 'tg', phoneNumber: a.number.slice(1), activationCost: 0.5, activationStatus: '4',
      smsCode: null, smsText: null, activationTime: a.created_at, discount: '0.00', repeated: '0', countryCode: '6',
      countryName: 'United States', canGetAnotherSms: '1',
    };
  }

  it('takes POSTed form bodies as well as query strings', async () => {
    const { apiKey: key } = await server.createCompany('3');
    await expectReply({ api_key: key, action: 'getBalance' }, 'ACCESS_BALANCE:3.00', 'POST');
    await expectReply({ action: 'getBalance' }, 'BAD_KEY', 'POST');
    const bought = await call({ api_key: key, action: 'getNumber', service: 'tg', country: '6' }, 'POST');
    assert.match(bought.text, /^ACCESS_NUMBER:\d+:1\d{10}$/);
    const [, id, number] = bought.text.split(':');
    await sms(`+${number}`, 'Telegram code: 66012');
    await expectReply({ api_key: key, action: 'getStatus', id }, 'STATUS_OK:66012', 'POST');
    // Key in the query string, the rest in the form.
    const mixed = await fetch(`${server.url}/stubs/handler_api.php?api_key=${key}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `action=setStatus&id=${id}&status=6`,
    });
    assert.equal(await mixed.text(), 'ACCESS_ACTIVATION');
    assert.equal((await server.api(key).get(`/api/v1/activations/${id}`)).body.data.activation.status, 'completed');
  });

  it('counts its calls against the same per-key rate limit as API v1', async () => {
    // A second instance on the same database with a limit of 1 request per second (plus 1 in a
    // burst), reachable even on a slow machine.
    const limited = await startTestServer({ database: server.database, clock: server.clock, env: { NOVA_RATE_LIMIT_RPS: '1', NOVA_RATE_LIMIT_BURST: '1' } });
    try {
      const { apiKey: key } = await limited.createCompany('1');
      const url = `${limited.url}/stubs/handler_api.php?api_key=${key}&action=getBalance`;
      const replies = await Promise.all(Array.from({ length: 6 }, async () => {
        const response = await fetch(url);
        return { status: response.status, text: await response.text(), retryAfter: response.headers.get('retry-after') };
      }));
      assert.ok(replies.some((r) => r.status === 200 && r.text === 'ACCESS_BALANCE:1.00'));
      const refused = replies.filter((r) => r.status === 429);
      assert.ok(refused.length > 0, 'calls over the limit are refused');
      assert.equal(refused[0].text, 'TOO_MANY_REQUESTS');
      assert.ok(Number(refused[0].retryAfter) >= 1);
      const v1 = await limited.api(key).get('/api/v1/balance');
      assert.equal(v1.status, 429, 'the API v1 calls of that key share the limit');
      assert.equal(v1.body.error.code, 'rate_limited');
    } finally {
      await limited.close();
    }
  });
});
