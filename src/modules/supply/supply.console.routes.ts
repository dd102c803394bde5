import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { ok } from '../../http/envelope.ts';
import { carriesSecret } from '../../http/no-store.ts';
import { AppError } from '../../http/errors.ts';
import { formatApiTime } from '../../time-format.ts';
import { toUsdNumber, usdNumberToUnits } from '../billing/money.ts';
import { actorOf, consoleSessionCookie } from '../console/staff-auth.ts';
import type { StaffService } from '../staff/staff.service.ts';
import { type EventStream, openEventStream } from '../web/event-stream.ts';
import { type NumberHistory, type NumberWithProvider, type SmsWithProvider, type SupplyConsoleService, creatableKinds, maxImportRows } from './supply-console.service.ts';
import type { ProviderHealth, SupplyService } from './supply.service.ts';

/** Pub/sub channel of SMS as the console shows them (one JSON `smsJson` per message). */
export const supplySmsChannel = 'supply-sms';

const hide = { hide: true } as const;
const Id = Type.Integer({ minimum: 1, maximum: 2_147_483_647 });
const IdParams = Type.Object({ id: Id });
const Usd = Type.Number({ minimum: 0, maximum: 1_000_000 });
const Reason = Type.String({ maxLength: 500 });

const CreateProviderBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 100, pattern: '\\S' }),
    kind: Type.Union(creatableKinds.map((k) => Type.Literal(k))),
    cost_per_number: Type.Optional(Usd),
    signing_key: Type.Optional(Type.String({ minLength: 8, maxLength: 200 })),
    url: Type.Optional(Type.String({ maxLength: 2000 })),
    countries: Type.Optional(Type.Record(Type.String(), Type.String({ maxLength: 64 }))),
    key: Type.Optional(Type.String({ minLength: 8, maxLength: 200 })),
    payout_percent: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 100 })),
    api_key: Type.Optional(Type.String({ minLength: 1, maxLength: 500 })),
    markup_percent: Type.Optional(Type.Number({ minimum: 0, maximum: 1000 })),
    rentals: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);
const SettingsBody = Type.Object({ cost_per_number: Usd }, { additionalProperties: false });
const ReasonBody = Type.Object({ reason: Type.Optional(Reason) }, { additionalProperties: false });
// ~60 bytes a row: 10 000 rows fit well within the body limit.
const ImportBody = Type.Object({ csv: Type.String({ minLength: 1, maxLength: maxImportRows * 300 }) }, { additionalProperties: false });
const NumbersQuery = Type.Object(
  {
    provider_id: Type.Optional(Id),
    country_id: Type.Optional(Id),
    q: Type.Optional(Type.String({ maxLength: 32 })),
    state: Type.Optional(Type.Union([Type.Literal('active'), Type.Literal('busy'), Type.Literal('disabled'), Type.Literal('retired')])),
    limit: Type.Integer({ minimum: 1, maximum: 200, default: 50 }),
    offset: Type.Integer({ minimum: 0, maximum: 10_000_000, default: 0 }),
  },
  { additionalProperties: false },
);
const SmsQuery = Type.Object(
  {
    unmatched: Type.Optional(Type.Boolean()),
    provider_id: Type.Optional(Id),
    before_id: Type.Optional(Type.Integer({ minimum: 1 })),
    limit: Type.Integer({ minimum: 1, maximum: 200, default: 50 }),
  },
  { additionalProperties: false },
);
const AttachBody = Type.Object({ activation_id: Type.Integer({ minimum: 1 }) }, { additionalProperties: false });

const time = (value: Date | string | null) => (value === null ? null : formatApiTime(new Date(value)));
const usd = (units: number | string | null) => (units === null ? null : toUsdNumber(Number(units)));

export function providerJson(p: ProviderHealth) {
  const local = p.kind !== 'smshub' && p.kind !== 'sms-activate';
  return {
    id: p.providerId,
    name: p.name,
    kind: p.kind,
    enabled: p.enabled,
    disabled_reason: p.disabledReason,
    disabled_at: time(p.disabledAt),
    last_seen_at: time(p.lastSeenAt),
    sms_received: p.smsReceived,
    activations_sold: p.activationsSold,
    activations_with_sms: p.activationsWithSms,
    delivery_rate: p.deliveryRate === null ? null : Math.round(p.deliveryRate * 1000) / 1000,
    median_seconds_to_code: p.medianSecondsToCode === null ? null : Math.round(p.medianSecondsToCode),
    numbers: p.numbers,
    numbers_disabled: p.numbersDisabled,
    numbers_retired: p.numbersRetired,
    reports: p.reports,
    cost_per_number: local ? toUsdNumber(p.costPerNumber ?? 0) : null,
  };
}

