import { type ChildProcess, spawn } from 'node:child_process';
import { appendFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { redisReachable } from '../test/support/local-services.ts';

/**
 * The benchmark's child processes: every server runs in a process of its own, so load generator
 * and server never share an event loop. All of them are killed at the end, on errors and on Ctrl-C.
 */
export const root = path.resolve(import.meta.dirname, '..');

const children = new Set<ChildProcess>();

export interface ServerProcess {
  url: string;
  child: ChildProcess;
  /** warn/error/fatal log lines the server printed so far (pino JSON, level >= 40). */
  problems: string[];
  /** error/fatal lines only (level >= 50), and a note when the process died during the run. */
  errors: string[];
  /** Everything it printed, for the error message when it dies. */
  output: string[];
  stopping: boolean;
}

export function startProcess(args: string[], env: Record<string, string>, urlPattern: RegExp, label: string): Promise<ServerProcess> {
  const child = spawn(process.execPath, args, { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  const server: ServerProcess = { url: '', child, problems: [], errors: [], output: [], stopping: false };
  // BENCH_SERVER_OUTPUT_DIR keeps every line a child printed, a file per process (for diagnosis:
  // --trace-gc and the like in BENCH_SERVER_NODE_FLAGS).
  const outputDir = process.env.BENCH_SERVER_OUTPUT_DIR;
  const outputFile = outputDir ? path.join(outputDir, `${label.replace(/\W+/g, '-')}-${child.pid}.log`) : undefined;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => fail(new Error(`${label} did not start within 60 s`)), 60_000);
    const fail = (error: Error) => {
      clearTimeout(timer);
      reject(new Error(`${error.message}\n--- ${label} output ---\n${server.output.slice(-40).join('\n')}`));
    };
    const onLine = (line: string) => {
      if (outputFile) appendFileSync(outputFile, `${line}\n`);
      if (line.trim() === '') return;
      server.output.push(line);
      if (server.output.length > 2000) server.output.splice(0, 1000);
      if (line.startsWith('{')) {
        try {
          const level = (JSON.parse(line) as { level?: number }).level ?? 0;
          if (level >= 40) server.problems.push(line);
          if (level >= 50) server.errors.push(line);
        } catch {
          // Not a log line: nothing to count.
        }
      }
      const match = !server.url && urlPattern.exec(line);
      if (match) {
        server.url = match[1];
        clearTimeout(timer);
        resolve(server);
      }
    };
    for (const stream of [child.stdout!, child.stderr!]) {
      let pending = '';
      stream.setEncoding('utf8');
      stream.on('data', (chunk: string) => {
        pending += chunk;
        const lines = pending.split('\n');
        pending = lines.pop()!;
        lines.forEach(onLine);
      });
    }
    child.once('error', fail);
    child.once('exit', (code, signal) => {
      children.delete(child);
      if (!server.url) fail(new Error(`${label} exited (${signal ?? `code ${code}`}) before it was ready`));
      else if (!server.stopping) {
        const died = `${label} exited (${signal ?? `code ${code}`}) during the run: ${server.output.slice(-5).join(' | ')}`;
        server.problems.push(died);
        server.errors.push(died);
      }
    });
  });
}

export async function stopProcess(server: ServerProcess): Promise<void> {
  const { child } = server;
  server.stopping = true;
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
  children.delete(child);
}

/** Temp folders and scratch databases to remove even when the run is interrupted. */
export const cleanups = new Set<() => Promise<void>>();

/**
 * A temp folder for one Nova server's files, removed with `also` (its scratch database) by the
 * returned cleanup, or by the exit handlers when the run is interrupted.
 */
export function scratchDataDir(also?: () => Promise<void>): { dataDir: string; cleanup: () => Promise<void> } {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'nova-bench-'));
  const cleanup = async () => {
    cleanups.delete(cleanup);
    rmSync(dataDir, { recursive: true, force: true });
    await also?.();
  };
  cleanups.add(cleanup);
  return { dataDir, cleanup };
}

/** BENCH_REDIS_URL, or the local Redis when it answers; none for BENCH_REDIS_URL=none. */
export async function chooseRedis(): Promise<string | undefined> {
  const configured = process.env.BENCH_REDIS_URL;
  if (configured === 'none') return undefined;
  if (configured) return configured;
  const local = 'redis://127.0.0.1:6379';
  return (await redisReachable(local, 1000)) ? local : undefined;
}

/**
 * What every benchmarked Nova server runs with: production mode, the demo seed and login, its files
 * in `dataDir`, rate limits out of the way, and `database` (DATABASE_URL, REDIS_URL; none for PGlite).
 */
export function novaServerEnv(dataDir: string, database: Record<string, string>): Record<string, string> {
  return {
    NODE_ENV: 'production',
    LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'warn',
    HOST: '127.0.0.1',
    PORT: '0',
    NOVA_DEMO: '1',
    NOVA_DATA_DIR: dataDir,
    // Buy-then-cancel loops need an immediate cancel; no demo SMS during the run. Supply health
    // rules would otherwise take the stock off sale under the loop: a cancelled number cools
    // down for NOVA_CANCEL_COOLDOWN_S, a number cancelled without SMS NOVA_NUMBER_MAX_FAILURES
    // times in a row is disabled, and so is the provider after NOVA_PROVIDER_MAX_FAILURES.
    NOVA_CANCEL_AFTER_S: '0',
    NOVA_CANCEL_COOLDOWN_S: '0',
    NOVA_NUMBER_MAX_FAILURES: '1000000',
    NOVA_PROVIDER_MAX_FAILURES: '1000000',
    NOVA_DEMO_SMS_DELAY_S: '3600',
    NOVA_RATE_LIMIT_RPS: '1000000',
    NOVA_RATE_LIMIT_BURST: '2000000',
    ...database,
  };
}

export function killAllChildren(): void {
  for (const child of children) child.kill('SIGKILL');
}

/** Kills the servers on exit and on Ctrl-C, and drops what `cleanups` holds before leaving. */
export function installExitHandlers(): void {
  process.on('exit', killAllChildren);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      console.error(`\n${signal}: stopping the servers and cleaning up`);
      killAllChildren();
      // The servers are gone, so their databases can be dropped; give up after 10 s.
      const timeout = new Promise((resolve) => setTimeout(resolve, 10_000).unref());
      void Promise.race([Promise.allSettled([...cleanups].map((cleanup) => cleanup())), timeout]).then(() => process.exit(130));
    });
  }
}

/** The resident memory of a process in MB (VmRSS from /proc; Linux only, null elsewhere). */
export function residentMb(pid: number | undefined): number | null {
  if (pid === undefined) return null;
  try {
    const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Math.round((Number(match[1]) / 1024) * 10) / 10 : null;
  } catch {
    return null;
  }
}

/** CPU time a process has used so far, in clock ticks (user + system, from /proc; null elsewhere). */
export function cpuTicks(pid: number | undefined): number | null {
  if (pid === undefined) return null;
  try {
    // The command name (field 2) may hold spaces: count the fields after its closing parenthesis.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return null;
  }
}
