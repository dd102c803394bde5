import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { asc, eq } from 'drizzle-orm';
import { runOperatorCommand } from '../../src/cli/control-socket.ts';
import { loadConfig } from '../../src/config.ts';
import { retentionSettings } from '../../src/jobs/retention-purge.job.ts';
import { webhookReceipts } from '../../src/modules/supply/supply.tables.ts';
import { webhookDeliveries } from '../../src/modules/webhooks/webhooks.tables.ts';
import { type FakeGatewayPhone, registerGatewayWebhook, startFakeGatewayPhone } from '../support/fakes/android-sms-gateway.ts';
import { startTestServer, type TestServer } from '../support/test-server.ts';
import { uniqueName } from '../support/test-target.ts';

const day = 24 * 3600;
// The product defaults: NOVA_GATEWAY_MAX_SKEW_S 300, so replay records are kept 600 s; receipts
// and the webhook delivery log 30 days.
const skew = 300;

/**
 * Records kept only to refuse replays and drop retries, and the customers' webhook delivery log,
 * are deleted by the retention job once they are of no more use, measured on the injected clock.
 */
describe('the retention job', () => {
  let server: TestServer;
  let phone: FakeGatewayPhone;
  let providerId: number;

  before(async () => {
    server = await startTestServer();
    const created = (await runOperatorCommand(server.services, 'provider:create', ['--kind', 'android-gateway', '--name', uniqueName('pixel')])).output!.json as {
      provider_id: number;
      signing_key: string;
      webhook_path: string;
    };
    providerId = created.provider_id;
    phone = await startFakeGatewayPhone({ signingKey: created.signing_key, nowSeconds: () => Math.floor(server.clock.now().getTime() / 1000) });
    await registerGatewayWebhook(phone, `${server.url}${created.webhook_path}`);
  });
  after(async () => {
    await phone?.close();
    await server?.close();
  });

  const receiptKeys = async () =>
    (await server.database.db.select().from(webhookReceipts).where(eq(webhookReceipts.providerId, providerId)).orderBy(asc(webhookReceipts.receivedAt), asc(webhookReceipts.receiptKey))).map(
      (row) => row.receiptKey.replace(/^sig:.*/, 'sig'),
    );
  const purge = () => server.jobs.retentionPurge.runOnce();
  const nowSeconds = () => Math.floor(server.clock.now().getTime() / 1000);

  it('keeps a gateway replay record as long as a replay could pass the clock check, then deletes it; event ids stay 30 days', async () => {
    // Signed by a phone whose clock runs almost the allowed 5 minutes ahead: accepted.
    const [original] = await phone.receiveSms({ message: 'Telegram code: 70001', phoneNumber: 'Telegram', eventId: 'evt-retention-1' }, { timestamp: nowSeconds() + skew - 1 });
    assert.equal(original!.status, 200, JSON.stringify(original!.body));
    assert.deepEqual(await receiptKeys(), ['event:evt-retention-1', 'sig']);

    // More than the skew later, the replayed request still passes the timestamp check (it is
    // only 6 s from our clock now): the replay record must still be there, and it is.
    server.clock.advance(skew + 5);
    await purge();
    const [replay] = await phone.sendRaw('sms:received', original!.rawBody, { headers: original!.headers });
    assert.deepEqual([replay!.status, replay!.body.error.code], [409, 'conflict'], 'a replay within the window is refused');

    const [later] = await phone.receiveSms({ message: 'Telegram code: 70002', phoneNumber: 'Telegram', eventId: 'evt-retention-2' });
    assert.equal(later!.status, 200);

    // Twice the skew after it was received, no replay of the first request can pass the clock
    // check any more: its record goes; the second request's stays, and so do both event ids.
    server.clock.advance(skew);
    const deleted = await purge();
    assert.equal(deleted, 1);
    assert.deepEqual(await receiptKeys(), ['event:evt-retention-1', 'event:evt-retention-2', 'sig']);
    const [tooLate] = await phone.sendRaw('sms:received', original!.rawBody, { headers: original!.headers });
    assert.deepEqual([tooLate!.status, tooLate!.body.error.code], [401, 'unauthorized'], 'the clock check refuses it now');

    // A retry of an event (same id, fresh signature) within 30 days is still answered as a duplicate.
    server.clock.advance(29 * day);
    await purge();
    const [retry] = await phone.receiveSms({ message: 'Telegram code: 70001', phoneNumber: 'Telegram', eventId: 'evt-retention-1' });
    assert.equal(retry!.body.data.duplicate, true);

    server.clock.advance(day + 1);
    await purge();
    assert.deepEqual(await receiptKeys(), [], 'every receipt is older than 30 days');
  });

  it('deletes finished webhook deliveries older than 30 days and keeps recent and pending ones', async () => {
    const { apiKey, companyId } = await server.createCompany('1');
    const created = await server.api(apiKey).post('/api/v1/webhooks', { url: 'https://example.com/nova', events: ['balance.low'] });
    assert.equal(created.status, 201);
    const endpointId = created.body.data.webhook.id as number;
    const now = server.clock.now().getTime();
    const rows = [
      { name: 'delivered 31 days ago', status: 'delivered' as const, ageDays: 31 },
      { name: 'failed 31 days ago', status: 'failed' as const, ageDays: 31 },
      { name: 'delivered 29 days ago', status: 'delivered' as const, ageDays: 29 },
      { name: 'pending', status: 'pending' as const, ageDays: 31 },
    ];
    for (const row of rows) {
      await server.database.db.insert(webhookDeliveries).values({
        endpointId,
        companyId,
        eventId: `evt_${row.name.replaceAll(' ', '_')}`,
        eventType: 'balance.low',
        payload: '{}',
        status: row.status,
        attempts: 1,
        createdAt: new Date(now - row.ageDays * day * 1000),
        nextAttemptAt: row.status === 'pending' ? new Date(now + 3600_000) : null,
      });
    }
    await purge();
    const left = await server.database.db.select().from(webhookDeliveries).where(eq(webhookDeliveries.endpointId, endpointId)).orderBy(asc(webhookDeliveries.id));
    assert.deepEqual(
      left.map((row) => row.eventId),
      ['evt_delivered_29_days_ago', 'evt_pending'],
    );
    const log = (await server.api(apiKey).get(`/api/v1/webhooks/${endpointId}/deliveries`)).body.data.deliveries;
    assert.equal(log.length, 2, 'the delivery log shows what is left');
  });

  it('reads its retention from the configuration: 30 days by default, replay records twice the allowed clock skew', () => {
    assert.deepEqual(retentionSettings(loadConfig({})), { webhookLogDays: 30, receiptDays: 30, replaySeconds: 600 });
    assert.deepEqual(
      retentionSettings(loadConfig({ NOVA_WEBHOOK_LOG_RETENTION_DAYS: '7', NOVA_RECEIPT_RETENTION_DAYS: '90', NOVA_GATEWAY_MAX_SKEW_S: '60' })),
      { webhookLogDays: 7, receiptDays: 90, replaySeconds: 120 },
    );
    assert.throws(() => loadConfig({ NOVA_RECEIPT_RETENTION_DAYS: '0' }), /NOVA_RECEIPT_RETENTION_DAYS/);
  });
});
