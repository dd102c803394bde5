import type { ImportReport } from '../modules/catalog/catalog-import.service.ts';

/** An import report for the terminal: the totals, then one line per entry that changed. */
export function describeImport(report: ImportReport): string {
  const head = `${report.applied ? 'Applied' : 'Dry run (nothing applied)'}: ${report.created} created, ${report.updated} updated, ${report.unchanged} unchanged`;
  const lines = report.changes.filter((c) => c.result !== 'unchanged').map((c) => `  ${c.where}: ${c.kind} ${c.key} ${c.result}`);
  return [head, ...lines].join('\n');
}
