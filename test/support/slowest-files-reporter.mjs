/**
 * A node:test reporter that prints, when a run ends, the files that took longest (the sum of their
 * top-level tests, hooks included). npm test must stay under ~15 minutes on 2 cores; this says where
 * the time goes without a second run.
 *
 * Plain JavaScript: node loads reporters before `--import tsx` applies.
 */

// NOVA_TEST_SLOWEST=200 lists every file (to decide what runs where).
const shown = Number(process.env.NOVA_TEST_SLOWEST ?? 15);

/** @param {AsyncIterable<{ type: string, data: { nesting?: number, file?: string, details?: { duration_ms?: number } } }>} source */
export default async function* slowestFiles(source) {
  const perFile = new Map();
  for await (const event of source) {
    if (event.type !== 'test:pass' && event.type !== 'test:fail') continue;
    const { nesting, file, details } = event.data;
    if (nesting !== 0 || !file || details?.duration_ms === undefined) continue;
    perFile.set(file, (perFile.get(file) ?? 0) + details.duration_ms);
  }
  const slowest = [...perFile].sort((a, b) => b[1] - a[1]).slice(0, shown);
  const total = [...perFile.values()].reduce((sum, ms) => sum + ms, 0);
  yield `\nSlowest ${slowest.length} of ${perFile.size} files (test time ${(total / 1000).toFixed(0)} s over all files):\n`;
  for (const [file, ms] of slowest) yield `${(ms / 1000).toFixed(1).padStart(7)} s  ${file.replace(process.cwd() + '/', '')}\n`;
}
