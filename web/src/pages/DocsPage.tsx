import { useMemo } from 'react';
import { CopyButton } from '../components/CopyButton.tsx';
import { ErrorBox, Loading } from '../components/States.tsx';
import { useAsync } from '../use-async.ts';

// The page renders the server's own OpenAPI description, so the docs can't drift from the API.

type Schema = {
  $ref?: string;
  type?: string | string[];
  properties?: Record<string, Schema>;
  items?: Schema;
  required?: string[];
  enum?: unknown[];
  const?: unknown;
  anyOf?: Schema[];
  oneOf?: Schema[];
  allOf?: Schema[];
  example?: unknown;
  examples?: unknown[];
  default?: unknown;
  description?: string;
  nullable?: boolean;
};

interface Parameter {
  name: string;
  in: string;
  required?: boolean;
  description?: string;
  schema?: Schema;
}

interface MediaType {
  schema?: Schema;
  example?: unknown;
  examples?: Record<string, { value?: unknown; summary?: string }>;
}

interface Operation {
  summary?: string;
  description?: string;
  tags?: string[];
  operationId?: string;
  parameters?: Parameter[];
  requestBody?: { content?: Record<string, MediaType>; required?: boolean };
  responses?: Record<string, { description?: string; content?: Record<string, MediaType> }>;
  security?: unknown[];
}

interface OpenApi {
  info?: { title?: string; version?: string; description?: string };
  servers?: Array<{ url: string; description?: string }>;
  paths?: Record<string, Record<string, Operation>>;
  components?: { schemas?: Record<string, Schema> };
  tags?: Array<{ name: string; description?: string }>;
  'x-error-codes'?: Record<string, number> | Array<{ code: string; status: number; description?: string }>;
}

const methods = ['get', 'post', 'put', 'patch', 'delete'];

function resolve(schema: Schema | undefined, doc: OpenApi, depth = 0): Schema | undefined {
  if (!schema || depth > 20) return schema;
  if (schema.$ref) {
    const name = schema.$ref.split('/').pop() ?? '';
    return resolve(doc.components?.schemas?.[name], doc, depth + 1);
  }
  return schema;
}

/** A JSON example built from the schema's own examples (TypeBox `examples`), else placeholders. */
function exampleOf(input: Schema | undefined, doc: OpenApi, depth = 0): unknown {
  const schema = resolve(input, doc);
  if (!schema || depth > 12) return null;
  if (schema.example !== undefined) return schema.example;
  if (schema.examples?.length) return schema.examples[0];
  if (schema.const !== undefined) return schema.const;
  if (schema.enum?.length) return schema.enum[0];
  if (schema.default !== undefined) return schema.default;
  const variants = schema.anyOf ?? schema.oneOf;
  if (variants?.length) {
    const nonNull = variants.find((v) => resolve(v, doc)?.type !== 'null') ?? variants[0];
    return exampleOf(nonNull, doc, depth + 1);
  }
  if (schema.allOf?.length) {
    return Object.assign({}, ...schema.allOf.map((s) => exampleOf(s, doc, depth + 1) as object));
  }
  const type = Array.isArray(schema.type) ? schema.type.find((t) => t !== 'null') : schema.type;
  if (type === 'object' || schema.properties) {
    const out: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(schema.properties ?? {})) out[key] = exampleOf(value, doc, depth + 1);
    return out;
  }
  if (type === 'array') return [exampleOf(schema.items, doc, depth + 1)];
  if (type === 'integer' || type === 'number') return 0;
  if (type === 'boolean') return true;
  if (type === 'string') return 'string';
  return null;
}

function mediaExample(media: MediaType | undefined, doc: OpenApi): unknown {
  if (!media) return undefined;
  if (media.example !== undefined) return media.example;
  const first = media.examples && Object.values(media.examples)[0];
  if (first?.value !== undefined) return first.value;
  return exampleOf(media.schema, doc);
}

