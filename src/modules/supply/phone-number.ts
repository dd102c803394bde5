import { parsePhoneNumberFromString } from 'libphonenumber-js/max';

/**
 * Normalises what gateways send as a recipient ("+1 202-555-0100", "12025550100") to E.164,
 * or null when it is not a phone number. Gateways often drop the plus sign, so digits alone
 * are read as an international number.
 */
export function toE164(raw: string): string | null {
  const trimmed = raw.trim();
  if (!/^\+?[\d\s().-]{6,24}$/.test(trimmed)) return null;
  const international = trimmed.startsWith('+') ? trimmed : `+${trimmed}`;
  const parsed = parsePhoneNumberFromString(international);
  return parsed ? parsed.number : null;
}
