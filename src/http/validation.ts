import { _, Ajv, type KeywordCxt } from 'ajv';
import addFormatsPlugin from 'ajv-formats';
import type { FastifyInstance } from 'fastify';
import { AppError } from './errors.ts';

// ajv-formats is CommonJS; under NodeNext its default export arrives wrapped.
const addFormats = addFormatsPlugin as unknown as (ajv: Ajv) => Ajv;

function makeAjv(coerceTypes: boolean | 'array'): Ajv {
  // strict: false lets documentation keywords (examples) live in the schemas for the OpenAPI page;
  // strictNumbers stays on, so NaN and Infinity (JSON's 1e999) are not numbers.
  const ajv = new Ajv({ coerceTypes, removeAdditional: false, useDefaults: true, allErrors: false, strict: false, strictNumbers: true });
  addFormats(ajv);
  // strictNumbers is not applied to a query value coerced from "Infinity"; this keyword is, and
  // withSafeNumbers puts it on every number. (Declared for any type: Ajv skips its number
  // keywords altogether for a non-finite value.)
  ajv.addKeyword({
    keyword: 'finite',
    schemaType: 'boolean',
    error: { message: 'must be a finite number' },
    code: (cxt: KeywordCxt) => cxt.fail(_`typeof ${cxt.data} == "number" && !Number.isFinite(${cxt.data})`),
  });
  return ajv;
}

/**
 * JSON bodies are validated strictly: a string where a number belongs or an unknown field is a
 * 400, never silently coerced or dropped. Query strings, params and headers are text by nature,
 * so their values are coerced to the declared types.
 */
export function registerValidation(app: FastifyInstance) {
  const strict = makeAjv(false);
  const coercing = makeAjv('array');
  app.setValidatorCompiler(({ schema, httpPart }) => (httpPart === 'body' ? strict : coercing).compile(withSafeNumbers(schema)));
  // After parsing, before the schemas: on every route of every scope (API, website, console,
  // supply pushes, the sms-activate protocol), including routes without a schema.
  // A callback hook, not an async one: it runs on every request, and an async hook costs a promise each time.
  app.addHook('preValidation', (request, _reply, done) => {
    for (const [part, value] of [['params', request.params], ['querystring', request.query], ['body', request.body]] as const) {
      const found = findUnsafeText(value);
      if (found) {
        const field = found.path.length > 0 ? `${part}.${found.path.join('.')}` : part;
        const code = `U+${found.char.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}`;
        const what = found.char >= '\ud800' ? `an unpaired surrogate (${code}), which is not Unicode text` : `the control character ${code}`;
        return done(new AppError('invalid_request', `${field} contains ${what}; send printable UTF-8 text`));
      }
    }
    done();
  });
}

/**
 * A copy of `schema` in which every number is finite and every integer without bounds of its own
 * stays within ±Number.MAX_SAFE_INTEGER: beyond that JavaScript cannot hold the number exactly,
 * and PostgreSQL fails a bigint parameter of 1e20 with an error (a 500) instead of answering "not
 * found". Columns of 32-bit serial ids declare their own, smaller maximum.
 */
export function withSafeNumbers<T>(schema: T): T {
  if (Array.isArray(schema)) return schema.map((item) => withSafeNumbers(item)) as T;
  if (schema === null || typeof schema !== 'object') return schema;
  const copy: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(schema)) copy[key] = withSafeNumbers(value);
  const type = copy.type;
  const has = (name: string) => type === name || (Array.isArray(type) && type.includes(name));
  if (has('number') || has('integer')) copy.finite = true;
  if (has('integer')) {
    if (copy.maximum === undefined && copy.exclusiveMaximum === undefined) copy.maximum = Number.MAX_SAFE_INTEGER;
    if (copy.minimum === undefined && copy.exclusiveMinimum === undefined) copy.minimum = -Number.MAX_SAFE_INTEGER;
  }
  return copy as T;
}

/**
 * C0 control characters and DEL, except tab, line feed and carriage return: multi-line text
 * (chat messages, feedback, SMS texts pushed by providers) has those, and no field has a use for
 * the rest. NUL in particular: PostgreSQL refuses it in text, so it must not get past the edge.
 */
const controlCharacter = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F]/;

/**
 * Half of a surrogate pair without the other half ("\ud800" in JSON): not Unicode text, and the
 * database would store U+FFFD instead, so what was checked (a unique name, say) is not what is kept.
 */
const unpairedSurrogate = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function unsafeCharacter(text: string): string | undefined {
  return (controlCharacter.exec(text) ?? unpairedSurrogate.exec(text))?.[0];
}

/** Either of the two above, in one pass: most strings are clean, and are tested once. */
const anyUnsafeCharacter = new RegExp(`${controlCharacter.source}|${unpairedSurrogate.source}`);

/**
 * True when `value` is a plain record of clean keys and clean strings or numbers (every query
 * string and route params, most bodies): the walk below is then not needed.
 */
function isCleanFlatRecord(value: object): boolean {
  for (const key in value) {
    if (!Object.hasOwn(value, key)) continue;
    const item = (value as Record<string, unknown>)[key];
    if (anyUnsafeCharacter.test(key)) return false;
    if (typeof item === 'string') {
      if (anyUnsafeCharacter.test(item)) return false;
    } else if (typeof item !== 'number' && typeof item !== 'boolean' && item !== null && item !== undefined) {
      return false;
    }
  }
  return true;
}

/**
 * The first string (value or object key) in a parsed body, query or params that holds a control
 * character or an unpaired surrogate, with the path to it. Iterative: a 64 KiB body can nest arrays 30,000 deep, more
 * than the call stack would take.
 */
export function findUnsafeText(root: unknown): { path: string[]; char: string } | null {
  if (root === undefined || root === null) return null;
  if (typeof root === 'object' && !Array.isArray(root) && !Buffer.isBuffer(root) && isCleanFlatRecord(root)) return null;
  // Each entry links to its parent, so the path is built only for the one string found.
  interface Entry {
    value: unknown;
    key: string;
    parent: Entry | null;
  }
  const pathOf = (entry: Entry | null): string[] => {
    const path: string[] = [];
    for (let at = entry; at?.parent; at = at.parent) path.unshift(at.key);
    return path;
  };
  const stack: Entry[] = [{ value: root, key: '', parent: null }];
  while (stack.length > 0) {
    const entry = stack.pop()!;
    const { value } = entry;
    if (typeof value === 'string') {
      const char = unsafeCharacter(value);
      if (char) return { path: pathOf(entry), char };
    } else if (Array.isArray(value)) {
      for (let i = value.length - 1; i >= 0; i--) stack.push({ value: value[i], key: String(i), parent: entry });
    } else if (value !== null && typeof value === 'object' && !Buffer.isBuffer(value)) {
      const entries = Object.entries(value);
      for (let i = entries.length - 1; i >= 0; i--) {
        const [key, item] = entries[i];
        const char = unsafeCharacter(key);
        // The key is quoted back with its character escaped.
        if (char) return { path: [...pathOf(entry), JSON.stringify(key).slice(1, -1)], char };
        stack.push({ value: item, key, parent: entry });
      }
    }
  }
  return null;
}
