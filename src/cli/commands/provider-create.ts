import { parseArgs } from 'node:util';
import type { OperatorCommand } from '../command.ts';
import { requireOption } from '../options.ts';

export const providerCreate: OperatorCommand = {
  name: 'provider:create',
  usage: 'provider:create --name NAME',
  summary: 'Register an SMS provider that pushes to POST /api/v1/supply/sms; prints its secret',
  async run(services, args) {
    const { values } = parseArgs({ args, options: { name: { type: 'string' } } });
    const { provider, secret } = await services.supply.createProvider({ name: requireOption(values, 'name'), kind: 'http' });
    return {
      json: { provider_id: provider.id, name: provider.name, secret },
      text: `Provider ${provider.id} "${provider.name}" created\nSecret (send as Authorization: Bearer …): ${secret}`,
    };
  },
};
