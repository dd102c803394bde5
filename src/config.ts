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
  NOVA_DEMO_SMS_DELAY_S: z.coerce.number().min(0).default(5),
  NOVA_ACTIVATION_LIFETIME_S: z.coerce.number().int().min(1).default(1200),
  NOVA_CANCEL_AFTER_S: z.coerce.number().int().min(0).default(180),
  NOVA_RATE_LIMIT_RPS: z.coerce.number().int().min(1).default(30),
  NOVA_RATE_LIMIT_BURST: z.coerce.number().int().min(1).default(60),
  NOVA_SWEEP_INTERVAL_MS: z.coerce.number().int().min(10).default(1000),
  NOVA_BODY_LIMIT_BYTES: z.coerce.number().int().min(1024).default(64 * 1024),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
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
  demoSmsDelaySeconds: number;
  activationLifetimeSeconds: number;
  cancelAfterSeconds: number;
  rateLimit: { requestsPerSecond: number; burst: number };
  sweepIntervalMs: number;
  bodyLimitBytes: number;
  logLevel: string;
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
    demoSmsDelaySeconds: e.NOVA_DEMO_SMS_DELAY_S,
    activationLifetimeSeconds: e.NOVA_ACTIVATION_LIFETIME_S,
    cancelAfterSeconds: e.NOVA_CANCEL_AFTER_S,
    rateLimit: { requestsPerSecond: e.NOVA_RATE_LIMIT_RPS, burst: e.NOVA_RATE_LIMIT_BURST },
    sweepIntervalMs: e.NOVA_SWEEP_INTERVAL_MS,
    bodyLimitBytes: e.NOVA_BODY_LIMIT_BYTES,
    logLevel: e.LOG_LEVEL,
  };
}