function typeLabel(input: Schema | undefined, doc: OpenApi): string {
  const schema = resolve(input, doc);
  if (!schema) return '';
  if (schema.enum) return schema.enum.map(String).join(' | ');
  const variants = schema.anyOf ?? schema.oneOf;
  if (variants) return variants.map((v) => (resolve(v, doc)?.const !== undefined ? String(resolve(v, doc)?.const) : typeLabel(v, doc))).join(' | ');
  const type = Array.isArray(schema.type) ? schema.type.join(' | ') : (schema.type ?? 'object');
  return type === 'array' ? `${typeLabel(schema.items, doc)}[]` : type;
}

// What each published code means for the caller (wording of the API page); the list itself
// and the statuses come from the server's description.
const errorMeanings: Record<string, string> = {
  unauthorized: 'Missing or invalid API key',
  rate_limited: 'Too many requests — wait for Retry-After',
  insufficient_balance: 'Top up on the website',
  out_of_stock: 'No numbers for that service/country right now',
  not_found: 'Activation not visible to your key',
  invalid_state: 'Action not allowed in the current state',
  too_early: 'Action not allowed yet (cancel: 3 min after purchase)',
  invalid_request: 'A field is missing or invalid; the message names it',
  unknown_service: 'No such service code',
  unknown_country: 'No such country id',
  price_above_max: 'The price is above your max_price',
  idempotency_conflict: 'The Idempotency-Key was used with another request',
  account_blocked: 'Your company account is blocked — contact support',
};

/** Error codes with their HTTP status: the description's table, response examples and schema enums. */
function collectErrorCodes(doc: OpenApi): Array<{ code: string; status: number; description?: string }> {
  const found = new Map<string, { code: string; status: number; description?: string }>();
  const add = (code: string, status: number, description?: string) => {
    if (!found.has(code)) found.set(code, { code, status, description: errorMeanings[code] ?? description });
  };
  const declared = doc['x-error-codes'];
  if (Array.isArray(declared)) for (const e of declared) add(e.code, e.status, e.description);
  else if (declared) for (const [code, status] of Object.entries(declared)) add(code, status);
  for (const match of (doc.info?.description ?? '').matchAll(/^\|\s*`?([a-z_]+)`?\s*\|\s*(\d{3})\s*\|(?:\s*([^|\n]*)\|)?/gm)) {
    add(match[1], Number(match[2]), match[3]?.trim() || undefined);
  }
  for (const item of Object.values(doc.paths ?? {})) {
    for (const method of methods) {
      const op = item[method];
      for (const [status, response] of Object.entries(op?.responses ?? {})) {
        const n = Number(status);
        if (!(n >= 400)) continue;
        const media = response.content?.['application/json'];
        const examples = [media?.example, ...Object.values(media?.examples ?? {}).map((e) => e.value)].filter(Boolean) as Array<{
          error?: { code?: string; message?: string };
        }>;
        for (const example of examples) {
          const code = example.error?.code;
          if (code) add(code, n, response.description ?? example.error?.message);
        }
      }
    }
  }
  return [...found.values()].sort((a, b) => a.status - b.status || a.code.localeCompare(b.code));
}

/** The description is short Markdown: paragraphs, `code` and one table (shown separately). */
function DescriptionText({ text }: { text: string }) {
  const blocks = text
    .split(/\n\s*\n/)
    .map((b) => b.trim())
    .filter((b) => b && !b.startsWith('|') && !/^error codes/i.test(b));
  return (
    <>
      {blocks.map((block, i) => (
        <p key={i} className="pre-line">
          {block.split('`').map((part, j) => (j % 2 === 1 ? <code key={j}>{part}</code> : part))}
        </p>
      ))}
    </>
  );
}

function Json({ value }: { value: unknown }) {
  const text = JSON.stringify(value, null, 2);
  return (
    <div className="code-block">
      <pre>{text}</pre>
      <CopyButton text={text} what="example" />
    </div>
  );
}

