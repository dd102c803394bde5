import { parseArgs } from 'node:util';
import { cliActor } from '../../modules/audit/audit.service.ts';
import { checkCountryId, checkPrice } from '../../modules/catalog/catalog-entries.ts';
import { formatUsd } from '../../modules/billing/money.ts';
import type { OperatorCommand } from '../command.ts';
import { requireOption } from '../options.ts';

export const priceSet: OperatorCommand = {
  name: 'price:set',
  usage: 'price:set --service CODE --country ID --price USD [--operator OPERATOR]',
  summary: 'Set the price of a service in a country (its rule becomes manual), or with --operator that operator\'s price; audited',
  async run(services, args) {
    const { values } = parseArgs({ args, options: { service: { type: 'string' }, country: { type: 'string' }, price: { type: 'string' }, operator: { type: 'string' } } });
    const serviceCode = requireOption(values, 'service');
    const countryId = checkCountryId(requireOption(values, 'country'));
    const price = checkPrice(requireOption(values, 'price'), '--price');
    const row = await services.catalog.pricing.setPrice(cliActor, { serviceCode, countryId, price, operator: values.operator });
    const operator = values.operator === undefined ? '' : ` (operator ${values.operator})`;
    const below = row.cost !== null && price < row.cost ? `\nWarning: below the supply cost ${formatUsd(row.cost)} USD` : '';
    return {
      json: {
        service: serviceCode,
        country: countryId,
        operator: values.operator ?? null,
        price: price / 10_000,
        cost: row.cost === null ? null : row.cost / 10_000,
        below_cost: row.cost !== null && price < row.cost,
      },
      text: `${serviceCode} in country ${countryId}${operator}: ${formatUsd(price)} USD${below}`,
    };
  },
};
