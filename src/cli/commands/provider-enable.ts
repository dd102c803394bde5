import { parseArgs } from 'node:util';
import type { OperatorCommand } from '../command.ts';
import { AppError } from '../../http/errors.ts';
import { cliActor } from '../../modules/audit/audit.service.ts';

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
    // The console's audited path; an enabled provider is refused (invalid_state), as in the console.
    const provider = await services.supplyConsole.enableProvider(cliActor, providerId);
    return {
      json: { provider: { provider_id: provider.providerId, name: provider.name, kind: provider.kind, enabled: provider.enabled } },
      text: `Provider ${provider.providerId} ${provider.name} enabled`,
    };
  },
};
