import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Compiles the server (src/) to JavaScript in dist/ with tsconfig.build.json, and copies what the
 * compiled code reads next to it (the SQL migrations). `npm run build` runs it; `npm start` builds
 * when stale (scripts/build-if-stale.ts), so a fresh clone still needs only `npm install && npm start`.
 */
const root = path.resolve(import.meta.dirname, '..');
const distDir = path.join(root, 'dist');
/** What `npm start` and the Docker image run. */
export const serverEntry = path.join(distDir, 'main.js');
// Written last: its time says when a complete build landed.
const stampFile = path.join(distDir, '.build-stamp');
const lockDir = path.join(root, '.dist-build-lock');

function newestSourceTime(): number {
  const sources = ['tsconfig.json', 'tsconfig.build.json', 'package-lock.json'].map((file) => path.join(root, file));
  for (const file of readdirSync(path.join(root, 'src'), { recursive: true, encoding: 'utf8' })) {
    sources.push(path.join(root, 'src', file));
  }
  return Math.max(...sources.filter((file) => existsSync(file)).map((file) => statSync(file).mtimeMs));
}

export function serverBuildIsStale(): boolean {
  return !existsSync(stampFile) || !existsSync(serverEntry) || statSync(stampFile).mtimeMs < newestSourceTime();
}

/**
 * Builds into a folder of its own and then swaps it in, so a server already running from dist/
 * (or a test starting one) never sees a half-written tree.
 */
export function buildServer(): void {
  const staging = `${distDir}.tmp-${process.pid}`;
  rmSync(staging, { recursive: true, force: true });
  const tsc = path.join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  const result = spawnSync(process.execPath, [tsc, '-p', path.join(root, 'tsconfig.build.json'), '--outDir', staging], {
    cwd: root,
    stdio: 'inherit',
  });
  if (result.status !== 0) {
    rmSync(staging, { recursive: true, force: true });
    throw new Error(`the server build failed (tsc exited with ${result.status}); see the errors above`);
  }
  // Drizzle's migrator reads the SQL files and meta/_journal.json from next to database.js.
  cpSync(path.join(root, 'src', 'db', 'migrations'), path.join(staging, 'db', 'migrations'), { recursive: true });
  writeFileSync(path.join(staging, '.build-stamp'), `${new Date().toISOString()}\n`);
  const old = `${distDir}.old-${process.pid}`;
  if (existsSync(distDir)) renameSync(distDir, old);
  renameSync(staging, distDir);
  rmSync(old, { recursive: true, force: true });
}

/**
 * Builds when dist/ is missing or older than a source file. Several processes may ask at once
 * (tests running in parallel): one builds, the others wait for it and then find the build fresh.
 */
export async function ensureServerBuilt(options: { quiet?: boolean } = {}): Promise<void> {
  if (!serverBuildIsStale()) return;
  const deadline = Date.now() + 180_000;
  for (;;) {
    try {
      mkdirSync(lockDir);
      break;
    } catch {
      // A lock left by a killed build is not held by anyone after a few minutes.
      if (existsSync(lockDir) && Date.now() - statSync(lockDir).mtimeMs > 180_000) rmSync(lockDir, { recursive: true, force: true });
      if (Date.now() > deadline) throw new Error(`another build held ${lockDir} for 3 minutes`);
      await sleep(250);
    }
  }
  try {
    if (!serverBuildIsStale()) return;
    if (!options.quiet) console.log('Building the server (dist/)…');
    buildServer();
  } finally {
    rmSync(lockDir, { recursive: true, force: true });
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  buildServer();
}
