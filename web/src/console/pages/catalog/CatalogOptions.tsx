import type { CatalogCountry } from '../../catalog-api.ts';

/** The `<option>`s of a country picker: "United States (6)", valued by the country id. */
export function CountryOptions({ countries }: { countries: CatalogCountry[] }) {
  return (
    <>
      {countries.map((c) => (
        <option key={c.id} value={String(c.id)}>
          {c.name} ({c.id})
        </option>
      ))}
    </>
  );
}
