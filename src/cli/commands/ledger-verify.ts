import { formatUsd } from '../../modules/billing/money.ts';
import type { OperatorCommand } from '../command.ts';

export const ledgerVerify: OperatorCommand = {
  name: 'ledger:verify',
  usage: 'ledger:verify',
  summary: 'Check that every company balance equals the sum of its ledger (exit 1 on any mismatch)',
  async run(services) {
    const mismatches = await services.billing.verify();
    return {
      json: {
        ok: mismatches.length === 0,
        mismatches: mismatches.map((m) => ({ company_id: m.companyId, balance: m.balance / 10_000, ledger_sum: m.ledgerSum / 10_000 })),
      },
      text:
        mismatches.length === 0
          ? 'Ledger verified: every balance equals the sum of its ledger'
          : mismatches
              .map((m) => `Company ${m.companyId}: balance ${formatUsd(m.balance)} USD but ledger sums to ${formatUsd(m.ledgerSum)} USD`)
              .join('\n'),
      exitCode: mismatches.length === 0 ? 0 : 1,
    };
  },
};
