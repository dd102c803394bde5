import { parseArgs } from 'node:util';
import type { OperatorCommand } from '../command.ts';
import { AppError } from '../../http/errors.ts';
import { requireIdOption } from '../options.ts';

export const numbersAdd: OperatorCommand = {
  name: 'numbers:add',
  usage: 'numbers:add --provider ID --country ID [--operator NAME] NUMBER...',
  summary: "Add phone numbers (E.164) to a provider's stock",
  async run(services, args) {
    const { values, positionals } = parseArgs({
      args,
      allowPositionals: true,
      options: { provider: { type: 'string' }, country: { type: 'string' }, operator: { type: 'string' } },
    });
    const countryId = requireIdOption(values, 'country');
    if (positionals.length === 0) throw new AppError('invalid_request', 'Name at least one number, e.g. +447700900123');
    const added = await services.supply.addNumbers(
      requireIdOption(values, 'provider'),
      positionals.map((e164) => ({ e164, countryId, operator: values.operator })),
    );
    return { json: { added }, text: `${added} number(s) added` };
  },
};
