import { z } from 'zod';
import { AppError } from '../../http/errors.ts';
import type { Money } from '../billing/money.ts';
import {
  checkCountryId,
  checkDialPrefix,
  checkIso,
  checkMargin,
  checkMarkupPercent,
  checkName,
  checkOperatorCode,
  checkPrice,
  checkServiceCode,
} from './catalog-entries.ts';

/**
 * The catalog file of `catalog:import` and the console's import (format in the README,
 * "Catalog file"). CSV, one entry per row, the first field naming its kind:
 *
 *   service,tg,Telegram[,enabled|disabled]
 *   country,6,US[,United States[,1[,enabled|disabled]]]
 *   operator,6,tmobile,T-Mobile[,enabled|disabled]
 *   price,tg,6,0.50[,tmobile]
 *   markup,tg,6,25,0.05            (percent over supply cost, minimum margin in USD)
 *
 * or JSON: { services: [{ code, name, enabled? }], countries: [{ id, iso, name?, prefix?, enabled? }],
 * operators: [{ country, code, name, enabled? }], prices: [{ service, country, price, operator? }],
 * markups: [{ service, country, markup_percent, min_margin }] }.
 * Parsing checks every field and names the line (CSV) or entry (JSON) of each problem.
 */

export type CatalogFileRow = { where: string } & (
  | { kind: 'service'; code: string; name: string; enabled?: boolean }
  | { kind: 'country'; id: number; iso: string; name?: string; dialPrefix?: string; enabled?: boolean }
  | { kind: 'operator'; countryId: number; code: string; name: string; enabled?: boolean }
  | { kind: 'price'; serviceCode: string; countryId: number; price: Money; operator?: string }
  | { kind: 'markup'; serviceCode: string; countryId: number; markupBasisPoints: number; minMargin: Money }
);

export type CatalogFileFormat = 'csv' | 'json';

type Row = CatalogFileRow;
type RowWithoutWhere = Row extends infer R ? (R extends Row ? Omit<R, 'where'> : never) : never;

const kinds = ['service', 'country', 'operator', 'price', 'markup'] as const;
const fieldCounts: Record<(typeof kinds)[number], [number, number, string]> = {
  service: [3, 4, 'service,CODE,NAME[,enabled|disabled]'],
  country: [3, 6, 'country,ID,ISO[,NAME[,PREFIX[,enabled|disabled]]]'],
  operator: [4, 5, 'operator,COUNTRY_ID,CODE,NAME[,enabled|disabled]'],
  price: [4, 5, 'price,SERVICE,COUNTRY_ID,USD[,OPERATOR]'],
  markup: [5, 5, 'markup,SERVICE,COUNTRY_ID,PERCENT,MIN_MARGIN_USD'],
};

function enabledFlag(value: string | undefined): boolean | undefined {
  if (value === undefined || value === '') return undefined;
  if (value === 'enabled') return true;
  if (value === 'disabled') return false;
  throw new AppError('invalid_request', `the last field must be "enabled" or "disabled", not "${value}"`);
}

const optional = (value: string | undefined) => (value === undefined || value === '' ? undefined : value);

function csvRow(fields: string[]): RowWithoutWhere {
  const kind = fields[0] as (typeof kinds)[number];
  if (!kinds.includes(kind)) throw new AppError('invalid_request', `unknown kind "${fields[0]}"; use ${kinds.join(', ')}`);
  const [min, max, shape] = fieldCounts[kind];
  if (fields.length < min || fields.length > max) throw new AppError('invalid_request', `a ${kind} row is ${shape}`);
  const f = (i: number) => fields[i] ?? '';
  switch (kind) {
    case 'service':
      return { kind, code: checkServiceCode(f(1)), name: checkName(f(2), 'service'), enabled: enabledFlag(fields[3]) };
    case 'country': {
      const name = optional(fields[3]);
      const prefix = optional(fields[4]);
      return {
        kind,
        id: checkCountryId(f(1)),
        iso: checkIso(f(2)),
        name: name === undefined ? undefined : checkName(name, 'country'),
        dialPrefix: prefix === undefined ? undefined : checkDialPrefix(prefix),
        enabled: enabledFlag(fields[5]),
      };
    }
    case 'operator':
      return { kind, countryId: checkCountryId(f(1)), code: checkOperatorCode(f(2)), name: checkName(f(3), 'operator'), enabled: enabledFlag(fields[4]) };
    case 'price': {
      const operator = optional(fields[4]);
      return {
        kind,
        serviceCode: checkServiceCode(f(1)),
        countryId: checkCountryId(f(2)),
        price: checkPrice(f(3)),
        operator: operator === undefined ? undefined : checkOperatorCode(operator),
      };
    }
    case 'markup':
      return { kind, serviceCode: checkServiceCode(f(1)), countryId: checkCountryId(f(2)), markupBasisPoints: checkMarkupPercent(f(3)), minMargin: checkMargin(f(4)) };
  }
}

