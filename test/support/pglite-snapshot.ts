import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { type OpenDatabaseOptions, openDatabase } from '../../src/db/database.ts';

/**
 * How test servers on the embedded engine start quickly: from a snapshot of a freshly migrated
 * database and with PGlite's WebAssembly compiled once per process. A new PGlite runs initdb and
 * then every migration, several seconds each time (tens of seconds on a loaded 2-core machine);
 * loading a snapshot skips both. test/run-tests.ts writes one snapshot for the whole run
 * (NOVA_TEST_PGLITE_SNAPSHOT); a test file run on its own makes its own, once per process.
 */
let pending: Promise<NonNullable<OpenDatabaseOptions['pgliteStart']>> | undefined;

export function pgliteStart(): Promise<NonNullable<OpenDatabaseOptions['pgliteStart']>> {
  pending ??= (async () => {
    const dist = path.dirname(createRequire(import.meta.url).resolve('@electric-sql/pglite'));
    const wasmModule = await WebAssembly.compile(readFileSync(path.join(dist, 'pglite.wasm')));
    const fsBundle = new Blob([readFileSync(path.join(dist, 'pglite.data'))]);
    const file = process.env.NOVA_TEST_PGLITE_SNAPSHOT;
    const snapshot = file && existsSync(file) ? new Blob([readFileSync(file)]) : await migratedSnapshot();
    return { snapshot, wasmModule, fsBundle };
  })();
  return pending;
}

/** A dump of an empty database with every migration applied. */
export async function migratedSnapshot(): Promise<Blob> {
  const database = await openDatabase({ dataDir: 'memory://' });
  try {
    return await database.pglite!.dumpDataDir('none');
  } finally {
    await database.close();
  }
}

/** Writes the snapshot the test servers of a run share (test/run-tests.ts, before the PGlite pass). */
export async function writeMigratedSnapshot(file: string): Promise<void> {
  writeFileSync(file, Buffer.from(await (await migratedSnapshot()).arrayBuffer()));
}
