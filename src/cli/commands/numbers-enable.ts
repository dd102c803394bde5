import { parseArgs } from 'node:util';
import type { OperatorCommand } from '../command.ts';
import { AppError } from '../../http/errors.ts';
import { cliActor } from '../../modules/audit/audit.service.ts';

export const numbersEnable: OperatorCommand = {
  name: 'numbers:enable',
  usage: 'numbers:enable NUMBER...',
  summary: 'Put numbers back on sale after they were disabled (e.g. for too many activations without SMS)',
  async run(services, args) {
    const { positionals } = parseArgs({ args, allowPositionals: true, options: {} });
    if (positionals.length === 0) throw new AppError('invalid_request', 'Name at least one number, e.g. +447700900123');
    const enabled: string[] = [];
    for (const number of positionals) enabled.push((await services.supplyConsole.enableNumber(cliActor, number)).e164);
    return { json: { enabled }, text: `${enabled.length} number(s) enabled: ${enabled.join(', ')}` };
  },
};
