import { createReadStream, existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';

/**
 * Reads server logs the way an attacker who got hold of them would: looking for anything that
 * works as a credential. Used by test/run-tests.ts on every log of a whole `npm test` run, and by
 * test/production/request-logs.test.ts on one server's log.
 */

// Credentials we generate, by their shape (src/modules/accounts/api-key.ts, supply.service.ts,
// webhook-signature.ts, support.service.ts): found even when no test recorded them.
const credentialShapes: { name: string; pattern: RegExp }[] = [
  { name: 'an API key', pattern: /(?<![\w-])nova_[A-Za-z0-9_-]{32}(?![\w-])/ },
  { name: 'a provider secret', pattern: /(?<![\w-])nps_[A-Za-z0-9_-]{32}(?![\w-])/ },
  { name: 'a webhook secret', pattern: /(?<![\w-])whsec_[0-9a-f]{48}(?![\w-])/ },
  { name: 'a chat visitor token', pattern: /(?<![\w-])nv_[A-Za-z0-9_-]{32}(?![\w-])/ },
];

export interface LogFinding {
  file: string;
  line: number;
  problem: string;
}

export interface LogScan {
  files: number;
  lines: number;
  findings: LogFinding[];
}

/** A credential, shown enough to recognise it in a test's output and no more. */
const masked = (secret: string) => `${secret.slice(0, 6)}…(${secret.length} chars)`;

/** Looks for known credentials in log lines: token-like ones by word, others (passwords with spaces) by substring. */
export function secretMatcher(secrets: Iterable<string>) {
  const words = new Set<string>();
  const phrases: string[] = [];
  for (const secret of secrets) {
    if (/^[A-Za-z0-9_-]+$/.test(secret)) words.add(secret);
    else phrases.push(secret, JSON.stringify(secret).slice(1, -1));
  }
  return (line: string): string | undefined => {
    if (words.size > 0) for (const word of line.split(/[^A-Za-z0-9_-]+/)) if (words.has(word)) return word;
    return phrases.find((phrase) => line.includes(phrase));
  };
}

/**
 * What is wrong with one log line, if anything: not JSON, a request line (Fastify's `req`/`res`
 * lines) without a request id, a credential by its shape, or one of `findSecret`'s.
 */
export function problemOf(text: string, findSecret: (line: string) => string | undefined): string | undefined {
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(text);
  } catch {
    return 'not a JSON line';
  }
  if (('req' in entry || 'res' in entry) && (typeof entry.reqId !== 'string' || entry.reqId === '')) return 'a request line without reqId';
  for (const { name, pattern } of credentialShapes) {
    const match = pattern.exec(text);
    if (match) return `${name} (${masked(match[0])})`;
  }
  const secret = findSecret(text);
  if (secret) return `a credential a test created or received (${masked(secret)})`;
  return undefined;
}

/** Scans one log file line by line (streamed: a full run's logs are large). */
export async function scanLogFile(file: string, findSecret: (line: string) => string | undefined, into: LogScan) {
  const lines = createInterface({ input: createReadStream(file, 'utf8'), crlfDelay: Infinity });
  let number = 0;
  for await (const text of lines) {
    number++;
    if (text === '') continue;
    const problem = problemOf(text, findSecret);
    if (problem) into.findings.push({ file, line: number, problem });
  }
  into.files++;
  into.lines += number;
}

/** Every `*.log` in `dir` against the shapes above and the `secrets-*.txt` the test helpers recorded there. */
export async function scanLogDir(dir: string): Promise<LogScan & { secrets: number }> {
  const names = existsSync(dir) ? readdirSync(dir) : [];
  const secrets = new Set(
    names
      .filter((name) => /^secrets-\d+\.txt$/.test(name))
      .flatMap((name) => readFileSync(path.join(dir, name), 'utf8').split('\n'))
      .filter((secret) => secret !== ''),
  );
  const findSecret = secretMatcher(secrets);
  const scan: LogScan = { files: 0, lines: 0, findings: [] };
  for (const name of names.filter((n) => n.endsWith('.log')).sort()) await scanLogFile(path.join(dir, name), findSecret, scan);
  return { ...scan, secrets: secrets.size };
}