export function numberJson({ number: n, provider }: NumberWithProvider) {
  return {
    id: n.id,
    e164: n.e164,
    country_id: n.countryId,
    operator: n.operator,
    provider: { id: provider.id, name: provider.name, kind: provider.kind },
    enabled: n.enabled,
    retired_at: time(n.retiredAt),
    busy_activation_id: n.busyActivationId,
    busy_rental_id: n.busyRentalId,
    rentable: n.rentable,
    busy_since: time(n.busySince),
    cooldown_until: time(n.cooldownUntil),
    consecutive_failures: n.consecutiveFailures,
    device_id: n.deviceId,
    sim_slot: n.simSlot,
    created_at: time(n.createdAt),
  };
}

/** What the console shows of an SMS (the feed, the SMS pages). */
type ShownSms = { sms: Pick<SmsWithProvider['sms'], 'id' | 'numberId' | 'toNumber' | 'sender' | 'text' | 'code' | 'activationId' | 'receivedAt'>; provider: SmsWithProvider['provider'] };

export function smsJson({ sms, provider }: ShownSms) {
  return {
    id: sms.id,
    provider: { id: provider.id, name: provider.name },
    number_id: sms.numberId,
    to: sms.toNumber,
    sender: sms.sender,
    text: sms.text,
    code: sms.code,
    activation_id: sms.activationId,
    received_at: time(sms.receivedAt),
  };
}

function historyJson(h: NumberHistory) {
  return {
    number: numberJson(h.number),
    rentals: h.rentals.map((r) => ({
      activation_id: Number(r.activationId),
      company: r.companyId === null ? null : { id: r.companyId, name: r.companyName },
      service: r.serviceCode,
      country_id: r.countryId,
      price: usd(r.price),
      status: r.status,
      outcome: r.outcome,
      rented_at: time(r.rentedAt),
      first_sms_at: time(r.firstSmsAt),
      first_code_at: time(r.firstCodeAt),
      ended_at: time(r.endedAt),
      supply_cost: usd(r.supplyCost),
      sms: r.sms.map((s) => ({ id: s.id, sender: s.sender, text: s.text, code: s.code, received_at: time(s.receivedAt) })),
    })),
    unmatched_sms: h.unmatchedSms.map(smsJson),
  };
}

function units(value: number, field: string): number {
  const amount = usdNumberToUnits(value);
  if (amount === null) throw new AppError('invalid_request', `body.${field} is an amount in USD with at most 4 decimals, e.g. 0.05`);
  return amount;
}

