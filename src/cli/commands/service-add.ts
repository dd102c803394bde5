import { parseArgs } from 'node:util';
import { cliActor } from '../../modules/audit/audit.service.ts';
import type { OperatorCommand } from '../command.ts';
import { requireOption } from '../options.ts';

export const serviceAdd: OperatorCommand = {
  name: 'service:add',
  usage: 'service:add --code CODE --name NAME',
  summary: 'Add a service to the catalog, or rename it (idempotent); audited',
  async run(services, args) {
    const { values } = parseArgs({ args, options: { code: { type: 'string' }, name: { type: 'string' } } });
    const { result, service } = await services.catalog.admin.saveService(cliActor, { code: requireOption(values, 'code'), name: requireOption(values, 'name') });
    return { json: { code: service.code, name: service.name, enabled: service.enabled, result }, text: `Service ${service.code} "${service.name}": ${result}` };
  },
};
