import { z } from 'zod';

/** Accepts the usual spellings of a boolean in an environment variable. */
const envBoolean = z
  .enum(['1', '0', 'true', 'false', 'yes', 'no', 'on', 'off'])
  .transform((value) => ['1', 'true', 'yes', 'on'].includes(value));

const configSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  HOST: z.string().default('0.0.0.0'),
  NOVA_DATA_DIR: z.string().default('./data'),
  DATABASE_URL: z.string().url().optional(),
  REDIS_URL: z.string().url().optional(),
  NOVA_DEMO: envBoolean.optional(),
  NOVA_DEMO_PAYMENTS: envBoolean.optional(),
  NOVA_TRUST_PROXY: envBoolean.default(false),
  NOVA_BATCH_WRITES: envBoolean.default(true),
  NOVA_COOKIE_SECURE: envBoolean.optional(),
  NOVA_DEMO_SMS_DELAY_S: z.coerce.number().min(0).default(5),
  NOVA_ACTIVATION_LIFETIME_S: z.coerce.number().int().min(1).default(1200),
  NOVA_CANCEL_AFTER_S: z.coerce.number().int().min(0).default(180),
  NOVA_RENTAL_CANCEL_WINDOW_S: z.coerce.number().int().min(0).default(1200),
  NOVA_REUSE_WINDOW_S: z.coerce.number().int().min(0).default(86_400),
  NOVA_REPORT_REFUND_MAX_SHARE: z.coerce.number().min(0).max(1).default(0.2),
  NOVA_REPORT_REFUND_MIN_PURCHASES: z.coerce.number().int().min(0).default(20),
  NOVA_RATE_LIMIT_RPS: z.coerce.number().int().min(1).default(30),
  NOVA_RATE_LIMIT_BURST: z.coerce.number().int().min(1).default(60),
  NOVA_SIGNIN_WINDOW_S: z.coerce.number().int().min(1).default(900),
  NOVA_SIGNIN_FAILURES_PER_ACCOUNT: z.coerce.number().int().min(1).default(10),
  NOVA_SIGNIN_FAILURES_PER_IP: z.coerce.number().int().min(1).default(30),
  NOVA_NEW_ACCOUNTS_PER_IP: z.coerce.number().int().min(1).default(20),
  NOVA_PASSWORD_HASH_CONCURRENCY: z.coerce.number().int().min(1).default(2),
  NOVA_PASSWORD_HASH_QUEUE: z.coerce.number().int().min(0).default(32),
  // log2 of scrypt's N for new password hashes; 17 is OWASP's minimum (tests use less to run fast).
  NOVA_PASSWORD_HASH_COST: z.coerce.number().int().min(10).max(20).default(17),
  NOVA_SWEEP_INTERVAL_MS: z.coerce.number().int().min(10).default(1000),
  NOVA_CHAT_RETENTION_DAYS: z.coerce.number().int().min(1).max(3650).default(30),
  NOVA_WEBHOOK_LOG_RETENTION_DAYS: z.coerce.number().int().min(1).max(3650).default(30),
  NOVA_RECEIPT_RETENTION_DAYS: z.coerce.number().int().min(1).max(3650).default(30),
  NOVA_BODY_LIMIT_BYTES: z.coerce.number().int().min(1024).default(64 * 1024),
  NOVA_WEBHOOKS_ALLOW_HTTP_LOOPBACK: envBoolean.default(false),
  NOVA_WEBHOOK_INTERVAL_MS: z.coerce.number().int().min(10).default(1000),
  NOVA_NUMBER_MAX_FAILURES: z.coerce.number().int().min(1).default(3),
  NOVA_PROVIDER_MAX_FAILURES: z.coerce.number().int().min(1).default(10),
  NOVA_CANCEL_COOLDOWN_S: z.coerce.number().int().min(0).default(600),
  NOVA_GATEWAY_MAX_SKEW_S: z.coerce.number().int().min(1).default(300),
  NOVA_REMOTE_TIMEOUT_MS: z.coerce.number().int().min(100).default(3000),
  NOVA_REMOTE_POLL_MS: z.coerce.number().int().min(100).default(15000),
  NOVA_PUBLIC_URL: z.string().url().optional(),
  NOVA_SECRET: z.string().min(16).optional(),
  NOVA_SMTP_URL: z.string().url().optional(),
  NOVA_SMTP_FROM: z.string().default('Nova SMS <no-reply@nova-sms.local>'),
  STRIPE_SECRET_KEY: z.string().optional(),
  STRIPE_WEBHOOK_SECRET: z.string().optional(),
  NOVA_STRIPE_API_URL: z.string().url().optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  LOG_FILE: z.string().min(1).optional(),
  // Empty counts as unset: compose files pass `NOVA_METRICS_TOKEN: ${NOVA_METRICS_TOKEN:-}`.
  NOVA_METRICS_TOKEN: z.preprocess((value) => (value === '' ? undefined : value), z.string().min(16, 'use at least 16 random characters').optional()),
  NOVA_METRICS_PORT: z.preprocess((value) => (value === '' ? undefined : value), z.coerce.number().int().min(0).max(65535).optional()),
});

