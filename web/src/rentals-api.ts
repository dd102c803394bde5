/** Shapes of the website's rental answers (/api/web/rentals…, docs/web-api.md). */

export type RentalStatus = 'active' | 'finished' | 'cancelled' | 'expired';

export interface Rental {
  id: number;
  type: 'rent';
  number: string;
  country: number;
  operator: string;
  /** Everything charged so far (first period and extensions), USD. */
  price: number;
  status: RentalStatus;
  hours: number;
  created_at: string;
  expires_at: string;
  finished_at: string | null;
}

export interface RentalMessage {
  id: number;
  from: string;
  text: string;
  code: string | null;
  received_at: string;
}

/** A single read: the rental with all its messages, newest first. */
export interface RentalWithMessages extends Rental {
  messages: RentalMessage[];
}

export interface RentalPriceRow {
  country: number;
  country_name: string;
  country_iso: string;
  /** 'any' = the country's default price. */
  operator: string;
  price_per_hour: number;
  price_per_day: number;
  available: number;
}

export interface RentalPage {
  rentals: Rental[];
  total: number;
  limit: number;
  offset: number;
}

export interface RentalQuote {
  country: number;
  operator: string;
  hours: number;
  price: number;
}

export const rentalStatusLabels: Record<RentalStatus, string> = {
  active: 'Active',
  finished: 'Finished',
  cancelled: 'Cancelled',
  expired: 'Expired',
};

export const maxRentalHours = 720;

/** "3 days 4 hours" for an hour count. */
export function formatHours(hours: number): string {
  const days = Math.floor(hours / 24);
  const rest = hours % 24;
  const parts = [];
  if (days) parts.push(`${days} ${days === 1 ? 'day' : 'days'}`);
  if (rest || !days) parts.push(`${rest} ${rest === 1 ? 'hour' : 'hours'}`);
  return parts.join(' ');
}
