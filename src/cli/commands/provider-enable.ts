import { parseArgs } from 'node:util';
import type { OperatorCommand } from '../command.ts';
import { AppError } from '../../http/errors.ts';

export const providerEnable: OperatorCommand = {
  name: 'provider:enable',
  usage: 'provider:enable --provider ID',
  summary: 'Put a provider back on sale after it was disabled for repeated failures (see provider:health)',
  async run(services, args) {
    const { values } = parseArgs({ args, options: { provider: { type: 'string' } } });
    const providerId = Number(values.provider);
    if (!values.provider || !Number.isInteger(providerId) || providerId <= 0) {
      throw new AppError('invalid_request', 'Name the provider with --provider ID (its id from provider:health)');
    }
    const provider = await services.supply.enableProvider(providerId);
    return { json: { provider: { provider_id: provider.id, name: provider.name, kind: provider.kind, enabled: true } }, text: `Provider ${provider.id} ${provider.name} enabled` };
  },
};