async function parseCsv(content: string, rows: Row[], errors: string[]) {
  // Loaded only when a CSV file is imported: a server that never imports one does not carry it in memory.
  const { CsvError, parse } = await import('csv-parse/sync');
  let records: { record: string[]; info: { lines: number } }[];
  try {
    // With `info: true` each record comes with its line number; the library's types do not model that option.
    records = parse(content, { comment: '#', relax_column_count: true, trim: true, skip_empty_lines: true, info: true, bom: true }) as unknown as typeof records;
  } catch (error) {
    if (error instanceof CsvError) {
      errors.push(`line ${(error.lines as number | undefined) ?? '?'}: ${error.message.replace(/^Invalid [^:]*: /, '')}`);
      return;
    }
    throw error;
  }
  for (const [index, { record, info }] of records.entries()) {
    const where = `line ${info.lines}`;
    // An optional header row ("kind,…") is skipped.
    if (index === 0 && record[0]?.toLowerCase() === 'kind') continue;
    try {
      rows.push({ where, ...csvRow(record) } as Row);
    } catch (error) {
      if (!(error instanceof AppError)) throw error;
      errors.push(`${where}: ${error.message}`);
    }
  }
}

const money = z.union([z.number(), z.string()]);
const enabled = z.boolean().optional();
const JsonFile = z
  .object({
    services: z.array(z.object({ code: z.string(), name: z.string(), enabled }).strict()).optional(),
    countries: z
      .array(z.object({ id: z.number(), iso: z.string(), name: z.string().optional(), prefix: z.string().optional(), enabled }).strict())
      .optional(),
    operators: z.array(z.object({ country: z.number(), code: z.string(), name: z.string(), enabled }).strict()).optional(),
    prices: z.array(z.object({ service: z.string(), country: z.number(), price: money, operator: z.string().optional() }).strict()).optional(),
    markups: z
      .array(z.object({ service: z.string(), country: z.number(), markup_percent: z.union([z.number(), z.string()]), min_margin: money }).strict())
      .optional(),
  })
  .strict();

function parseJson(content: string, rows: Row[], errors: string[]) {
  let value: unknown;
  try {
    value = JSON.parse(content);
  } catch (error) {
    errors.push(`not valid JSON: ${(error as Error).message}`);
    return;
  }
  const parsed = JsonFile.safeParse(value);
  if (!parsed.success) {
    for (const issue of parsed.error.issues.slice(0, 20)) {
      const path = issue.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('').replace(/^\./, '');
      errors.push(`${path || 'file'}: ${issue.message}`);
    }
    return;
  }
  const file = parsed.data;
  const add = (where: string, build: () => RowWithoutWhere) => {
    try {
      rows.push({ where, ...build() } as Row);
    } catch (error) {
      if (!(error instanceof AppError)) throw error;
      errors.push(`${where}: ${error.message}`);
    }
  };
  file.services?.forEach((s, i) => add(`services[${i}]`, () => ({ kind: 'service', code: checkServiceCode(s.code), name: checkName(s.name, 'service'), enabled: s.enabled })));
  file.countries?.forEach((c, i) =>
    add(`countries[${i}]`, () => ({
      kind: 'country',
      id: checkCountryId(c.id),
      iso: checkIso(c.iso),
      name: c.name === undefined ? undefined : checkName(c.name, 'country'),
      dialPrefix: c.prefix === undefined ? undefined : checkDialPrefix(c.prefix),
      enabled: c.enabled,
    })),
  );
  file.operators?.forEach((o, i) =>
    add(`operators[${i}]`, () => ({ kind: 'operator', countryId: checkCountryId(o.country), code: checkOperatorCode(o.code), name: checkName(o.name, 'operator'), enabled: o.enabled })),
  );
  file.prices?.forEach((p, i) =>
    add(`prices[${i}]`, () => ({
      kind: 'price',
      serviceCode: checkServiceCode(p.service),
      countryId: checkCountryId(p.country),
      price: checkPrice(p.price),
      operator: p.operator === undefined ? undefined : checkOperatorCode(p.operator),
    })),
  );
  file.markups?.forEach((m, i) =>
    add(`markups[${i}]`, () => ({
      kind: 'markup',
      serviceCode: checkServiceCode(m.service),
      countryId: checkCountryId(m.country),
      markupBasisPoints: checkMarkupPercent(m.markup_percent),
      minMargin: checkMargin(m.min_margin),
    })),
  );
}

/** JSON when it says so or starts with `{`, CSV otherwise. */
export function guessFormat(content: string, fileName?: string): CatalogFileFormat {
  if (fileName?.toLowerCase().endsWith('.json')) return 'json';
  if (fileName?.toLowerCase().endsWith('.csv')) return 'csv';
  return content.trimStart().startsWith('{') ? 'json' : 'csv';
}

export async function parseCatalogFile(content: string, format: CatalogFileFormat): Promise<{ rows: CatalogFileRow[]; errors: string[] }> {
  const rows: Row[] = [];
  const errors: string[] = [];
  if (format === 'json') parseJson(content, rows, errors);
  else await parseCsv(content, rows, errors);
  if (rows.length === 0 && errors.length === 0) errors.push('the file has no entries');
  return { rows, errors };
}
