import { execFile, execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './local-services.ts';

const run = promisify(execFile);

/**
 * A throwaway PostgreSQL server of the test's own (initdb + pg_ctl from the machine's PostgreSQL
 * binaries), so a test can stop and start the database under a running app without touching the
 * shared server every other test uses.
 */
export interface PostgresCluster {
  url: string;
  port: number;
  /** Stops the server as a crash would (`pg_ctl stop -m immediate`): connections drop at once. */
  stop(): Promise<void>;
  /**
   * Stops it the same way with this process's event loop blocked until the server is gone: the
   * app's idle connections are dead but it has not seen their sockets close yet, so its next
   * query certainly meets a dead connection (the moment between a crash and noticing it).
   */
  stopUnnoticed(): void;
  /** Starts it again on the same port and waits until it accepts connections. */
  start(): Promise<void>;
  /** Stops it (if running) and deletes its files; safe to call more than once. */
  destroy(): Promise<void>;
}

/** The newest `/usr/lib/postgresql/<version>/bin` with initdb, or NOVA_TEST_PG_BIN; undefined when none. */
export function findPostgresBinaries(): string | undefined {
  if (process.env.NOVA_TEST_PG_BIN) return process.env.NOVA_TEST_PG_BIN;
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root)
    .filter((version) => existsSync(path.join(root, version, 'bin', 'initdb')))
    .sort((a, b) => Number(b) - Number(a));
  return versions.length > 0 ? path.join(root, versions[0], 'bin') : undefined;
}

/** Why a private cluster cannot run here, for a skip message; undefined when it can. */
export function postgresClusterUnavailable(): string | undefined {
  if (!findPostgresBinaries()) return 'no PostgreSQL server binaries (initdb, pg_ctl) under /usr/lib/postgresql; set NOVA_TEST_PG_BIN';
  if (process.getuid?.() === 0 && !postgresUser()) return 'running as root and there is no "postgres" user to run initdb as';
  return undefined;
}

// initdb and postgres refuse to run as root: as root, run them as the postgres user.
function postgresUser(): { uid: number; gid: number } | undefined {
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((entry) => entry.startsWith('postgres:'));
  if (!line) return undefined;
  const [, , uid, gid] = line.split(':');
  return { uid: Number(uid), gid: Number(gid) };
}

export async function startPostgresCluster(): Promise<PostgresCluster> {
  const bin = findPostgresBinaries();
  if (!bin) throw new Error('No PostgreSQL binaries found');
  const asRoot = process.getuid?.() === 0;
  const owner = asRoot ? postgresUser() : undefined;
  if (asRoot && !owner) throw new Error('Running as root without a postgres user');
  const dir = mkdtempSync(path.join(os.tmpdir(), 'nova-pg-cluster-'));
  if (owner) chownSync(dir, owner.uid, owner.gid);
  const dataDir = path.join(dir, 'data');
  const port = await freePort();
  // Asynchronous on purpose: the app under test runs in this process and must keep serving.
  const pg = (tool: string, args: string[]) =>
    owner ? run('runuser', ['-u', 'postgres', '--', path.join(bin, tool), ...args]) : run(path.join(bin, tool), args);

  let running = false;
  const start = async () => {
    // The socket lives in the cluster's folder: no clash with the machine's server in /var/run.
    const serverOptions = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off`;
    await pg('pg_ctl', ['start', '-D', dataDir, '-l', path.join(dir, 'server.log'), '-w', '-t', '30', '-o', serverOptions]);
    running = true;
  };
  const stopArgs = ['stop', '-D', dataDir, '-m', 'immediate', '-w'];
  const stop = async () => {
    await pg('pg_ctl', stopArgs);
    running = false;
  };

  try {
    await pg('initdb', ['-D', dataDir, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--locale=C', '--no-sync', '--no-instructions']);
    await start();
  } catch (error) {
    if (running) await stop().catch(() => {});
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }

  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    port,
    stop,
    stopUnnoticed() {
      const tool = path.join(bin, 'pg_ctl');
      execFileSync(owner ? 'runuser' : tool, owner ? ['-u', 'postgres', '--', tool, ...stopArgs] : stopArgs, { stdio: 'ignore' });
      running = false;
    },
    start,
    async destroy() {
      if (running) await stop().catch(() => {});
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
