/**
 * Money is an integer count of 1/10000 USD everywhere in code and database; these functions are
 * the only places where it meets decimal text or JSON numbers.
 */
export type Money = number;

export const unitsPerUsd = 10_000;

const decimalUsd = /^(-)?(\d{1,12})(?:\.(\d{1,4}))?$/;

/** Parses "12.5" or "0.0001" exactly (no float rounding); null when it is not a USD amount with ≤ 4 decimals. */
export function parseUsd(text: string): Money | null {
  const match = decimalUsd.exec(text.trim());
  if (!match) return null;
  const [, minus, whole, fraction = ''] = match;
  const units = Number(whole) * unitsPerUsd + Number(fraction.padEnd(4, '0'));
  // Past 2^53 units a double no longer holds every integer: refuse rather than round the amount.
  if (!Number.isSafeInteger(units)) return null;
  return minus ? -units : units;
}

/** Converts a JSON number such as 0.5 to units, refusing more than 4 decimals. */
export function usdNumberToUnits(value: number): Money | null {
  if (!Number.isFinite(value)) return null;
  const units = Math.round(value * unitsPerUsd);
  if (!Number.isSafeInteger(units)) return null;
  // Reject 0.00005-style values rather than silently rounding a customer's limit.
  if (Math.abs(units / unitsPerUsd - value) > 1e-9) return null;
  return units;
}

/** The JSON number the API shows: 5000 → 0.5, 140912 → 14.0912. */
export function toUsdNumber(units: Money): number {
  return units / unitsPerUsd;
}

/** "0.5000": for messages and the CLI, always four decimals. */
export function formatUsd(units: Money): string {
  const sign = units < 0 ? '-' : '';
  const abs = Math.abs(units);
  return `${sign}${Math.floor(abs / unitsPerUsd)}.${String(abs % unitsPerUsd).padStart(4, '0')}`;
}
