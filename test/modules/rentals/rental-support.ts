import assert from 'node:assert/strict';
import type { ApiClient, TestServer } from '../../support/test-server.ts';

/** USD prices of the test markets: 0.20 an hour, 2.50 a day (in 1/10000 USD). */
export const perHour = 2000;
export const perDay = 25_000;

let marketCounter = 0;

/**
 * A country of its own for one test (activations: tg 0.50; rentals: 0.20/h, 2.50/day), so the
 * stock a test counts holds only the numbers that test added: stock is per country and the tests
 * of a file share one server.
 */
export async function openMarket(server: TestServer, options: { rentalPrice?: boolean } = {}): Promise<number> {
  const countryId = 700 + ++marketCounter;
  await server.services.catalog.upsertCountry({ id: countryId, name: `Rental market ${countryId}`, iso: `R${marketCounter}`, dialPrefix: '1' });
  await server.services.catalog.setPrice({ serviceCode: 'tg', countryId, price: 5000 });
  await server.services.catalog.setPrice({ serviceCode: 'wa', countryId, price: 7500 });
  if (options.rentalPrice !== false) await server.services.rentals.setPrice({ countryId, pricePerHour: perHour, pricePerDay: perDay });
  return countryId;
}

export async function rentOk(api: ApiClient, countryId: number, hours = 3, extra: Record<string, unknown> = {}) {
  const response = await api.post('/api/v1/rentals', { country_id: countryId, hours, ...extra });
  assert.equal(response.status, 201, JSON.stringify(response.body));
  return response.body.data.rental as { id: number; number: string; price: number; expires_at: string; created_at: string; operator: string };
}

export async function balanceOf(api: ApiClient): Promise<number> {
  const response = await api.get('/api/v1/balance');
  assert.equal(response.status, 200, JSON.stringify(response.body));
  return response.body.data.balance;
}

export async function rentalOf(api: ApiClient, id: number) {
  const response = await api.get(`/api/v1/rentals/${id}`);
  assert.equal(response.status, 200, JSON.stringify(response.body));
  return response.body.data.rental;
}

export async function assertLedgerVerifies(server: TestServer) {
  assert.deepEqual(await server.services.billing.verify(), [], 'every balance equals the sum of its ledger');
}

/** Pushes an SMS as the provider would. */
export function pushSms(server: TestServer, secret: string, to: string, text: string, from = 'Telegram') {
  return server.api(secret).post('/api/v1/supply/sms', { to, from, text });
}

/** API time ("2026-06-02 10:20:00", UTC) as epoch ms. */
export function apiTimeMs(text: string): number {
  return Date.parse(`${text.replace(' ', 'T')}Z`);
}
