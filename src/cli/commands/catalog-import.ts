import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { AppError } from '../../http/errors.ts';
import { cliActor } from '../../modules/audit/audit.service.ts';
import { describeImport } from '../catalog-report.ts';
import type { OperatorCommand } from '../command.ts';

async function readCatalogFile(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    throw new AppError('invalid_request', `Cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
}

export const catalogImport: OperatorCommand = {
  name: 'catalog:import',
  usage: 'catalog:import [--dry-run] FILE',
  summary: 'Apply a catalog file (CSV or JSON: services, countries, operators, prices, markup rules) in one transaction; idempotent; reports what changed',
  // The file is read where the operator typed the command, even when a running server executes it.
  async prepareArgs(args) {
    // Not strict: whatever else was typed is left for run() to refuse with the usage.
    const { values, positionals } = parseArgs({ args, allowPositionals: true, strict: false, options: { 'dry-run': { type: 'boolean' } } });
    if (positionals.length !== 1) return args;
    const file = String(positionals[0]);
    return ['--content', await readCatalogFile(file), '--file-name', path.basename(file), ...(values['dry-run'] ? ['--dry-run'] : [])];
  },
  async run(services, args) {
    const { values, positionals } = parseArgs({
      args,
      allowPositionals: true,
      options: { content: { type: 'string' }, 'file-name': { type: 'string' }, 'dry-run': { type: 'boolean' } },
    });
    let content = values.content;
    let fileName = values['file-name'];
    if (content === undefined) {
      if (positionals.length !== 1) throw new AppError('invalid_request', 'Name one catalog file, e.g. catalog:import catalog.csv');
      content = await readCatalogFile(positionals[0]!);
      fileName = path.basename(positionals[0]!);
    }
    const report = await services.catalog.importCatalog(cliActor, { content, fileName, dryRun: values['dry-run'] === true });
    return { json: report, text: describeImport(report) };
  },
};
