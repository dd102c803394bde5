import { demoNumbers } from '../supply/demo-provider.ts';
import type { RentalStock } from '../supply/rental-stock.ts';
import type { RentalsService } from './rentals.service.ts';

/** Demo rental prices (1/10000 USD) per country id: per hour, per day. */
export const demoRentalPrices: Record<number, { pricePerHour: number; pricePerDay: number }> = {
  6: { pricePerHour: 2000, pricePerDay: 25_000 },
  16: { pricePerHour: 2500, pricePerDay: 30_000 },
  78: { pricePerHour: 2500, pricePerDay: 30_000 },
};

/**
 * The embedded demo rents out of the box: every tenth demo number is rentable, at the demo
 * prices. A price already set (by the operator, or an earlier start) is kept.
 */
export async function seedDemoRentals(deps: { rentals: RentalsService; rentalStock: RentalStock; countryIds: number[] }): Promise<void> {
  const rentable = demoNumbers(deps.countryIds)
    .filter((_, i) => i % 10 === 0)
    .map((n) => n.e164);
  await deps.rentalStock.setRentable(rentable);
  const priced = new Set((await deps.rentals.prices()).filter((p) => p.operator === 'any').map((p) => p.countryId));
  for (const countryId of deps.countryIds) {
    const price = demoRentalPrices[countryId];
    if (price && !priced.has(countryId)) await deps.rentals.setPrice({ countryId, ...price });
  }
}
