import { appendFileSync } from 'node:fs';
import path from 'node:path';

/**
 * Credentials the tests create or are handed (passwords, API keys, provider and webhook secrets,
 * TOTP secrets, session cookies), written one a line to `secrets-<pid>.txt` in NOVA_TEST_LOG_DIR.
 * test/run-tests.ts then looks for each of them in every server log of the run (see log-scan.ts).
 * Without NOVA_TEST_LOG_DIR (a single test file run by hand) nothing is written.
 */
const logDir = process.env.NOVA_TEST_LOG_DIR;
const recorded = new Set<string>();

/** Records one credential; too short a value would match by chance, so it must have 8 characters. */
export function recordSecret(value: string | null | undefined) {
  if (!logDir || !value || value.length < 8 || /[\r\n]/.test(value) || recorded.has(value)) return;
  recorded.add(value);
  appendFileSync(path.join(logDir, `secrets-${process.pid}.txt`), `${value}\n`);
}

// Fields of our answers that hand out a credential: keys, secrets, tokens.
const credentialField = /(?:^|_)(?:api_?key|secret|signing_?key|token|password)$|(?:apiKey|Secret|Token|Password|signingKey)$/;
// What the server generates: long and without spaces. A value a test chose (often a short
// "wrong password") is recorded by the helper that chose it, if at all.
const credentialShape = /^[\x21-\x7e]{16,}$/;
// A plain `key` is a credential (an SMSHub protocol key) only when it looks random: catalog
// import reports name their rows `key` too ("tg:6").
const randomKey = /^[A-Za-z0-9_-]{16,}$/;

/** Records every credential in a JSON answer, at any depth. */
export function recordSecretsIn(body: unknown, depth = 0) {
  if (!logDir || depth > 6 || body === null || typeof body !== 'object') return;
  for (const [field, value] of Object.entries(body)) {
    if (typeof value === 'string') {
      if ((credentialField.test(field) && credentialShape.test(value)) || (field === 'key' && randomKey.test(value))) recordSecret(value);
    } else {
      recordSecretsIn(value, depth + 1);
    }
  }
}

/** Records the values of cookies the server sets (sessions, CSRF, visitor tokens). */
export function recordCookieSecrets(headers: Headers) {
  if (!logDir) return;
  for (const line of headers.getSetCookie()) {
    const pair = line.split(';')[0];
    const value = pair.slice(pair.indexOf('=') + 1).trim();
    if (credentialShape.test(value)) recordSecret(value);
  }
}
