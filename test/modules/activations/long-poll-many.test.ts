import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { performance } from 'node:perf_hooks';
import { until, watchLongPolls } from '../../support/subscriptions.ts';
import { startTestServer, type TestServer } from '../../support/test-server.ts';

// Hundreds keep the file quick on a shared 2-core machine; `npm run bench` measures 1,000 and
// reports the figures (memory, latency). Here only: each waiter is answered, promptly, with its code.
const waiters = 300;
// Generous for a shared CI machine: the point is "promptly", not a figure.
const answerBoundMs = 1500;

describe(`${waiters} concurrent long-polls on one instance`, () => {
  let server: TestServer;

  before(async () => {
    server = await startTestServer();
  });
  after(() => server.close());

  it('answers each one promptly after its own SMS, with its code, and wakes no other', async () => {
    const { secret, numbers } = await server.createProvider({ countryId: 6, count: waiters });
    const companies = await Promise.all(Array.from({ length: 3 }, () => server.createCompany('100')));
    const bought: { id: number; number: string; apiKey: string }[] = [];
    for (let i = 0; i < waiters; i++) {
      const { apiKey } = companies[i % companies.length];
      const response = await server.api(apiKey).post('/api/v1/activations', { service_code: 'tg', country_id: 6 });
      assert.equal(response.status, 201, JSON.stringify(response.body));
      bought.push({ id: response.body.data.activation.id, number: response.body.data.activation.number, apiKey });
    }
    assert.deepEqual(new Set(bought.map((b) => b.number)), new Set(numbers));

    const answeredAt = new Map<number, number>();
    const polls = bought.map(({ id, apiKey }) =>
      // fetch's default dispatcher opens a connection per request in flight: each waiter its own, as separate bots hold them.
      fetch(`${server.url}/api/v1/activations/${id}?wait=60`, { headers: { authorization: `Bearer ${apiKey}` } }).then(
        async (response) => {
          answeredAt.set(id, performance.now());
          return { status: response.status, body: (await response.json()) as { data: { activation: { id: number; code: string | null } } } };
        },
      ),
    );
    const waiting = watchLongPolls(server);
    await until(() => waiting() === waiters, `${waiters} long-polls to wait`, 30_000);

    // SMS in small batches; each answer's delay is measured from its own SMS push's answer (an
    // answer may even come first: the waiter wakes at commit, before the push request answers).
    const delays: number[] = [];
    const batch = 10;
    for (let from = 0; from < bought.length; from += batch) {
      const part = bought.slice(from, from + batch);
      await Promise.all(
        part.map(async ({ id, number }, j) => {
          const pushed = await server.api(secret).post('/api/v1/supply/sms', { to: number, from: 'Telegram', text: `Telegram code: ${100000 + from + j}` });
          const ingestedAt = performance.now();
          assert.equal(pushed.body.data.activation_id, id);
          await until(() => answeredAt.has(id), `the long-poll of activation ${id} to answer`, 5000);
          delays.push(answeredAt.get(id)! - ingestedAt);
        }),
      );
      // Only the waiters of these SMS were woken: the others still wait.
      assert.equal(answeredAt.size, from + part.length);
    }

    const answers = await Promise.all(polls);
    for (const [i, answer] of answers.entries()) {
      assert.equal(answer.status, 200);
      assert.equal(answer.body.data.activation.code, String(100000 + i));
    }
    await until(() => waiting() === 0, 'every watch to be dropped');
    delays.sort((a, b) => a - b);
    const p99 = delays[Math.floor(delays.length * 0.99)];
    assert.ok(delays[delays.length - 1] < answerBoundMs, `slowest answer ${Math.round(delays[delays.length - 1])} ms after its SMS`);
    console.log(`# ${waiters} long-polls: answer after its SMS median ${delays[delays.length >> 1].toFixed(1)} ms, p99 ${p99.toFixed(1)} ms, max ${delays[delays.length - 1].toFixed(1)} ms`);
  });
});