function Endpoint({ path, method, op, doc, base }: { path: string; method: string; op: Operation; doc: OpenApi; base: string }) {
  const body = op.requestBody?.content?.['application/json'];
  const bodyExample = mediaExample(body, doc);
  const responses = Object.entries(op.responses ?? {});
  const needsAuth = op.security === undefined || op.security.length > 0;
  const curl = [
    `curl${method === 'get' ? '' : ` -X ${method.toUpperCase()}`} -H "Authorization: Bearer YOUR_API_KEY"`,
    ...(body ? ['  -H "Content-Type: application/json"', `  -d '${JSON.stringify(bodyExample)}'`] : []),
    `  ${base}${path}`,
  ].join(' \\\n');
  const anchor = `${method}-${path.replace(/[^a-z0-9]+/gi, '-')}`;
  return (
    <article className="endpoint card" id={anchor} aria-labelledby={`${anchor}-title`}>
      <h3 id={`${anchor}-title`} className="endpoint-title">
        <span className={`method method-${method}`}>{method.toUpperCase()}</span> <code>{path}</code>
      </h3>
      {op.summary && <p className="endpoint-summary">{op.summary}</p>}
      {op.description && op.description !== op.summary && <p className="muted pre-line">{op.description}</p>}
      {!needsAuth && <p className="small muted">No API key needed.</p>}
      {op.parameters && op.parameters.length > 0 && (
        <div className="table-wrap">
          <table className="table compact" aria-label={`Parameters of ${method.toUpperCase()} ${path}`}>
            <thead>
              <tr>
                <th scope="col">Parameter</th>
                <th scope="col">In</th>
                <th scope="col">Type</th>
                <th scope="col">Description</th>
              </tr>
            </thead>
            <tbody>
              {op.parameters.map((p) => (
                <tr key={`${p.in}-${p.name}`}>
                  <td>
                    <code>{p.name}</code>
                    {p.required ? ' *' : ''}
                  </td>
                  <td>{p.in}</td>
                  <td>{typeLabel(p.schema, doc)}</td>
                  <td>{p.description ?? resolve(p.schema, doc)?.description ?? ''}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {body && (
        <>
          <h4>Request body</h4>
          <Json value={bodyExample} />
        </>
      )}
      <details>
        <summary>Example with curl</summary>
        <div className="code-block">
          <pre>{curl}</pre>
          <CopyButton text={curl} what="curl command" />
        </div>
      </details>
      {responses.length > 0 && (
        <>
          <h4>Responses</h4>
          {responses.map(([status, response]) => {
            const example = mediaExample(response.content?.['application/json'], doc);
            return (
              <details key={status} open={status.startsWith('2')}>
                <summary>
                  <span className={`badge ${status.startsWith('2') ? 'badge-ok' : 'badge-muted'}`}>{status}</span> {response.description ?? ''}
                </summary>
                {example !== undefined && <Json value={example} />}
              </details>
            );
          })}
        </>
      )}
    </article>
  );
}

export function DocsPage() {
  const spec = useAsync(async () => {
    const response = await fetch('/api/v1/openapi.json', { headers: { accept: 'application/json' } });
    if (!response.ok) throw new Error(`The API description answered ${response.status}`);
    const body = (await response.json()) as OpenApi | { ok: boolean; data?: OpenApi };
    // Served bare (OpenAPI tooling expects that); accept the envelope too.
    const doc = 'paths' in body ? body : (body as { data?: OpenApi }).data;
    if (!doc?.paths) throw new Error('The API description has no endpoints');
    return doc;
  }, []);
  const doc = spec.data && 'paths' in spec.data ? spec.data : undefined;
  const base = `${location.origin}/api/v1`;

  const groups = useMemo(() => {
    const byTag = new Map<string, Array<{ path: string; method: string; op: Operation }>>();
    for (const [path, item] of Object.entries(doc?.paths ?? {})) {
      for (const method of methods) {
        const op = item[method];
        if (!op) continue;
        const tag = op.tags?.[0] ?? 'Other';
        if (!byTag.has(tag)) byTag.set(tag, []);
        byTag.get(tag)!.push({ path: path.startsWith('/api/v1') ? path.slice('/api/v1'.length) || '/' : path, method, op });
      }
    }
    // The server's tag order, with internal groups (SMS gateways) after the customer API.
    const order = (tag: string) => {
      const index = doc?.tags?.findIndex((t) => t.name === tag) ?? -1;
      const internal = /^internal/i.test(doc?.tags?.[index]?.description ?? '');
      return (internal ? 1000 : 0) + (index < 0 ? 500 : index);
    };
    return [...byTag.entries()].sort((a, b) => order(a[0]) - order(b[0]));
  }, [doc]);
  const errorCodes = useMemo(() => (doc ? collectErrorCodes(doc) : []), [doc]);

  return (
    <div className="page docs">
      <div className="page-head">
        <div>
          <p className="eyebrow">Reference</p>
          <h1>{doc?.info?.title ?? 'Nova SMS API v1'}</h1>
          <p className="lead">Buy temporary numbers and read SMS programmatically. REST over HTTPS, JSON responses.</p>
        </div>
      </div>
      <section className="card">
        <h2>Authentication</h2>
        <p>
          Send your key in the <code>Authorization</code> header on every request. Your API key is created automatically for
          every account — find it under <strong>Profile → API access</strong>.
        </p>
        <div className="code-block">
          <pre>Authorization: Bearer YOUR_API_KEY</pre>
        </div>
        <p>
          Base URL: <code>{base}</code> · The rate limit applies per key. Responses are <code>{'{ "ok": true, "data": {…} }'}</code>{' '}
          or <code>{'{ "ok": false, "error": { "code", "message" } }'}</code>.
        </p>
      </section>
      {spec.loading && !spec.data ? (
        <Loading what="the API reference" />
      ) : !doc ? (
        <ErrorBox
          message="The live API reference is unavailable right now. The endpoints are listed in the README; try this page again in a minute."
          onRetry={spec.reload}
        />
      ) : (
        <>
          {doc.info?.description && (
            <section className="card">
              <DescriptionText text={doc.info.description} />
            </section>
          )}
          <nav className="card toc" aria-label="Endpoints">
            <h2>Endpoints</h2>
            <ul>
              {groups.flatMap(([, ops]) =>
                ops.map(({ path, method }) => (
                  <li key={`${method}-${path}`}>
                    <a href={`#${method}-${path.replace(/[^a-z0-9]+/gi, '-')}`}>
                      <span className={`method method-${method}`}>{method.toUpperCase()}</span> {path}
                    </a>
                  </li>
                )),
              )}
            </ul>
          </nav>
          {groups.map(([tag, ops]) => (
            <section key={tag} aria-label={tag}>
              <h2 className="section-title tag-title">{tag}</h2>
              {doc.tags?.find((t) => t.name === tag)?.description && (
                <p className="muted">{doc.tags.find((t) => t.name === tag)!.description}</p>
              )}
              {ops.map(({ path, method, op }) => (
                <Endpoint key={`${method}-${path}`} path={path} method={method} op={op} doc={doc} base={base} />
              ))}
            </section>
          ))}
          <section className="card" aria-labelledby="errors-title">
            <h2 id="errors-title">Error codes</h2>
            {errorCodes.length === 0 ? (
              <p className="muted">Errors answer with a code and a message that says what to do.</p>
            ) : (
              <div className="table-wrap">
                <table className="table" aria-label="Error codes">
                  <thead>
                    <tr>
                      <th scope="col">Code</th>
                      <th scope="col">HTTP status</th>
                      <th scope="col">Meaning</th>
                    </tr>
                  </thead>
                  <tbody>
                    {errorCodes.map((e) => (
                      <tr key={e.code}>
                        <td>
                          <code>{e.code}</code>
                        </td>
                        <td>{e.status}</td>
                        <td>{e.description ?? ''}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            )}
          </section>
        </>
      )}
    </div>
  );
}
