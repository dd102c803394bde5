import { parseArgs } from 'node:util';
import { AppError } from '../../http/errors.ts';
import { cliActor } from '../../modules/audit/audit.service.ts';
import { formatUsd, parseUsd } from '../../modules/billing/money.ts';
import type { OperatorCommand } from '../command.ts';
import { requireIdOption, requireOption } from '../options.ts';

export const credit: OperatorCommand = {
  name: 'credit',
  usage: 'credit --company ID --amount USD --reason TEXT',
  summary: 'Credit (or, with a negative amount, debit) a company balance with an audited ledger adjustment',
  async run(services, args) {
    const { values } = parseArgs({ args, options: { company: { type: 'string' }, amount: { type: 'string' }, reason: { type: 'string' } } });
    const companyId = requireIdOption(values, 'company');
    const amountText = requireOption(values, 'amount');
    const amount = parseUsd(amountText);
    if (amount === null || amount === 0) throw new AppError('invalid_request', `--amount "${amountText}" is not a non-zero USD amount like 25 or -1.5`);
    // The same audited adjustment as the console's: the ledger row names the audit entry (actor "cli").
    const { balance, auditId } = await services.billing.adjust({ companyId, amount, reason: requireOption(values, 'reason'), actor: cliActor });
    return {
      json: { company_id: companyId, amount: amount / 10_000, balance: balance / 10_000, audit_id: auditId },
      text: `Company ${companyId}: ${formatUsd(amount)} USD; balance now ${formatUsd(balance)} USD`,
    };
  },
};
