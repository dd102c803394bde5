import { parseArgs } from 'node:util';
import { AppError } from '../../http/errors.ts';
import { cliActor } from '../../modules/audit/audit.service.ts';
import { parseUsd } from '../../modules/billing/money.ts';
import type { OperatorCommand } from '../command.ts';
import { requireOption } from '../options.ts';

export const companyCreate: OperatorCommand = {
  name: 'company:create',
  usage: 'company:create --name NAME --owner-email EMAIL [--password P] [--credit USD]',
  summary: "Create a company with its owner; prints the owner's API key",
  async run(services, args) {
    const { values } = parseArgs({
      args,
      options: { name: { type: 'string' }, 'owner-email': { type: 'string' }, password: { type: 'string' }, credit: { type: 'string' } },
    });
    const credit = values.credit === undefined ? 0 : parseUsd(values.credit);
    if (credit === null || credit < 0) throw new AppError('invalid_request', `--credit "${values.credit}" is not a USD amount like 25 or 12.5`);
    const created = await services.accounts.createCompany({
      name: requireOption(values, 'name'),
      ownerEmail: requireOption(values, 'owner-email'),
      password: values.password,
      actor: cliActor,
    });
    // Money the operator grants is an audited adjustment (like `credit`), not a customer's top-up.
    if (credit > 0) {
      await services.billing.adjust({ companyId: created.companyId, amount: credit, reason: 'Initial credit (operator CLI)', actor: cliActor });
    }
    const balance = await services.billing.balanceOf(created.companyId);
    return {
      json: { company_id: created.companyId, account_id: created.accountId, email: created.email, api_key: created.apiKey, balance: balance / 10_000 },
      text: `Company ${created.companyId} created; owner ${created.email} (account ${created.accountId})\nAPI key: ${created.apiKey}`,
    };
  },
};
