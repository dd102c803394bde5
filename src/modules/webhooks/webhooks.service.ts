import { randomUUID } from 'node:crypto';
import { cacheChannel, CoherentCache, idInMessage } from '../../cache/coherent-cache.ts';
import type { Clock } from '../../clock.ts';
import type { Database, Db } from '../../db/database.ts';
import type { ActivationEvent, BalanceEvent, DomainEvents, RentalEvent } from '../../events/domain-events.ts';
import type { PubSub } from '../../events/pubsub.ts';
import { AppError } from '../../http/errors.ts';
import { formatApiTime } from '../../time-format.ts';
import type { Principal } from '../accounts/accounts.service.ts';
import { activationJson, reportJson } from '../activations/activations.routes.ts';
import type { ActivationsService } from '../activations/activations.service.ts';
import type { BillingService } from '../billing/billing.service.ts';
import { type Money, toUsdNumber } from '../billing/money.ts';
import { rentalJson, rentalMessageJson, rentalWithMessagesJson } from '../rentals/rentals.routes.ts';
import type { RentalsService } from '../rentals/rentals.service.ts';
import { checkWebhookUrl } from './webhook-address.ts';
import { createWebhookSender } from './webhook-sender.ts';
import { generateWebhookSecret, signWebhook } from './webhook-signature.ts';
import * as repo from './webhooks.repo.ts';
import type { DeliveryRow, EndpointRow } from './webhooks.repo.ts';
import { type WebhookEventType, webhookEventTypes } from './webhooks.tables.ts';

export type WebhookEndpoint = EndpointRow;
export type WebhookDelivery = DeliveryRow;

export interface WebhookSettings {
  /**
   * Lets loopback endpoints through (http://127.0.0.1, https://localhost: development and tests);
   * otherwise https only, and only to public internet addresses (webhook-address.ts).
   */
  allowHttpLoopback: boolean;
  /** How long one POST may take before it counts as failed. */
  timeoutMs: number;
}

export interface WebhooksService {
  create(
    principal: Principal,
    input: { url: string; events: WebhookEventType[]; balanceLowThreshold?: Money },
  ): Promise<{ endpoint: WebhookEndpoint; secret: string }>;
  list(principal: Principal): Promise<WebhookEndpoint[]>;
  remove(principal: Principal, id: number): Promise<void>;
  deliveries(principal: Principal, endpointId: number, page: { limit: number; offset: number }): Promise<WebhookDelivery[]>;
  /** Queues the event of a past delivery again, as a new delivery due now. */
  resend(principal: Principal, deliveryId: number): Promise<WebhookDelivery>;
  /** Sends the deliveries that are due (safe with several instances); returns how many were attempted. */
  deliverDue(batchSize?: number): Promise<number>;
  /**
   * Deletes finished deliveries (delivered or failed) queued more than `retentionDays` ago from the
   * delivery log; returns how many went. Pending ones stay (they finish within 24 h anyway).
   */
  purgeFinishedDeliveries(retentionDays: number, batchSize?: number): Promise<number>;
}

// Seconds after a failed attempt before the next one; the last step repeats until the deadline.
export const retryDelaysSeconds = [10, 30, 120, 600, 1800, 3600, 7200, 14400];
/** A delivery is given up ("failed") when its next attempt would fall past this long after it was queued. */
export const retryWindowSeconds = 24 * 3600;
// Longer than the send timeout: while a worker sends, no other instance takes the same delivery.
const leaseSeconds = 60;
export const defaultBalanceLowThreshold: Money = 10_000;

const activationEventTypes = new Set<string>(webhookEventTypes.filter((type) => type.startsWith('activation.')));
const rentalEventTypes = new Set<string>(webhookEventTypes.filter((type) => type.startsWith('rental.')));

/**
 * Pub/sub channel of `{ "companyId": n }`: the company's webhook endpoints changed (created or
 * deleted). Every instance forgets whether that company has any (see `companyHasEndpoints`).
 */
