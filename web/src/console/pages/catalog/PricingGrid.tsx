import { Fragment, useState } from 'react';
import { Empty, FormError, StatusLine } from '../../../components/States.tsx';
import { useAsync } from '../../../use-async.ts';
import { useFormAction } from '../../../use-form-action.ts';
import { AsyncContent } from '../../components/AsyncContent.tsx';
import { actionsColumn, DataTable, numeric } from '../../components/DataTable.tsx';
import { Field } from '../../components/Field.tsx';
import type { Catalog, PricingRow } from '../../catalog-api.ts';
import { consoleGet, consolePost, formatUsd, parseUsdInput } from '../../console-api.ts';
import { CountryOptions } from './CatalogOptions.tsx';

const rowKey = (row: { service: string; country: number }) => `${row.service}:${row.country}`;
const rowName = (row: PricingRow) => `${row.service_name} · ${row.country_name}`;

/** The price a markup rule gives (the server's rule): max(cost × (1 + p/100), cost + min), rounded up to a cent. */
function markupPrice(cost: number, percent: number, minMargin: number): number {
  const raw = Math.max(cost * (1 + percent / 100), cost + minMargin);
  return Math.ceil(Math.round(raw * 10000) / 100) / 100;
}

function Margin({ margin, percent, belowCost }: { margin: number | null; percent: number | null; belowCost: boolean }) {
  if (margin === null) return <span className="muted">—</span>;
  return (
    <>
      <span className={margin < 0 ? 'neg' : undefined}>{formatUsd(margin)}</span>
      {percent !== null && <span className="muted small"> ({percent}%)</span>}
      {belowCost && (
        <div className="below-cost-flag">⚠ Below cost</div>
      )}
    </>
  );
}