export interface Config {
  port: number;
  host: string;
  dataDir: string;
  /** PostgreSQL server URL; when absent the embedded PGlite database under dataDir is used. */
  databaseUrl?: string;
  redisUrl?: string;
  /** Demo catalog and demo supply; on by default only on the embedded database. */
  demo: boolean;
  /** The demo payment provider (credits top-ups without payment); defaults to `demo`. */
  demoPayments: boolean;
  /** Trust X-Forwarded-* headers (only behind a reverse proxy that sets them). */
  trustProxy: boolean;
  /** Answers written in one turn of the event loop are sent together at its end (src/http/write-batching.ts). */
  batchWrites: boolean;
  /**
   * Session and CSRF cookies (website and console) carry `Secure` whatever the request's protocol:
   * behind a TLS proxy the request we see is plain HTTP. On by default outside demo mode.
   */
  cookieSecure: boolean;
  demoSmsDelaySeconds: number;
  activationLifetimeSeconds: number;
  cancelAfterSeconds: number;
  /** Rentals: how long after renting a cancel (before any SMS) is refunded in full. */
  rentalCancelWindowSeconds: number;
  /** POST /activations/{id}/reuse: how long after a completed activation finished its number can be taken again. */
  reuseWindowSeconds: number;
  /**
   * POST /activations/{id}/report: a `used`/`blocked` report refunds at once unless the company,
   * with at least `minPurchases` purchases in the last 30 days, would have more than `maxShare`
   * of them refunded by reports (then the report is kept, the activation waits as usual).
   */
  reportRefundGuard: { maxShare: number; minPurchases: number };
  rateLimit: { requestsPerSecond: number; burst: number };
  /**
   * Password guessing (website and console): failed sign-ins per account (from any address) and
   * per address (for any account) within one window; new accounts (sign-up, invite acceptance)
   * per address per hour.
   */
  signInLimits: { windowSeconds: number; failuresPerAccount: number; failuresPerIp: number; newAccountsPerIpPerHour: number };
  /** Password hashes (128 MiB scrypt each) running at once in this process, and waiting; beyond that 429. */
  passwordHashing: { concurrency: number; queue: number; costLog2: number };
  sweepIntervalMs: number;
  /** Closed chats of anonymous visitors are deleted this many days after closing. */
  chatRetentionDays: number;
  /**
   * Old records deleted by the retention job: finished webhook deliveries (the customers' delivery
   * log) and receipts of incoming provider webhooks (event ids that drop a retried delivery), after
   * this many days. Gateway replay records (signatures) live twice NOVA_GATEWAY_MAX_SKEW_S.
   */
  retention: { webhookLogDays: number; receiptDays: number };
  /** Webhooks: http://127.0.0.1 / localhost endpoints allowed (development, tests); how often due deliveries are sent. */
  webhooks: { allowHttpLoopback: boolean; intervalMs: number };
  bodyLimitBytes: number;
  logLevel: string;
  /** Append the JSON log lines to this file instead of writing them to stdout. */
  logFile?: string;
  /** Base URL of the website for links in emails; without it, the address the server listens on. */
  publicUrl?: string;
  /** Seals secrets kept for the website (API keys shown in full); a file in dataDir when unset. */
  secret?: string;
  /** SMTP server for emails; without it emails stay in the database outbox (`email:outbox` reads them). */
  smtp: { url?: string; from: string };
  /** Stripe Checkout for top-ups; without a secret key the demo payment provider (demo mode only) credits instantly. */
  stripe?: { secretKey: string; webhookSecret?: string; apiUrl?: string };
  /**
   * GET /metrics (Prometheus): on the app's port for `Authorization: Bearer <token>`, and/or
   * without a token on a port of its own (for a private network). Off when neither is set.
   */
  metrics: { token?: string; port?: number };
  /** Supply operations: disable a number after this many rentals in a row without SMS; rest a cancelled number this long. */
  supply: {
    maxNumberFailures: number;
    /** Disable a whole provider after this many failures (rentals without SMS, or failed calls for remote sources). */
    maxProviderFailures: number;
    cancelCooldownSeconds: number;
    gatewayMaxSkewSeconds: number;
    /** SIM-bank agents (SMSHub protocol): answer timeout, and how often stock is polled and finishes retried. */
    remoteTimeoutMs: number;
    remotePollMs: number;
  };
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = configSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
    throw new Error(`Invalid configuration:\n  ${problems.join('\n  ')}`);
  }
  const e = parsed.data;
  return {
    port: e.PORT,
    host: e.HOST,
    dataDir: e.NOVA_DATA_DIR,
    databaseUrl: e.DATABASE_URL,
    redisUrl: e.REDIS_URL,
    demo: e.NOVA_DEMO ?? !e.DATABASE_URL,
    demoPayments: e.NOVA_DEMO_PAYMENTS ?? e.NOVA_DEMO ?? !e.DATABASE_URL,
    trustProxy: e.NOVA_TRUST_PROXY,
    batchWrites: e.NOVA_BATCH_WRITES,
    cookieSecure: e.NOVA_COOKIE_SECURE ?? !(e.NOVA_DEMO ?? !e.DATABASE_URL),
    demoSmsDelaySeconds: e.NOVA_DEMO_SMS_DELAY_S,
    activationLifetimeSeconds: e.NOVA_ACTIVATION_LIFETIME_S,
    cancelAfterSeconds: e.NOVA_CANCEL_AFTER_S,
    rentalCancelWindowSeconds: e.NOVA_RENTAL_CANCEL_WINDOW_S,
    reuseWindowSeconds: e.NOVA_REUSE_WINDOW_S,
    reportRefundGuard: { maxShare: e.NOVA_REPORT_REFUND_MAX_SHARE, minPurchases: e.NOVA_REPORT_REFUND_MIN_PURCHASES },
    rateLimit: { requestsPerSecond: e.NOVA_RATE_LIMIT_RPS, burst: e.NOVA_RATE_LIMIT_BURST },
    signInLimits: {
      windowSeconds: e.NOVA_SIGNIN_WINDOW_S,
      failuresPerAccount: e.NOVA_SIGNIN_FAILURES_PER_ACCOUNT,
      failuresPerIp: e.NOVA_SIGNIN_FAILURES_PER_IP,
      newAccountsPerIpPerHour: e.NOVA_NEW_ACCOUNTS_PER_IP,
    },
    passwordHashing: { concurrency: e.NOVA_PASSWORD_HASH_CONCURRENCY, queue: e.NOVA_PASSWORD_HASH_QUEUE, costLog2: e.NOVA_PASSWORD_HASH_COST },
    sweepIntervalMs: e.NOVA_SWEEP_INTERVAL_MS,
    chatRetentionDays: e.NOVA_CHAT_RETENTION_DAYS,
    retention: { webhookLogDays: e.NOVA_WEBHOOK_LOG_RETENTION_DAYS, receiptDays: e.NOVA_RECEIPT_RETENTION_DAYS },
    webhooks: { allowHttpLoopback: e.NOVA_WEBHOOKS_ALLOW_HTTP_LOOPBACK, intervalMs: e.NOVA_WEBHOOK_INTERVAL_MS },
    bodyLimitBytes: e.NOVA_BODY_LIMIT_BYTES,
    logLevel: e.LOG_LEVEL,
    logFile: e.LOG_FILE,
    publicUrl: e.NOVA_PUBLIC_URL?.replace(/\/+$/, ''),
    secret: e.NOVA_SECRET,
    smtp: { url: e.NOVA_SMTP_URL, from: e.NOVA_SMTP_FROM },
    stripe: e.STRIPE_SECRET_KEY
      ? { secretKey: e.STRIPE_SECRET_KEY, webhookSecret: e.STRIPE_WEBHOOK_SECRET, apiUrl: e.NOVA_STRIPE_API_URL }
      : undefined,
    metrics: { token: e.NOVA_METRICS_TOKEN, port: e.NOVA_METRICS_PORT },
    supply: {
      maxNumberFailures: e.NOVA_NUMBER_MAX_FAILURES,
      maxProviderFailures: e.NOVA_PROVIDER_MAX_FAILURES,
      cancelCooldownSeconds: e.NOVA_CANCEL_COOLDOWN_S,
      gatewayMaxSkewSeconds: e.NOVA_GATEWAY_MAX_SKEW_S,
      remoteTimeoutMs: e.NOVA_REMOTE_TIMEOUT_MS,
      remotePollMs: e.NOVA_REMOTE_POLL_MS,
    },
  };
}
