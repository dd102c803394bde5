import type { Clock } from '../../clock.ts';
import type { Config } from '../../config.ts';
import type { Database } from '../../db/database.ts';
import type { AccountsService } from '../accounts/accounts.service.ts';
import type { AuditService } from '../audit/audit.service.ts';
import type { BillingService } from '../billing/billing.service.ts';
import { createEmailService } from '../email/email.service.ts';
import { createPaymentsService } from '../payments/payments.service.ts';
import { createSupportService } from '../support/support.service.ts';
import { createWebSessionsService, loadServerSecret } from '../web-sessions/web-sessions.service.ts';

/** The website's services (sessions, email outbox, payments, support chat), built on the core ones. */
export function createWebServices(deps: { config: Config; database: Database; clock: Clock; accounts: AccountsService; billing: BillingService; audit: AuditService }) {
  const { config, database, clock, accounts, billing, audit } = deps;
  const email = createEmailService({ database, clock });
  const webSessions = createWebSessionsService({ database, clock, accounts, email, secret: loadServerSecret(config.secret, config.dataDir) });
  const payments = createPaymentsService({ database, clock, billing, stripe: config.stripe, demo: config.demoPayments });
  const support = createSupportService({ database, clock, audit });
  return { email, webSessions, payments, support };
}