function PriceEditor({ row, catalog, onRow }: { row: PricingRow; catalog: Catalog; onRow(row: PricingRow): void }) {
  const [price, setPrice] = useState(row.price === null ? '' : String(row.price));
  const [markup, setMarkup] = useState(String(row.rule.mode === 'markup' ? row.rule.markup_percent : 25));
  const [minMargin, setMinMargin] = useState(String(row.rule.mode === 'markup' ? row.rule.min_margin : 0.05));
  const operators = catalog.operators.filter((o) => o.country === row.country);
  const [operator, setOperator] = useState(operators[0]?.code ?? '');
  const [operatorPrice, setOperatorPrice] = useState('');
  const [saved, setSaved] = useState<string | null>(null);
  const priceForm = useFormAction();
  const ruleForm = useFormAction();
  const operatorForm = useFormAction();
  const changed = (answer: { row: PricingRow }, message: string) => {
    setSaved(message);
    onRow(answer.row);
  };
  const base = { service: row.service, country: row.country };

  const savePrice = priceForm.submit(async () => {
    const value = parseUsdInput(price);
    if (value === null || value <= 0) return priceForm.setError('Enter a price in USD above zero, like 0.50.');
    changed(await consolePost<{ row: PricingRow }>('/pricing/price', { ...base, price: value }), `Price set to ${formatUsd(value)} (manual).`);
  });
  const saveRule = ruleForm.submit(async () => {
    const percent = Number(markup.trim());
    const min = parseUsdInput(minMargin);
    if (!Number.isFinite(percent) || markup.trim() === '' || percent < 0) return ruleForm.setError('The markup is a percentage from 0 to 1000, like 25.');
    if (min === null || min < 0) return ruleForm.setError('The minimum margin is an amount in USD, like 0.05.');
    changed(
      await consolePost<{ row: PricingRow }>('/pricing/rule', { ...base, mode: 'markup', markup_percent: percent, min_margin: min }),
      `The price now follows the supply cost: ${percent}% markup, at least ${formatUsd(min)} margin.`,
    );
  });
  const makeManual = () =>
    ruleForm.run(async () => {
      changed(await consolePost<{ row: PricingRow }>('/pricing/rule', { ...base, mode: 'manual' }), 'The price is manual now: it stays as it is when the cost changes.');
    });
  const saveOperatorPrice = operatorForm.submit(async () => {
    const value = parseUsdInput(operatorPrice);
    if (!operator) return operatorForm.setError('Choose an operator.');
    if (value === null || value <= 0) return operatorForm.setError('Enter a price in USD above zero, like 0.60.');
    changed(await consolePost<{ row: PricingRow }>('/pricing/price', { ...base, price: value, operator }), `Price for ${operator} set to ${formatUsd(value)}.`);
    setOperatorPrice('');
  });
  const removeOperatorPrice = (code: string) =>
    operatorForm.run(async () => {
      changed(await consolePost<{ row: PricingRow }>('/pricing/operator-price/remove', { ...base, operator: code }), `Removed the ${code} price.`);
    });

  const percent = Number(markup);
  const min = parseUsdInput(minMargin);
  const preview = row.cost !== null && Number.isFinite(percent) && min !== null ? markupPrice(row.cost, percent, min) : null;

  return (
    <div className="price-editor" role="group" aria-label={`Edit ${rowName(row)}`}>
      <StatusLine message={saved} />
      <div className="price-editor-grid">
        <form className="form" onSubmit={savePrice} noValidate>
          <h3>Manual price</h3>
          <Field label="Price in USD">
            <input type="text" inputMode="decimal" value={price} onChange={(e) => setPrice(e.target.value)} />
          </Field>
          {row.cost !== null && parseUsdInput(price) !== null && (parseUsdInput(price) ?? 0) < row.cost && (
            <p className="notice-warn small">This price is below the supply cost of {formatUsd(row.cost)}: every sale loses money.</p>
          )}
          <FormError error={priceForm.error} />
          <div>
            <button type="submit" className="btn btn-primary" disabled={priceForm.busy}>
              Save price
            </button>
          </div>
          <p className="muted small">A typed price overrides the markup rule.</p>
        </form>
        <form className="form" onSubmit={saveRule} noValidate>
          <h3>Markup rule {row.rule.mode === 'markup' && <span className="badge badge-ok">active</span>}</h3>
          <div className="inline-form">
            <Field label="Markup %">
              <input type="text" inputMode="decimal" className="input-small" value={markup} onChange={(e) => setMarkup(e.target.value)} />
            </Field>
            <Field label="Minimum margin in USD">
              <input type="text" inputMode="decimal" className="input-small" value={minMargin} onChange={(e) => setMinMargin(e.target.value)} />
            </Field>
          </div>
          <p className="muted small">
            {row.cost === null
              ? 'The supply cost is unknown yet: the rule prices as soon as a remote source reports one.'
              : `At today's cost of ${formatUsd(row.cost)} this gives ${preview === null ? '—' : formatUsd(preview)}.`}
          </p>
          <FormError error={ruleForm.error} />
          <div className="row">
            <button type="submit" className="btn btn-primary" disabled={ruleForm.busy}>
              Use markup rule
            </button>
            {row.rule.mode === 'markup' && (
              <button type="button" className="btn" disabled={ruleForm.busy} onClick={() => void makeManual()}>
                Keep the price manual
              </button>
            )}
          </div>
        </form>
        <form className="form" onSubmit={saveOperatorPrice} noValidate>
          <h3>Operator prices</h3>
          {row.operator_prices.length === 0 ? (
            <p className="muted small">None: every operator sells at the price above.</p>
          ) : (
            <ul className="plain-list">
              {row.operator_prices.map((op) => (
                <li key={op.operator} className="row">
                  <span className="mono">{op.operator}</span> {formatUsd(op.price)}
                  <Margin margin={op.margin} percent={op.margin_percent} belowCost={op.below_cost} />
                  <button type="button" className="btn btn-small btn-ghost" onClick={() => void removeOperatorPrice(op.operator)} aria-label={`Remove the ${op.operator} price`}>
                    Remove
                  </button>
                </li>
              ))}
            </ul>
          )}
          {operators.length === 0 ? (
            <p className="muted small">Add operators for {row.country_name} under Operators to price them apart.</p>
          ) : (
            <>
              <div className="inline-form">
                <Field label="Operator">
                  <select value={operator} onChange={(e) => setOperator(e.target.value)}>
                    {operators.map((o) => (
                      <option key={o.code} value={o.code}>
                        {o.name}
                      </option>
                    ))}
                  </select>
                </Field>
                <Field label="Operator price in USD">
                  <input type="text" inputMode="decimal" className="input-small" value={operatorPrice} onChange={(e) => setOperatorPrice(e.target.value)} />
                </Field>
              </div>
              <FormError error={operatorForm.error} />
              <div>
                <button type="submit" className="btn" disabled={operatorForm.busy}>
                  Set operator price
                </button>
              </div>
            </>
          )}
        </form>
      </div>
    </div>
  );
}

function AddPriceForm({ catalog, onRow }: { catalog: Catalog; onRow(row: PricingRow): void }) {
  const [service, setService] = useState(catalog.services[0]?.code ?? '');
  const [country, setCountry] = useState(String(catalog.countries[0]?.id ?? ''));
  const [price, setPrice] = useState('');
  const { busy, error, setError, submit } = useFormAction();
  const onSubmit = submit(async () => {
    const value = parseUsdInput(price);
    if (!service || !country) return setError('Add a service and a country first.');
    if (value === null || value <= 0) return setError('Enter a price in USD above zero, like 0.50.');
    const answer = await consolePost<{ row: PricingRow }>('/pricing/price', { service, country: Number(country), price: value });
    setPrice('');
    onRow(answer.row);
  });
  return (
    <form className="inline-form" onSubmit={onSubmit} noValidate aria-label="Price a service in a country">
      <Field label="Service to price">
        <select value={service} onChange={(e) => setService(e.target.value)}>
          {catalog.services.map((s) => (
            <option key={s.code} value={s.code}>
              {s.name} ({s.code})
            </option>
          ))}
        </select>
      </Field>
      <Field label="Country to price">
        <select value={country} onChange={(e) => setCountry(e.target.value)}>
          <CountryOptions countries={catalog.countries} />
        </select>
      </Field>
      <Field label="New price in USD">
        <input type="text" inputMode="decimal" className="input-small" value={price} onChange={(e) => setPrice(e.target.value)} />
      </Field>
      <button type="submit" className="btn btn-primary" disabled={busy}>
        Set price
      </button>
      <FormError error={error} />
    </form>
  );
}

