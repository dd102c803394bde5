import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * SMS Gateway for Android (capcom6/android-sms-gateway) signs every webhook: `X-Signature` is the
 * hex HMAC-SHA256, keyed with the signing key set in the app (Settings → Webhooks → Signing Key),
 * of the raw request body followed by the `X-Timestamp` header (Unix seconds).
 */
export function signGatewayWebhook(signingKey: string, rawBody: string, timestamp: string): string {
  return createHmac('sha256', signingKey).update(rawBody + timestamp).digest('hex');
}

/** Constant-time check of a webhook's `X-Signature`. */
export function isValidGatewaySignature(signingKey: string, rawBody: string, timestamp: string, signature: string): boolean {
  const expected = Buffer.from(signGatewayWebhook(signingKey, rawBody, timestamp), 'utf8');
  const given = Buffer.from(signature.toLowerCase(), 'utf8');
  return given.length === expected.length && timingSafeEqual(given, expected);
}
