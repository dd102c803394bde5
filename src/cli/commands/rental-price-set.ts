import { parseArgs } from 'node:util';
import { cliActor } from '../../modules/audit/audit.service.ts';
import { formatUsd, toUsdNumber } from '../../modules/billing/money.ts';
import { checkCountryId, checkPrice } from '../../modules/catalog/catalog-entries.ts';
import type { OperatorCommand } from '../command.ts';
import { requireOption } from '../options.ts';

export const rentalPriceSet: OperatorCommand = {
  name: 'rental-price:set',
  usage: 'rental-price:set --country ID --hour USD --day USD [--operator OPERATOR]',
  summary: "Set what renting a number costs in a country per hour and per day (with --operator, that operator's price); audited",
  async run(services, args) {
    const { values } = parseArgs({ args, options: { country: { type: 'string' }, operator: { type: 'string' }, hour: { type: 'string' }, day: { type: 'string' } } });
    const countryId = checkCountryId(requireOption(values, 'country'));
    const pricePerHour = checkPrice(requireOption(values, 'hour'), '--hour');
    const pricePerDay = checkPrice(requireOption(values, 'day'), '--day');
    const row = await services.rentals.setPrice({ countryId, operator: values.operator, pricePerHour, pricePerDay }, cliActor);
    const operator = row.operator === 'any' ? '' : ` (operator ${row.operator})`;
    return {
      json: {
        country: row.countryId,
        operator: row.operator,
        price_per_hour: toUsdNumber(row.pricePerHour),
        price_per_day: toUsdNumber(row.pricePerDay),
        available: row.available,
      },
      text: `Renting in country ${row.countryId}${operator}: ${formatUsd(row.pricePerHour)} USD an hour, ${formatUsd(row.pricePerDay)} USD a day (${row.available} number(s) free to rent)`,
    };
  },
};