const gridColumns = ['Service', 'Country', numeric('Stock'), numeric('Cost'), numeric('Price'), numeric('Margin'), 'Rule', actionsColumn];

/** Cost, price and margin side by side for every service × country, with the editor of one row at a time. */
export function PricingGrid({ catalog }: { catalog: Catalog }) {
  const [service, setService] = useState('');
  const [country, setCountry] = useState('');
  const [editing, setEditing] = useState<string | null>(null);
  const grid = useAsync(() => consoleGet<{ rows: PricingRow[] }>('/pricing', { service, country }), [service, country]);
  const rows = grid.data?.rows ?? [];
  const belowCost = rows.filter((r) => r.below_cost || r.operator_prices.some((o) => o.below_cost));

  const replaceRow = (row: PricingRow) => {
    const current = grid.data?.rows ?? [];
    const exists = current.some((r) => rowKey(r) === rowKey(row));
    grid.setData({ rows: exists ? current.map((r) => (rowKey(r) === rowKey(row) ? row : r)) : [...current, row] });
  };

  return (
    <>
      <section className="card">
        <h2>Price a service</h2>
        <AddPriceForm catalog={catalog} onRow={(row) => (replaceRow(row), setEditing(rowKey(row)))} />
      </section>
      <section className="card">
        <div className="card-head">
          <h2>Pricing grid</h2>
          <div className="inline-form">
            <Field label="Show service">
              <select value={service} onChange={(e) => setService(e.target.value)}>
                <option value="">All services</option>
                {catalog.services.map((s) => (
                  <option key={s.code} value={s.code}>
                    {s.name}
                  </option>
                ))}
              </select>
            </Field>
            <Field label="Show country">
              <select value={country} onChange={(e) => setCountry(e.target.value)}>
                <option value="">All countries</option>
                {catalog.countries.map((c) => (
                  <option key={c.id} value={String(c.id)}>
                    {c.name}
                  </option>
                ))}
              </select>
            </Field>
          </div>
        </div>
        {belowCost.length > 0 && (
          <p className="notice-warn" role="alert">
            ⚠ {belowCost.length} price{belowCost.length === 1 ? '' : 's'} below the supply cost: {belowCost.map(rowName).join(', ')}.
          </p>
        )}
        <AsyncContent
          state={grid}
          what="prices"
          isEmpty={(data) => data.rows.length === 0}
          empty={
            <Empty title="Nothing priced yet.">
              <p className="muted">Set a first price above, or import a catalog file.</p>
            </Empty>
          }
        >
          {() => (
            <DataTable label="Pricing grid" columns={gridColumns}>
              {rows.map((row) => {
                const key = rowKey(row);
                const open = editing === key;
                return (
                  <Fragment key={key}>
                    <tr className={row.below_cost ? 'below-cost' : undefined}>
                      <td>
                        <span className="service-name">{row.service_name}</span> <span className="tag">{row.service}</span>
                        {!row.on_sale && <span className="badge badge-muted">not on sale</span>}
                      </td>
                      <td>{row.country_name}</td>
                      <td className="num">{row.stock}</td>
                      <td className="num">{row.cost === null ? <span className="muted">unknown</span> : formatUsd(row.cost)}</td>
                      <td className="num">
                        {row.price === null ? <span className="muted">not sold</span> : formatUsd(row.price)}
                        {row.operator_prices.length > 0 && <div className="muted small">+{row.operator_prices.length} operator</div>}
                      </td>
                      <td className="num">
                        <Margin margin={row.margin} percent={row.margin_percent} belowCost={row.below_cost} />
                      </td>
                      <td>
                        {row.rule.mode === 'markup' ? (
                          <span>
                            markup {row.rule.markup_percent}%, min {formatUsd(row.rule.min_margin)}
                          </span>
                        ) : (
                          <span className="muted">manual</span>
                        )}
                      </td>
                      <td>
                        <button
                          type="button"
                          className="btn btn-small"
                          aria-expanded={open}
                          aria-label={`${open ? 'Close' : 'Edit'} ${rowName(row)}`}
                          onClick={() => setEditing(open ? null : key)}
                        >
                          {open ? 'Close' : 'Edit'}
                        </button>
                      </td>
                    </tr>
                    {open && (
                      <tr className="editor-row">
                        <td colSpan={gridColumns.length}>
                          <PriceEditor row={row} catalog={catalog} onRow={replaceRow} />
                        </td>
                      </tr>
                    )}
                  </Fragment>
                );
              })}
            </DataTable>
          )}
        </AsyncContent>
      </section>
    </>
  );
}