/** Console → Supply (admins only): providers and their health, numbers, the SMS feed. */
export const supplyConsoleRoutes: FastifyPluginAsyncTypebox<{ supply: SupplyService; supplyConsole: SupplyConsoleService; staff: StaffService }> = async (
  app,
  { supply, supplyConsole, staff },
) => {
  // Every stored SMS goes out on pub/sub as the console shows it, so staff on any instance see it:
  // as its ingestion committed it (read back, it cost a query per SMS on the busiest write path).
  const publish = (shown: ReturnType<typeof smsJson>) =>
    void app.pubsub.publish(supplySmsChannel, JSON.stringify(shown)).catch((error) => app.log.warn({ err: error, smsId: shown.id }, 'supply SMS event not published'));
  supply.onSmsStored((sms) =>
    publish(
      smsJson({
        sms: { id: sms.id, numberId: sms.numberId, toNumber: sms.to, sender: sms.sender, text: sms.text, code: sms.code, activationId: sms.activationId, receivedAt: sms.receivedAt },
        provider: { id: sms.providerId, name: sms.providerName },
      }),
    ),
  );
  const streams = new Set<EventStream>();
  app.addHook('preClose', async () => {
    for (const stream of [...streams]) stream.end();
  });

  app.get('/supply/providers', { schema: hide }, async () => ok({ providers: (await supplyConsole.providers()).map(providerJson) }));

  app.post('/supply/providers', { schema: { ...hide, body: CreateProviderBody }, config: carriesSecret }, async (request, reply) => {
    const b = request.body;
    const { provider, credentials } = await supplyConsole.createProvider(actorOf(request), {
      name: b.name.trim(),
      kind: b.kind,
      costPerNumber: b.cost_per_number === undefined ? undefined : units(b.cost_per_number, 'cost_per_number'),
      signingKey: b.signing_key,
      url: b.url,
      countries: b.countries,
      key: b.key,
      payoutPercent: b.payout_percent,
      apiKey: b.api_key,
      markupPercent: b.markup_percent,
      rentals: b.rentals,
    });
    reply.code(201);
    return ok({ provider: providerJson(provider), credentials });
  });

  app.post('/supply/providers/:id/settings', { schema: { ...hide, params: IdParams, body: SettingsBody } }, async (request) => {
    const provider = await supplyConsole.setProviderCost(actorOf(request), request.params.id, units(request.body.cost_per_number, 'cost_per_number'));
    return ok({ provider: providerJson(provider) });
  });

  app.post('/supply/providers/:id/enable', { schema: { ...hide, params: IdParams } }, async (request) => {
    return ok({ provider: providerJson(await supplyConsole.enableProvider(actorOf(request), request.params.id)) });
  });

  app.post('/supply/providers/:id/disable', { schema: { ...hide, params: IdParams, body: ReasonBody } }, async (request) => {
    const reason = request.body.reason?.trim() || undefined;
    return ok({ provider: providerJson(await supplyConsole.disableProvider(actorOf(request), request.params.id, reason)) });
  });

  app.post('/supply/providers/:id/numbers/import', { schema: { ...hide, params: IdParams, body: ImportBody } }, async (request) => {
    return ok(await supplyConsole.importNumbers(actorOf(request), request.params.id, request.body.csv));
  });

  app.get('/supply/numbers', { schema: { ...hide, querystring: NumbersQuery } }, async (request) => {
    const q = request.query;
    const { numbers, total } = await supplyConsole.listNumbers(
      { providerId: q.provider_id, countryId: q.country_id, q: q.q?.trim() || undefined, state: q.state },
      { limit: q.limit, offset: q.offset },
    );
    return ok({ numbers: numbers.map(numberJson), total });
  });

  app.get('/supply/numbers/:id', { schema: { ...hide, params: IdParams } }, async (request) => {
    return ok(historyJson(await supplyConsole.numberHistory(request.params.id)));
  });

  app.post('/supply/numbers/:id/retire', { schema: { ...hide, params: IdParams, body: ReasonBody } }, async (request) => {
    const reason = request.body.reason?.trim() || undefined;
    return ok({ number: numberJson(await supplyConsole.retireNumber(actorOf(request), request.params.id, reason)) });
  });

  app.get('/supply/sms', { schema: { ...hide, querystring: SmsQuery } }, async (request) => {
    const q = request.query;
    const rows = await supplyConsole.listSms({ unmatched: q.unmatched, providerId: q.provider_id, beforeId: q.before_id }, q.limit);
    return ok({ sms: rows.map(smsJson), next_before_id: rows.length === q.limit ? rows[rows.length - 1].sms.id : null });
  });

  app.post('/supply/sms/:id/attach', { schema: { ...hide, params: Type.Object({ id: Type.Integer({ minimum: 1 }) }), body: AttachBody } }, async (request) => {
    const { sms, activation } = await supplyConsole.attachSms(actorOf(request), request.params.id, request.body.activation_id);
    const shown = smsJson(sms);
    publish(shown);
    return ok({ sms: shown, activation });
  });

  // Live SMS feed: every SMS stored from now on (and every attach), pushed from pub/sub.
  app.get('/supply/sms/live', { schema: hide }, async (request, reply) => {
    const token = request.cookies[consoleSessionCookie] ?? '';
    let stream: EventStream | undefined;
    let forwarding = Promise.resolve();
    const forward = async (raw: string) => {
      if (!stream) return;
      // A stream outlives its session otherwise: signed-out (or demoted) staff stop hearing the feed.
      const session = await staff.resolve(token).catch(() => null);
      if (!session || session.stage !== 'complete' || session.staff.role !== 'admin') return stream.end();
      try {
        stream.send('sms', JSON.parse(raw));
      } catch {
        // Not JSON: nothing to forward.
      }
    };
    const subscription = app.pubsub.subscribe(supplySmsChannel, (raw) => {
      forwarding = forwarding.then(() => forward(raw)).catch(() => {});
    });
    // Subscribed before the stream opens: every SMS stored once the client sees "ready" reaches it.
    await subscription.ready;
    stream = openEventStream(request, reply, streams);
    stream.onClose(subscription);
    stream.send('ready', {});
  });
};
