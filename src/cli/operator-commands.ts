import type { OperatorCommand } from './command.ts';
import { catalogList } from './commands/catalog-list.ts';
import { companyCreate } from './commands/company-create.ts';
import { credit } from './commands/credit.ts';
import { keyRotate } from './commands/key-rotate.ts';
import { ledgerVerify } from './commands/ledger-verify.ts';
import { memberAdd } from './commands/member-add.ts';
import { numbersAdd } from './commands/numbers-add.ts';
import { providerCreate } from './commands/provider-create.ts';
import { numbersEnable } from './commands/numbers-enable.ts';
import { providerEnable } from './commands/provider-enable.ts';
import { providerHealth } from './commands/provider-health.ts';
import { smsUnmatched } from './commands/sms-unmatched.ts';
import { supportInbox } from './commands/support-inbox.ts';
import { supportReply } from './commands/support-reply.ts';

export const operatorCommands: OperatorCommand[] = [companyCreate, memberAdd, credit, ledgerVerify, catalogList, providerCreate, numbersAdd, keyRotate, numbersEnable, smsUnmatched, providerHealth, providerEnable, supportInbox, supportReply];
