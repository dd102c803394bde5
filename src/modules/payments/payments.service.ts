import type Stripe from 'stripe';
import type { Clock } from '../../clock.ts';
import { type Database, isUniqueViolation } from '../../db/database.ts';
import { AppError } from '../../http/errors.ts';
import type { BillingService } from '../billing/billing.service.ts';
import { formatUsd, type Money, unitsPerUsd } from '../billing/money.ts';
import * as repo from './payments.repo.ts';

/** Top-up limits, in 1/10000 USD. */
export const topupLimits = { min: 1 * unitsPerUsd, max: 1000 * unitsPerUsd };

export type TopupResult = { checkoutUrl: string } | { credited: true; balance: Money };

/** A way to take a customer's money and credit their balance. */
export interface PaymentProvider {
  name: 'stripe' | 'demo';
  startTopup(input: { companyId: number; accountId: number; amount: Money; returnUrl: string }): Promise<TopupResult>;
}

export interface StripeSettings {
  secretKey: string;
  webhookSecret?: string;
  /** Another Stripe API base (tests point it at a local fake). */
  apiUrl?: string;
}

export interface PaymentsService {
  /** Null when neither Stripe is configured nor demo mode is on: top-ups are unavailable. */
  provider: PaymentProvider | null;
  startTopup(input: { companyId: number; accountId: number; amount: Money; returnUrl: string }): Promise<TopupResult>;
  /**
   * Verifies a Stripe webhook's signature and credits a paid Checkout Session once: a replay
   * (or a second event for one session) finds the payment already credited. Returns whether this
   * call credited.
   */
  handleStripeWebhook(rawBody: Buffer | string, signature: string): Promise<{ credited: boolean }>;
}

export function createPaymentsService(deps: {
  database: Database;
  clock: Clock;
  billing: BillingService;
  stripe?: StripeSettings;
  /** The demo provider credits without payment, so it exists only in demo mode (NOVA_DEMO). */
  demo: boolean;
}): PaymentsService {
  const { database, clock, billing } = deps;

  function checkAmount(amount: Money) {
    if (!Number.isInteger(amount) || amount < topupLimits.min || amount > topupLimits.max) {
      throw new AppError('invalid_request', `The amount must be between ${formatUsd(topupLimits.min)} and ${formatUsd(topupLimits.max)} USD`);
    }
  }

  /** Marks a pending payment credited and credits the ledger, in one transaction; false when already done. */
  async function creditPayment(externalId: string, reason: string): Promise<{ credited: boolean; balance?: Money }> {
    return database.transaction(async (tx) => {
      const payment = await repo.markPendingPaymentCredited(tx, externalId, clock.now());
      if (!payment) return { credited: false };
      const balance = await billing.creditWithin(tx, { companyId: payment.companyId, amount: payment.amount, kind: 'topup', reason });
      return { credited: true, balance };
    });
  }

  async function recordPending(input: { companyId: number; accountId: number | null; provider: 'stripe' | 'demo'; externalId: string; amount: Money }) {
    try {
      await repo.insertPayment(database.db, { ...input, status: 'pending', createdAt: clock.now() });
    } catch (error) {
      if (!isUniqueViolation(error)) throw error;
    }
  }

  const demoProvider: PaymentProvider = {
    name: 'demo',
    async startTopup(input) {
      const externalId = `demo_${crypto.randomUUID()}`;
      await recordPending({ companyId: input.companyId, accountId: input.accountId, provider: 'demo', externalId, amount: input.amount });
      const result = await creditPayment(externalId, 'Demo payment (no money was charged)');
      return { credited: true, balance: result.balance! };
    },
  };

  // Stripe's SDK (over 400 module files) is loaded on first use, and only when Stripe is
  // configured: a server that never takes card payments does not carry it in memory.
  const stripeSettings = deps.stripe;
  let client: Promise<Stripe> | undefined;
  function stripeClient(settings: StripeSettings): Promise<Stripe> {
    client ??= import('stripe').then(({ default: StripeClient }) => {
      const api = settings.apiUrl ? new URL(settings.apiUrl) : undefined;
      return new StripeClient(settings.secretKey, {
        maxNetworkRetries: 1,
        ...(api ? { host: api.hostname, port: Number(api.port || (api.protocol === 'http:' ? 80 : 443)), protocol: api.protocol.replace(':', '') as 'http' | 'https' } : {}),
      });
    });
    return client;
  }

  const stripeProvider: PaymentProvider | undefined = stripeSettings && {
    name: 'stripe',
    async startTopup(input) {
      const cents = input.amount / (unitsPerUsd / 100);
      if (!Number.isInteger(cents)) throw new AppError('invalid_request', 'The amount must be in whole cents');
      const session = await (await stripeClient(stripeSettings)).checkout.sessions.create({
        mode: 'payment',
        line_items: [{ quantity: 1, price_data: { currency: 'usd', unit_amount: cents, product_data: { name: 'Nova SMS balance top-up' } } }],
        success_url: `${input.returnUrl}?topup=success`,
        cancel_url: `${input.returnUrl}?topup=cancelled`,
        client_reference_id: String(input.companyId),
        metadata: { company_id: String(input.companyId), account_id: String(input.accountId) },
      });
      if (!session.url) throw new AppError('unavailable', 'The payment provider did not return a checkout page');
      await recordPending({ companyId: input.companyId, accountId: input.accountId, provider: 'stripe', externalId: session.id, amount: input.amount });
      return { checkoutUrl: session.url };
    },
  };

  const provider = stripeProvider ?? (deps.demo ? demoProvider : null);

  return {
    provider,
    async startTopup(input) {
      checkAmount(input.amount);
      if (!provider) throw new AppError('unavailable', 'Top-ups are not set up on this server yet; please contact support');
      return provider.startTopup(input);
    },
    async handleStripeWebhook(rawBody, signature) {
      if (!stripeSettings?.webhookSecret) throw new AppError('not_found', 'Stripe is not configured');
      const stripe = await stripeClient(stripeSettings);
      let event: Stripe.Event;
      try {
        event = stripe.webhooks.constructEvent(rawBody, signature, stripeSettings.webhookSecret);
      } catch {
        throw new AppError('invalid_request', 'Invalid Stripe signature');
      }
      if (event.type !== 'checkout.session.completed' && event.type !== 'checkout.session.async_payment_succeeded') return { credited: false };
      const session = event.data.object as Stripe.Checkout.Session;
      if (session.payment_status !== 'paid') return { credited: false };
      // A session we did not record (e.g. the server died between Stripe's answer and our insert):
      // its metadata says whose it is and Stripe says how much was paid.
      const companyId = Number(session.metadata?.company_id);
      if (Number.isSafeInteger(companyId) && companyId > 0 && session.amount_total && session.currency === 'usd') {
        await recordPending({
          companyId,
          accountId: Number(session.metadata?.account_id) || null,
          provider: 'stripe',
          externalId: session.id,
          amount: session.amount_total * (unitsPerUsd / 100),
        });
      }
      const result = await creditPayment(session.id, `Card payment (Stripe ${session.id})`);
      return { credited: result.credited };
    },
  };
}
