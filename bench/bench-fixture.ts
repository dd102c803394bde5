import { demoCountries, demoServices } from '../src/modules/catalog/demo-catalog.ts';
import { demoNumbers } from '../src/modules/supply/demo-provider.ts';

/**
 * What the benchmark seeds next to the demo (bench/seed-bench.ts), and how it keeps count of the
 * stock it sells.
 */

/** The extra numbers' operator: a buy naming it gets one of the bench provider's numbers, never a demo SIM. */
export const benchOperator = 'bench';

/**
 * A service only the long-poll scenario buys, priced in one country: its sales never compete with
 * the buy scenarios' stock, and with `benchOperator` every number it gets is one the bench provider
 * can push an SMS to.
 */
export const longPollService = { code: 'bench', name: 'Bench long-poll', countryId: 78, price: '0.01' };

/** The same fiction ranges as the demo (src/modules/supply/demo-provider.ts), after the demo's own numbers. */
const fictionRanges = [
  // ARCEP's fiction range 06 39 98 00 00 – 06 39 98 99 99; the demo has the first 200.
  { countryId: 78, prefix: '+3363998', first: 200, last: 9999, width: 4 },
  // Ofcom's drama range 07700 900000–900999; the demo has the first 200.
  { countryId: 16, prefix: '+447700900', first: 200, last: 999, width: 3 },
];
export const maxExtraNumbers = fictionRanges.reduce((sum, range) => sum + range.last - range.first + 1, 0);

/** `count` numbers (at most `maxExtraNumbers`) for the bench provider, by country. */
export function extraNumbers(count: number): { countryId: number; e164: string }[] {
  const numbers: { countryId: number; e164: string }[] = [];
  for (const range of fictionRanges) {
    for (let n = range.first; n <= range.last && numbers.length < count; n++) {
      numbers.push({ countryId: range.countryId, e164: range.prefix + String(n).padStart(range.width, '0') });
    }
  }
  return numbers;
}

/**
 * Stock of the demo services: a number can be sold once per service, so each (service, country)
 * pair holds as many sales as the country has numbers (demo and extra). Buys go to the pair with
 * the most left, counted as they are sent, so all pairs run down evenly and none is asked for once
 * sold out.
 */
export function createStock(extraNumberCount: number) {
  const extraByCountry = new Map<number, number>();
  for (const { countryId } of extraNumbers(extraNumberCount)) extraByCountry.set(countryId, (extraByCountry.get(countryId) ?? 0) + 1);
  const pairs = demoCountries.flatMap((country) => {
    const numbers = demoNumbers([country.id]).length + (extraByCountry.get(country.id) ?? 0);
    return demoServices.map((service) => ({ serviceCode: service.code, countryId: country.id, left: numbers }));
  });
  let issued = 0;
  return {
    pairCount: pairs.length,
    get left() {
      return pairs.reduce((sum, pair) => sum + pair.left, 0);
    },
    get issued() {
      return issued;
    },
    /** The pair with the most stock left (taking one); null when everything is sold. */
    next(): { serviceCode: string; countryId: number } | null {
      let best = pairs[0];
      for (const pair of pairs) if (pair.left > best.left) best = pair;
      if (best.left === 0) return null;
      best.left -= 1;
      issued += 1;
      return best;
    },
  };
}
export type Stock = ReturnType<typeof createStock>;
