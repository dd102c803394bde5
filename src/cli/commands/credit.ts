import { parseArgs } from 'node:util';
import { AppError } from '../../http/errors.ts';
import { formatUsd, parseUsd } from '../../modules/billing/money.ts';
import type { OperatorCommand } from '../command.ts';
import { requireIdOption, requireOption } from '../options.ts';

export const credit: OperatorCommand = {
  name: 'credit',
  usage: 'credit --company ID --amount USD --reason TEXT',
  summary: 'Credit (or, with a negative amount, debit) a company balance with a ledger adjustment',
  async run(services, args) {
    const { values } = parseArgs({ args, options: { company: { type: 'string' }, amount: { type: 'string' }, reason: { type: 'string' } } });
    const companyId = requireIdOption(values, 'company');
    const amountText = requireOption(values, 'amount');
    const amount = parseUsd(amountText);
    if (amount === null || amount === 0) throw new AppError('invalid_request', `--amount "${amountText}" is not a non-zero USD amount like 25 or -1.5`);
    const balance = await services.billing.credit({ companyId, amount, kind: 'adjustment', reason: requireOption(values, 'reason') });
    return {
      json: { company_id: companyId, amount: amount / 10_000, balance: balance / 10_000 },
      text: `Company ${companyId}: ${formatUsd(amount)} USD; balance now ${formatUsd(balance)} USD`,
    };
  },
};
