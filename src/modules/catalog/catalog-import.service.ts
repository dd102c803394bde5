import type { Clock } from '../../clock.ts';
import type { Database, Db } from '../../db/database.ts';
import { AppError } from '../../http/errors.ts';
import type { Actor, AuditService } from '../audit/audit.service.ts';
import { type ChangeContext, type ChangeResult, putCountry, putOperator, putService } from './catalog-admin.service.ts';
import { type CatalogFileFormat, type CatalogFileRow, guessFormat, parseCatalogFile } from './catalog-file.ts';
import { type PairLookup, putPrice, putRule } from './pricing.service.ts';

/**
 * Applies a catalog file (catalog-file.ts) as one transaction: every row is brought to what the
 * file says (so importing the same file twice changes nothing the second time), each change is
 * audited, and one bad row means nothing at all is applied.
 */

export interface ImportChange {
  /** "line 4" (CSV) or "prices[2]" (JSON). */
  where: string;
  kind: CatalogFileRow['kind'];
  key: string;
  result: ChangeResult;
}

export interface ImportReport {
  applied: boolean;
  created: number;
  updated: number;
  unchanged: number;
  changes: ImportChange[];
}

export type CatalogImport = (
  actor: Actor,
  input: { content: string; format?: CatalogFileFormat; fileName?: string; dryRun?: boolean },
) => Promise<ImportReport>;

function keyOf(row: CatalogFileRow): string {
  switch (row.kind) {
    case 'service':
      return row.code;
    case 'country':
      return String(row.id);
    case 'operator':
      return `${row.countryId}:${row.code}`;
    case 'price':
      return row.operator === undefined ? `${row.serviceCode}:${row.countryId}` : `${row.serviceCode}:${row.countryId}:${row.operator}`;
    case 'markup':
      return `${row.serviceCode}:${row.countryId}`;
  }
}

// Entries before the prices that name them, whatever the order in the file.
const applyOrder: CatalogFileRow['kind'][] = ['service', 'country', 'operator', 'price', 'markup'];

/** Problems visible from the file alone: the same entry twice, a price and a markup rule for one pair. */
function crossCheck(rows: CatalogFileRow[]): string[] {
  const errors: string[] = [];
  const seen = new Map<string, string>();
  for (const row of rows) {
    const ids = [`${row.kind}:${keyOf(row)}`];
    if (row.kind === 'country') ids.push(`iso:${row.iso}`);
    // A typed price makes the rule manual, a markup rule sets the price: one or the other.
    if (row.kind === 'markup' || (row.kind === 'price' && row.operator === undefined)) ids.push(`pair:${keyOf(row)}`);
    for (const id of ids) {
      const first = seen.get(id);
      if (first) errors.push(`${row.where}: ${row.kind} ${keyOf(row)} conflicts with ${first} (one entry per ${id.split(':')[0] === 'pair' ? 'service × country: a price or a markup' : id.split(':')[0]})`);
      else seen.set(id, row.where);
    }
  }
  return errors;
}

/** "line 3: …" before "line 10: …"; JSON places ("prices[2]: …") keep their order. */
function sortByPlace(messages: string[]): string[] {
  const lineOf = (m: string) => Number(/^line (\d+)/.exec(m)?.[1] ?? Number.MAX_SAFE_INTEGER);
  return messages.map((m, i) => ({ m, i })).sort((a, b) => lineOf(a.m) - lineOf(b.m) || a.i - b.i).map(({ m }) => m);
}

class DryRunRollback extends Error {}

function refuse(errors: string[]): never {
  const shown = errors.slice(0, 20).join('; ');
  const more = errors.length > 20 ? ` … and ${errors.length - 20} more` : '';
  throw new AppError('invalid_request', `Nothing was imported: ${shown}${more}`);
}

export function createCatalogImport(deps: {
  database: Database;
  clock: Clock;
  audit: AuditService;
  supplyCosts: PairLookup;
  /** See createCatalogAdmin; a dry run rolls back, so it announces nothing. */
  catalogChanged: (tx: Db) => void;
}): CatalogImport {
  const { database, clock, audit, supplyCosts, catalogChanged } = deps;

  return async (actor, input) => {
    const format = input.format ?? guessFormat(input.content, input.fileName);
    const parsed = await parseCatalogFile(input.content, format);
    // Rows that parsed are still tried (and rolled back) so one answer names every problem.
    const errors = [...parsed.errors, ...crossCheck(parsed.rows)];
    // An operator's price after its pair's own price.
    const rank = (row: CatalogFileRow) => applyOrder.indexOf(row.kind) * 2 + (row.kind === 'price' && row.operator !== undefined ? 1 : 0);
    const rows = [...parsed.rows].sort((a, b) => rank(a) - rank(b));
    const markups = rows.flatMap((row) => (row.kind === 'markup' ? [row] : []));
    const costs = markups.length > 0 ? await supplyCosts(markups) : new Map<string, number>();
    const reason = `catalog import${input.fileName ? ` (${input.fileName})` : ''}`;

    const apply = (ctx: ChangeContext, row: CatalogFileRow): Promise<ChangeResult> => {
      switch (row.kind) {
        case 'service':
          return putService(ctx, row);
        case 'country':
          return putCountry(ctx, row);
        case 'operator':
          return putOperator(ctx, row);
        case 'price':
          return putPrice(ctx, row);
        case 'markup':
          return putRule(ctx, { ...row, mode: 'markup' }, costs.get(`${row.serviceCode}:${row.countryId}`) ?? null);
      }
    };

    let report: ImportReport | undefined;
    try {
      await database.transaction(async (tx) => {
        catalogChanged(tx);
        const ctx: ChangeContext = { tx, actor, audit, now: clock.now(), reason };
        const changes: ImportChange[] = [];
        const problems: string[] = [];
        for (const row of rows) {
          try {
            changes.push({ where: row.where, kind: row.kind, key: keyOf(row), result: await apply(ctx, row) });
          } catch (error) {
            if (!(error instanceof AppError)) throw error;
            problems.push(`${row.where}: ${error.message}`);
          }
        }
        // Throwing rolls back every row already applied.
        if (errors.length + problems.length > 0) refuse(sortByPlace([...errors, ...problems]));
        const count = (result: ChangeResult) => changes.filter((c) => c.result === result).length;
        changes.sort((a, b) => parsed.rows.findIndex((r) => r.where === a.where) - parsed.rows.findIndex((r) => r.where === b.where));
        report = { applied: !input.dryRun, created: count('created'), updated: count('updated'), unchanged: count('unchanged'), changes };
        if (input.dryRun) throw new DryRunRollback();
      });
    } catch (error) {
      if (!(error instanceof DryRunRollback)) throw error;
    }
    return report!;
  };
}
