import { type ChildProcess, spawn } from 'node:child_process';
import { appendFileSync, readFileSync } from 'node:fs';
import path from 'node:path';

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
