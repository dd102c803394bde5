import { parseArgs } from 'node:util';
import { cliActor } from '../../modules/audit/audit.service.ts';
import type { OperatorCommand } from '../command.ts';
import { requireIdOption } from '../options.ts';

export const keyRotate: OperatorCommand = {
  name: 'key:rotate',
  usage: 'key:rotate --account ID',
  summary: "Issue a new API key for an account; the old key stops working at once",
  async run(services, args) {
    const { values } = parseArgs({ args, options: { account: { type: 'string' } } });
    const accountId = requireIdOption(values, 'account');
    const apiKey = await services.accounts.rotateApiKey(accountId, cliActor);
    return { json: { account_id: accountId, api_key: apiKey }, text: `New API key for account ${accountId}: ${apiKey}` };
  },
};
