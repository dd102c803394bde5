import { parseArgs } from 'node:util';
import { cliActor } from '../../modules/audit/audit.service.ts';
import { checkCountryId } from '../../modules/catalog/catalog-entries.ts';
import type { OperatorCommand } from '../command.ts';
import { requireOption } from '../options.ts';

export const countryAdd: OperatorCommand = {
  name: 'country:add',
  usage: 'country:add --id ID --iso CC [--name NAME] [--prefix DIGITS]',
  summary: 'Add a country by our numeric id and its ISO code (name and dialling prefix derived unless given), or update it (idempotent); audited',
  async run(services, args) {
    const { values } = parseArgs({ args, options: { id: { type: 'string' }, iso: { type: 'string' }, name: { type: 'string' }, prefix: { type: 'string' } } });
    const { result, country } = await services.catalog.admin.saveCountry(cliActor, {
      id: checkCountryId(requireOption(values, 'id')),
      iso: requireOption(values, 'iso'),
      name: values.name,
      dialPrefix: values.prefix,
    });
    return {
      json: { id: country.id, iso: country.iso, name: country.name, prefix: `+${country.dialPrefix}`, enabled: country.enabled, result },
      text: `Country ${country.id} ${country.name} (${country.iso}, +${country.dialPrefix}): ${result}`,
    };
  },
};
