import { parseArgs } from 'node:util';
import type { OperatorCommand } from '../command.ts';
import { AppError } from '../../http/errors.ts';
import { cliActor } from '../../modules/audit/audit.service.ts';
import { requireIdOption } from '../options.ts';

export const numbersAdd: OperatorCommand = {
  name: 'numbers:add',
  usage: 'numbers:add --provider ID --country ID [--operator NAME] [--rentable] [--device DEVICE_ID --sim SLOT] NUMBER...',
  summary:
    "Add phone numbers (E.164) to a provider's stock; --rentable lets customers also rent them by the hour (numbers already in stock become rentable); --device/--sim place one number in an SMS Gateway for Android phone's SIM slot",
  async run(services, args) {
    const { values, positionals } = parseArgs({
      args,
      allowPositionals: true,
      options: {
        provider: { type: 'string' },
        country: { type: 'string' },
        operator: { type: 'string' },
        device: { type: 'string' },
        sim: { type: 'string' },
        rentable: { type: 'boolean' },
      },
    });
    const countryId = requireIdOption(values, 'country');
    if (positionals.length === 0) throw new AppError('invalid_request', 'Name at least one number, e.g. +447700900123');
    const simSlot = values.sim === undefined ? undefined : Number(values.sim);
    if (simSlot !== undefined && (!Number.isInteger(simSlot) || simSlot < 0 || simSlot > 16)) {
      throw new AppError('invalid_request', `--sim must be the SIM slot number the app reports (1, 2 …), not "${values.sim}"`);
    }
    if ((values.device !== undefined || simSlot !== undefined) && positionals.length !== 1) {
      throw new AppError('invalid_request', '--device/--sim place exactly one number: name one NUMBER');
    }
    const added = await services.supplyConsole.addNumbers(
      cliActor,
      requireIdOption(values, 'provider'),
      positionals.map((e164) => ({ e164, countryId, operator: values.operator, deviceId: values.device, simSlot, rentable: values.rentable })),
    );
    const rentable = values.rentable ? ', rentable' : '';
    return { json: { added, rentable: values.rentable === true }, text: `${added} number(s) added${rentable}` };
  },
};
