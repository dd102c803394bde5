import { useState } from 'react';
import { FormError } from '../../../components/States.tsx';
import { useAsync } from '../../../use-async.ts';
import { useFormAction } from '../../../use-form-action.ts';
import type { Catalog } from '../../catalog-api.ts';
import { AsyncContent } from '../../components/AsyncContent.tsx';
import { actionsColumn, DataTable, numeric } from '../../components/DataTable.tsx';
import { Field } from '../../components/Field.tsx';
import { consoleGet, consolePost, formatUsd } from '../../console-api.ts';
import { CountryOptions } from './CatalogOptions.tsx';

/** A rental price of /api/console/rental-prices (issue 11): per hour and per day, by country and operator. */
export interface RentalPriceRow {
  country: number;
  /** "any": the country's price; otherwise an operator's own. */
  operator: string;
  price_per_hour: number;
  price_per_day: number;
  /** Numbers free to rent now. */
  available: number;
}

/** The Catalog page's "Rental prices" tab: every rental price, and a form to set one (audited). */
export function RentalPrices({ catalog }: { catalog: Catalog }) {
  const prices = useAsync(() => consoleGet<{ prices: RentalPriceRow[] }>('/rental-prices'), []);
  const [country, setCountry] = useState(String(catalog.countries[0]?.id ?? ''));
  const [operator, setOperator] = useState('any');
  const [perHour, setPerHour] = useState('');
  const [perDay, setPerDay] = useState('');
  const [saved, setSaved] = useState<string | null>(null);
  const form = useFormAction();
  const countryName = (id: number) => catalog.countries.find((c) => c.id === id)?.name ?? `country ${id}`;
  const operators = catalog.operators.filter((o) => String(o.country) === country);

  const edit = (row: RentalPriceRow) => {
    setCountry(String(row.country));
    setOperator(row.operator);
    setPerHour(String(row.price_per_hour));
    setPerDay(String(row.price_per_day));
    setSaved(null);
  };

  const onSubmit = form.submit(async () => {
    setSaved(null);
    const { price } = await consolePost<{ price: RentalPriceRow }>('/rental-prices', {
      country: Number(country),
      ...(operator === 'any' ? {} : { operator }),
      price_per_hour: perHour.trim(),
      price_per_day: perDay.trim(),
    });
    setSaved(
      `Saved: ${countryName(price.country)}, ${price.operator === 'any' ? 'any operator' : price.operator}: ` +
        `${formatUsd(price.price_per_hour)} an hour, ${formatUsd(price.price_per_day)} a day.`,
    );
    prices.reload();
  });

  return (
    <section className="card" aria-labelledby="rental-prices-title">
      <h2 id="rental-prices-title">Rental prices</h2>
      <p className="muted small">
        What renting a number costs, by country (any operator) or for one operator. Whole days are charged at the day price, the rest at the hour
        price but never more than a day. Only countries with a price here can be rented.
      </p>
      <form className="inline-form" onSubmit={onSubmit} noValidate aria-label="Set a rental price">
        <Field label="Rental country">
          <select
            value={country}
            onChange={(e) => {
              setCountry(e.target.value);
              setOperator('any');
            }}
          >
            <CountryOptions countries={catalog.countries} />
          </select>
        </Field>
        <Field label="Rental operator">
          <select value={operator} onChange={(e) => setOperator(e.target.value)}>
            <option value="any">Any operator</option>
            {operators.map((o) => (
              <option key={o.code} value={o.code}>
                {o.name} ({o.code})
              </option>
            ))}
          </select>
        </Field>
        <Field label="Price per hour (USD)">
          <input type="text" inputMode="decimal" className="input-small" value={perHour} placeholder="0.20" onChange={(e) => setPerHour(e.target.value)} />
        </Field>
        <Field label="Price per day (USD)">
          <input type="text" inputMode="decimal" className="input-small" value={perDay} placeholder="2.50" onChange={(e) => setPerDay(e.target.value)} />
        </Field>
        <button type="submit" className="btn btn-primary" disabled={form.busy || !country || !perHour.trim() || !perDay.trim()}>
          Set rental price
        </button>
      </form>
      <FormError error={form.error} />
      {saved && (
        <p className="muted" role="status">
          {saved}
        </p>
      )}
      <AsyncContent state={prices} what="the rental prices">
        {(data) =>
          data.prices.length === 0 ? (
            <p className="muted">No rental prices yet: no number can be rented.</p>
          ) : (
            <DataTable label="Rental prices" columns={['Country', 'Operator', numeric('Per hour'), numeric('Per day'), numeric('Free to rent'), actionsColumn]}>
              {data.prices.map((row) => (
                <tr key={`${row.country}:${row.operator}`} data-rental-price={`${row.country}:${row.operator}`}>
                  <td>
                    {countryName(row.country)} ({row.country})
                  </td>
                  <td className="mono">{row.operator}</td>
                  <td className="num">{formatUsd(row.price_per_hour)}</td>
                  <td className="num">{formatUsd(row.price_per_day)}</td>
                  <td className="num">{row.available}</td>
                  <td>
                    <button
                      type="button"
                      className="btn btn-small"
                      aria-label={`Edit the rental price of ${row.country}:${row.operator}`}
                      onClick={() => edit(row)}
                    >
                      Edit
                    </button>
                  </td>
                </tr>
              ))}
            </DataTable>
          )
        }
      </AsyncContent>
    </section>
  );
}