export const webhookEndpointsChannel = 'webhook-endpoints';

/** When to try again after `attempts` failed attempts, or null when the 24 h window is over. */
export function nextAttemptAfterFailure(createdAt: Date, attempts: number, now: Date): Date | null {
  const delay = retryDelaysSeconds[Math.min(attempts, retryDelaysSeconds.length) - 1] ?? retryDelaysSeconds[0];
  const next = new Date(now.getTime() + delay * 1000);
  return next.getTime() > createdAt.getTime() + retryWindowSeconds * 1000 ? null : next;
}

export function createWebhooksService(deps: {
  database: Database;
  clock: Clock;
  events: DomainEvents;
  activations: ActivationsService;
  billing: BillingService;
  /** Rental events (rental.message_received, rental.expired) describe the rental; without it they are not sent. */
  rentals?: RentalsService;
  settings: WebhookSettings;
  /** Carries endpoint changes to every instance (see webhookEndpointsChannel). */
  pubsub: PubSub;
}): WebhooksService {
  const { database, clock, events, activations, billing, settings, pubsub } = deps;

  // Whether a company has any live endpoint, from memory: most companies have none, and every
  // purchase and finish would otherwise look their endpoints up twice inside its transaction, the
  // second time while the company's balance row is locked. Dropped on every instance when the
  // company creates or deletes one (README → Operations → Caches).
  const endpointMessages = cacheChannel(pubsub, webhookEndpointsChannel, (message) => {
    const companyId = idInMessage(message, 'companyId');
    // Unreadable: forget every company.
    if (companyId !== null) hasEndpoints.invalidate(companyId);
    else hasEndpoints.clear();
  });
  const hasEndpoints = new CoherentCache<number, boolean>({ maxEntries: 100_000, maxAgeMs: 30_000, delivery: endpointMessages.delivery });
  // Read on the caller's transaction: inside a purchase, a second pool connection could wait for one
  // that every other purchase holds (the pool runs dry under load).
  const companyHasEndpoints = (tx: Db, companyId: number) => hasEndpoints.get(companyId, () => repo.companyHasLiveEndpoint(tx, companyId));

  /** After a company's endpoints changed (committed): forget here at once, and tell the other instances. */
  async function announceEndpoints(companyId: number): Promise<void> {
    hasEndpoints.invalidate(companyId);
    await pubsub.publish(webhookEndpointsChannel, JSON.stringify({ companyId })).catch(() => {});
  }

  function requireOwner(principal: Principal) {
    if (principal.role !== 'owner') {
      throw new AppError('forbidden', 'Only an owner of the company can manage webhooks; ask an owner to do it');
    }
  }

  // Resolves the name once per attempt and connects to the address it checked (no DNS rebinding).
  const sender = createWebhookSender({ allowLoopback: settings.allowHttpLoopback, timeoutMs: settings.timeoutMs });

  async function ownEndpoint(principal: Principal, id: number): Promise<EndpointRow> {
    requireOwner(principal);
    const endpoint = await repo.findEndpoint(database.db, id);
    if (!endpoint || endpoint.companyId !== principal.companyId) throw new AppError('not_found', `Webhook ${id} not found`);
    return endpoint;
  }

  // The outbox rows are written here, inside the transaction of the change (see DomainEvents).
  async function enqueue(tx: Db, endpoints: EndpointRow[], type: WebhookEventType, data: unknown) {
    const now = clock.now();
    const eventId = `evt_${randomUUID().replaceAll('-', '')}`;
    const payload = JSON.stringify({ id: eventId, type, created_at: formatApiTime(now), data });
    for (const endpoint of endpoints) {
      await repo.insertDelivery(tx, {
        endpointId: endpoint.id,
        companyId: endpoint.companyId,
        eventId,
        eventType: type,
        payload,
        status: 'pending',
        nextAttemptAt: now,
        createdAt: now,
      });
    }
  }

  async function onActivationEvent(tx: Db, event: ActivationEvent) {
    const type = event.type as WebhookEventType;
    if (!(await companyHasEndpoints(tx, event.companyId))) return;
    const endpoints = await repo.listSubscribedEndpoints(tx, event.companyId, type);
    if (endpoints.length === 0) return;
    const activation = await activations.findInTransaction(tx, event.activationId);
    if (!activation) return;
    const data: { activation: ReturnType<typeof activationJson>; report?: ReturnType<typeof reportJson> } = { activation: activationJson(activation, activations) };
    // activation.reported also carries the report: its reason, note and whether it refunded.
    if (type === 'activation.reported') {
      const report = await activations.findReportInTransaction(tx, activation.id);
      if (report) data.report = reportJson(report);
    }
    await enqueue(tx, endpoints, type, data);
  }

  // rental.message_received: the rental and the message; rental.expired: the rental with all its messages.
  async function onRentalEvent(tx: Db, event: RentalEvent) {
    const type = event.type as WebhookEventType;
    if (!deps.rentals || !(await companyHasEndpoints(tx, event.companyId))) return;
    const endpoints = await repo.listSubscribedEndpoints(tx, event.companyId, type);
    if (endpoints.length === 0) return;
    const found = await deps.rentals.findInTransaction(tx, event.rentalId);
    if (!found) return;
    if (type === 'rental.message_received') {
      const message = found.messages.find((m) => m.id === event.messageId);
      if (!message) return;
      await enqueue(tx, endpoints, type, { rental: rentalJson(found.rental), message: rentalMessageJson(message) });
    } else {
      await enqueue(tx, endpoints, type, { rental: rentalWithMessagesJson(found.rental, found.messages) });
    }
  }

  // Fires on the crossing only: once the balance is below the threshold the endpoint is marked,
  // and only a balance back at or above it re-arms it. Balance changes of one company are
  // serialised by its balance row lock, so the flag cannot race.
  async function onBalanceChanged(tx: Db, event: BalanceEvent) {
    if (!(await companyHasEndpoints(tx, event.companyId))) return;
    const endpoints = await repo.listSubscribedEndpoints(tx, event.companyId, 'balance.low');
    for (const endpoint of endpoints) {
      const below = event.balance < endpoint.balanceLowThreshold;
      if (below && !endpoint.balanceLowNotified) {
        await enqueue(tx, [endpoint], 'balance.low', {
          balance: toUsdNumber(event.balance),
          currency: 'USD',
          threshold: toUsdNumber(endpoint.balanceLowThreshold),
        });
        await repo.setBalanceLowNotified(tx, endpoint.id, true);
      } else if (!below && endpoint.balanceLowNotified) {
        await repo.setBalanceLowNotified(tx, endpoint.id, false);
      }
    }
  }

  events.onTransaction(
    async (tx, event) => {
      if (event.type === 'balance.changed') await onBalanceChanged(tx, event);
      else if ('activationId' in event && activationEventTypes.has(event.type)) await onActivationEvent(tx, event);
      else if ('rentalId' in event && rentalEventTypes.has(event.type)) await onRentalEvent(tx, event);
    },
    // Sure only from memory: a company this instance knows has no endpoint (a purchase's earlier
    // event in the same transaction just looked). Unknown means it may write.
    (event) => hasEndpoints.peek(event.companyId) === false,
  );

  async function attempt(claimed: repo.ClaimedDelivery) {
    const { delivery } = claimed;
    const result = await sender.post({
      url: claimed.url,
      headers: {
        'content-type': 'application/json',
        'user-agent': 'Nova-Webhooks/1',
        'nova-event-id': delivery.eventId,
        'nova-signature': signWebhook(claimed.secret, delivery.payload, Math.floor(clock.now().getTime() / 1000)),
      },
      body: delivery.payload,
    });
    // A refused address (private, loopback, …) is retried like any failure: its DNS may be fixed.
    const responseCode = 'status' in result ? result.status : null;
    const error = 'error' in result ? result.error : null;
    const now = clock.now();
    if (responseCode !== null && responseCode >= 200 && responseCode < 300) {
      await repo.recordAttempt(database.db, delivery.id, { status: 'delivered', lastResponseCode: responseCode, lastError: null, nextAttemptAt: null, deliveredAt: now });
      return;
    }
    const next = nextAttemptAfterFailure(delivery.createdAt, delivery.attempts, now);
    await repo.recordAttempt(database.db, delivery.id, {
      status: next ? 'pending' : 'failed',
      lastResponseCode: responseCode,
      lastError: error ?? `HTTP ${responseCode}`,
      nextAttemptAt: next,
      deliveredAt: null,
    });
  }

  return {
    async create(principal, input) {
      requireOwner(principal);
      const url = checkWebhookUrl(input.url, { allowHttpLoopback: settings.allowHttpLoopback });
      const events = [...new Set(input.events)];
      if (events.length === 0) throw new AppError('invalid_request', `body.events must name at least one of: ${webhookEventTypes.join(', ')}`);
      const threshold = input.balanceLowThreshold ?? defaultBalanceLowThreshold;
      const secret = generateWebhookSecret();
      // Already below the threshold: that is no crossing, so balance.low waits for the next one.
      const balance = await billing.balanceOf(principal.companyId);
      const endpoint = await repo.insertEndpoint(database.db, {
        companyId: principal.companyId,
        url,
        events,
        secret,
        balanceLowThreshold: threshold,
        balanceLowNotified: balance < threshold,
        createdAt: clock.now(),
      });
      await announceEndpoints(principal.companyId);
      return { endpoint, secret };
    },
    async list(principal) {
      requireOwner(principal);
      return repo.listEndpoints(database.db, principal.companyId);
    },
    async remove(principal, id) {
      await ownEndpoint(principal, id);
      await database.transaction((tx) => repo.deleteEndpoint(tx, id, clock.now()));
      await announceEndpoints(principal.companyId);
    },
    async deliveries(principal, endpointId, page) {
      await ownEndpoint(principal, endpointId);
      return repo.listDeliveries(database.db, endpointId, page);
    },
    async resend(principal, deliveryId) {
      requireOwner(principal);
      const original = await repo.findDelivery(database.db, deliveryId);
      if (!original || original.companyId !== principal.companyId) throw new AppError('not_found', `Webhook delivery ${deliveryId} not found`);
      const endpoint = await repo.findEndpoint(database.db, original.endpointId);
      if (!endpoint) throw new AppError('invalid_state', `Webhook ${original.endpointId} was deleted; its deliveries cannot be resent`);
      const now = clock.now();
      // Same event id and body: the receiver can tell it is the same event again.
      return repo.insertDelivery(database.db, {
        endpointId: original.endpointId,
        companyId: original.companyId,
        eventId: original.eventId,
        eventType: original.eventType,
        payload: original.payload,
        status: 'pending',
        nextAttemptAt: now,
        createdAt: now,
        resendOf: original.id,
      });
    },
    async purgeFinishedDeliveries(retentionDays, batchSize = 1000) {
      const before = new Date(clock.now().getTime() - retentionDays * 24 * 3600 * 1000);
      let total = 0;
      // In batches, so a backlog after downtime clears without one huge transaction.
      for (;;) {
        const count = await repo.deleteFinishedDeliveries(database.db, before, batchSize);
        total += count;
        if (count < batchSize) return total;
      }
    },
    async deliverDue(batchSize = 20) {
      const now = clock.now();
      const claimed = await database.transaction((tx) =>
        repo.claimDueDeliveries(tx, now, new Date(now.getTime() + leaseSeconds * 1000), batchSize),
      );
      // Sent outside any transaction: a slow receiver must hold no database connection or lock.
      await Promise.all(claimed.map((c) => attempt(c)));
      return claimed.length;
    },
  };
}
