import type { Money } from '../billing/money.ts';

/** The fewest and most hours one request may rent or extend for (30 days). */
export const minRentalHours = 1;
export const maxRentalHours = 720;

/**
 * What renting for `hours` costs: whole days at the day price, the rest at the hour price but
 * never more than one more day (a 23-hour rental never costs more than a day's). The rule of the
 * RentalsService contract; the first period and each extension are priced alike.
 */
export function rentalCost(hours: number, price: { pricePerHour: Money; pricePerDay: Money }): Money {
  const days = Math.floor(hours / 24);
  const rest = hours % 24;
  return days * price.pricePerDay + Math.min(rest * price.pricePerHour, price.pricePerDay);
}
