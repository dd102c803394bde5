import { parseArgs } from 'node:util';
import { cliActor } from '../../modules/audit/audit.service.ts';
import type { OperatorCommand } from '../command.ts';
import { requireOption } from '../options.ts';

export const staffCreate: OperatorCommand = {
  name: 'staff:create',
  usage: 'staff:create --email EMAIL --role admin|support [--password P]',
  summary: 'Create a console (back-office) staff member; a generated password is printed once',
  async run(services, args) {
    const { values } = parseArgs({ args, options: { email: { type: 'string' }, role: { type: 'string' }, password: { type: 'string' } } });
    const { staff, password } = await services.staff.create(cliActor, {
      email: requireOption(values, 'email'),
      role: requireOption(values, 'role'),
      password: values.password,
    });
    return {
      json: { staff_id: staff.id, email: staff.email, role: staff.role, password },
      text: [
        `Staff member ${staff.id} ${staff.email} (${staff.role}) created`,
        `Password (shown once): ${password}`,
        staff.role === 'admin' ? 'Sign in at /console; admins set up an authenticator app (TOTP) on first sign-in.' : 'Sign in at /console.',
      ].join('\n'),
    };
  },
};
