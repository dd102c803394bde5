import { parseArgs } from 'node:util';
import { cliActor } from '../../modules/audit/audit.service.ts';
import type { OperatorCommand } from '../command.ts';
import { requireIdOption, requireOption } from '../options.ts';

export const memberAdd: OperatorCommand = {
  name: 'member:add',
  usage: 'member:add --company ID --email EMAIL [--password P]',
  summary: "Add a member to a company; prints the member's API key",
  async run(services, args) {
    const { values } = parseArgs({ args, options: { company: { type: 'string' }, email: { type: 'string' }, password: { type: 'string' } } });
    const member = await services.accounts.addMember({
      companyId: requireIdOption(values, 'company'),
      email: requireOption(values, 'email'),
      password: values.password,
      actor: cliActor,
    });
    return {
      json: { account_id: member.accountId, email: member.email, api_key: member.apiKey },
      text: `Member ${member.email} added (account ${member.accountId})\nAPI key: ${member.apiKey}`,
    };
  },
};
