import { hash, randomBytes } from 'node:crypto';

const keyPrefix = 'nova_';

/** A new API key: a recognisable prefix and 192 random bits. */
export function generateApiKey(): string {
  return keyPrefix + randomBytes(24).toString('base64url');
}

/** Keys are stored and looked up by this hash only; the clear key is shown once to its owner. */
export function hashApiKey(key: string): string {
  // The one-shot form: every API request hashes its key, and a Hash object per call costs twice as much.
  return hash('sha256', key, 'hex');
}

/** The part of a key that may be shown in lists and logs to recognise it. */
export function displayPrefix(key: string): string {
  return key.slice(0, keyPrefix.length + 4);
}
