import { getCountryCallingCode, isSupportedCountry } from 'libphonenumber-js';
import { AppError } from '../../http/errors.ts';
import { type Money, parseUsd, usdNumberToUnits } from '../billing/money.ts';

/**
 * What a catalog entry may look like, checked once at the edge of every way in (console, CLI,
 * import file). Each check returns the clean value or throws `invalid_request` naming the field.
 */

const serviceCodePattern = /^[a-z0-9_-]{1,32}$/;
// Operators are named as numbers carry them (numbers:add --operator); 'any' means "no preference".
const operatorCodePattern = /^[A-Za-z0-9_.-]{1,64}$/;

const regionNames = new Intl.DisplayNames(['en'], { type: 'region' });

export function checkServiceCode(code: string): string {
  const clean = code.trim();
  if (!serviceCodePattern.test(clean)) {
    throw new AppError('invalid_request', `Service code "${code}" must be 1 to 32 of a-z, 0-9, _ and - (e.g. tg)`);
  }
  return clean;
}

export function checkName(name: string, what: string): string {
  const clean = name.trim();
  if (clean.length === 0 || clean.length > 100) throw new AppError('invalid_request', `The ${what} name must have 1 to 100 characters`);
  return clean;
}

export function checkCountryId(id: number | string): number {
  const value = typeof id === 'number' ? id : Number(String(id).trim());
  if (!Number.isSafeInteger(value) || value < 0 || value > 100000 || String(id).trim() === '') {
    throw new AppError('invalid_request', `Country id "${id}" must be a whole number from 0 to 100000 (e.g. 6)`);
  }
  return value;
}

export function checkOperatorCode(code: string): string {
  const clean = code.trim();
  if (!operatorCodePattern.test(clean)) {
    throw new AppError('invalid_request', `Operator "${code}" must be 1 to 64 of letters, digits, _ . and - (e.g. tmobile)`);
  }
  if (clean === 'any') throw new AppError('invalid_request', 'Operator "any" means no preference; name a real operator');
  return clean;
}

/** An ISO 3166 alpha-2 code with a telephone calling code (upper-cased). */
export function checkIso(iso: string): string {
  const clean = iso.trim().toUpperCase();
  if (!/^[A-Z]{2}$/.test(clean) || !isSupportedCountry(clean)) {
    throw new AppError('invalid_request', `"${iso}" is not an ISO 3166 country code with a telephone prefix (e.g. US, GB, FR)`);
  }
  return clean;
}

export function checkDialPrefix(prefix: string): string {
  const clean = prefix.trim().replace(/^\+/, '');
  if (!/^[1-9]\d{0,3}$/.test(clean)) throw new AppError('invalid_request', `Dialling prefix "${prefix}" must be 1 to 4 digits, e.g. 1 or 44`);
  return clean;
}

/** The English name and dialling prefix of a country, from its ISO code (CLDR names; libphonenumber-js metadata). */
export function countryDefaults(iso: string): { name: string; dialPrefix: string } {
  const code = checkIso(iso);
  return { name: regionNames.of(code) ?? code, dialPrefix: getCountryCallingCode(code as Parameters<typeof getCountryCallingCode>[0]) };
}

/** A selling price: "0.50" or 0.5, positive, at most 4 decimals. */
export function checkPrice(value: string | number, what = 'Price'): Money {
  const units = typeof value === 'number' ? usdNumberToUnits(value) : parseUsd(value);
  if (units === null || units <= 0) throw new AppError('invalid_request', `${what} "${value}" must be a positive USD amount like 0.50 (at most 4 decimals)`);
  return units;
}

/** A minimum margin: zero or more USD. */
export function checkMargin(value: string | number): Money {
  const units = typeof value === 'number' ? usdNumberToUnits(value) : parseUsd(value);
  if (units === null || units < 0) throw new AppError('invalid_request', `Minimum margin "${value}" must be a USD amount of 0 or more, like 0.05`);
  return units;
}

/** A markup percent (0 to 1000, two decimals at most) in basis points: 25 → 2500. */
export function checkMarkupPercent(value: string | number): number {
  const percent = typeof value === 'number' ? value : Number(String(value).trim());
  const basisPoints = Math.round(percent * 100);
  if (String(value).trim() === '' || !Number.isFinite(percent) || percent < 0 || percent > 1000 || Math.abs(basisPoints - percent * 100) > 1e-6) {
    throw new AppError('invalid_request', `Markup "${value}" must be a percent from 0 to 1000 with at most two decimals, like 25`);
  }
  return basisPoints;
}
