import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { ok } from '../../http/envelope.ts';
import { AppError } from '../../http/errors.ts';
import { formatApiTime } from '../../time-format.ts';
import type { Activation } from '../activations/activations.service.ts';
import type { BillingService, LedgerEntry } from '../billing/billing.service.ts';
import { type Money, parseUsd, toUsdNumber, usdNumberToUnits } from '../billing/money.ts';
import { actorOf, supportAllowed } from '../console/staff-auth.ts';
import type { AccountsService, CompanySummary, MemberWithKey } from './accounts.service.ts';
import type { CustomersService } from './customers.service.ts';

const hide = { hide: true } as const;

// companies.id and accounts.id are 4-byte integers: anything larger is refused as input, not by the database.
const Id = Type.Integer({ minimum: 1, maximum: 2_147_483_647 });
const CompanyParams = Type.Object({ id: Id }, { additionalProperties: false });
const MemberParams = Type.Object({ id: Id, accountId: Id }, { additionalProperties: false });
const PageQuery = Type.Object(
  {
    limit: Type.Integer({ minimum: 1, maximum: 100, default: 25 }),
    offset: Type.Integer({ minimum: 0, maximum: 1_000_000, default: 0 }),
  },
  { additionalProperties: false },
);
const SearchQuery = Type.Object(
  {
    q: Type.Optional(Type.String({ maxLength: 200 })),
    limit: Type.Integer({ minimum: 1, maximum: 100, default: 25 }),
    offset: Type.Integer({ minimum: 0, maximum: 1_000_000, default: 0 }),
  },
  { additionalProperties: false },
);
const Reason = Type.String({ minLength: 1, maxLength: 500 });
const AdjustBody = Type.Object(
  { amount: Type.Union([Type.Number(), Type.String({ maxLength: 32 })]), reason: Reason },
  { additionalProperties: false },
);
const BlockBody = Type.Object({ reason: Reason }, { additionalProperties: false });
const UnblockBody = Type.Object({ reason: Type.Optional(Type.String({ maxLength: 500 })) }, { additionalProperties: false });

/** USD from the console: a JSON number (12.5) or decimal text ("-3.25"), exactly, at most 4 decimals. */
function amountOf(value: number | string): Money {
  const units = typeof value === 'number' ? usdNumberToUnits(value) : parseUsd(value);
  if (units === null || units === 0) {
    throw new AppError('invalid_request', `amount ${JSON.stringify(value)} is not a non-zero USD amount with at most 4 decimals, e.g. 25 or -1.5`);
  }
  return units;
}

function companyJson(company: CompanySummary) {
  return {
    id: company.id,
    name: company.name,
    balance: toUsdNumber(company.balance),
    members: company.members,
    blocked: company.blockedAt !== null,
    blocked_at: company.blockedAt ? formatApiTime(company.blockedAt) : null,
    blocked_reason: company.blockedReason,
    created_at: formatApiTime(company.createdAt),
  };
}

function memberJson(member: MemberWithKey) {
  return {
    id: member.id,
    email: member.email,
    role: member.role,
    key_prefix: member.keyPrefix,
    key_created_at: member.keyCreatedAt ? formatApiTime(member.keyCreatedAt) : null,
    created_at: formatApiTime(member.createdAt),
    removed: member.removedAt !== null,
    removed_at: member.removedAt ? formatApiTime(member.removedAt) : null,
  };
}

function ledgerJson(entry: LedgerEntry) {
  return {
    id: entry.id,
    kind: entry.kind,
    amount: toUsdNumber(entry.amount),
    balance_after: toUsdNumber(entry.balanceAfter),
    activation_id: entry.activationId,
    reason: entry.reason,
    audit_id: entry.auditId,
    created_at: formatApiTime(entry.createdAt),
  };
}

function activationJson(activation: Activation) {
  return {
    id: activation.id,
    account_id: activation.accountId,
    service: activation.serviceCode,
    country: activation.countryId,
    operator: activation.operator,
    number: activation.number,
    price: toUsdNumber(activation.price),
    status: activation.status,
    code: activation.code,
    created_at: formatApiTime(activation.createdAt),
    finished_at: activation.finishedAt ? formatApiTime(activation.finishedAt) : null,
  };
}

/**
 * Console "Customers and money" (docs/console-api.md): support staff read companies, members,
 * activations and ledger; admins adjust balances, block and unblock, rotate keys — each audited
 * by the service in the transaction of the change.
 */
export const customersConsoleRoutes: FastifyPluginAsyncTypebox<{
  customers: CustomersService;
  accounts: AccountsService;
  billing: BillingService;
}> = async (app, { customers, accounts, billing }) => {
  app.get('/companies', { config: supportAllowed, schema: { ...hide, querystring: SearchQuery } }, async (request) => {
    const { q = '', limit, offset } = request.query;
    const { companies, total } = await customers.search(q, { limit, offset });
    return ok({ companies: companies.map((c) => ({ ...companyJson(c), matched: c.matched })), total, limit, offset });
  });

  app.get('/companies/:id', { config: supportAllowed, schema: { ...hide, params: CompanyParams } }, async (request) => {
    const { company, members } = await customers.company(request.params.id);
    return ok({ company: companyJson(company), members: members.map(memberJson) });
  });

  app.get('/companies/:id/activations', { config: supportAllowed, schema: { ...hide, params: CompanyParams, querystring: PageQuery } }, async (request) => {
    const { limit, offset } = request.query;
    const { activations, total } = await customers.activations(request.params.id, { limit, offset });
    return ok({ activations: activations.map(activationJson), total, limit, offset });
  });

  app.get('/companies/:id/ledger', { config: supportAllowed, schema: { ...hide, params: CompanyParams, querystring: PageQuery } }, async (request) => {
    const { limit, offset } = request.query;
    const { entries, total } = await customers.ledger(request.params.id, { limit, offset });
    return ok({ entries: entries.map(ledgerJson), total, limit, offset });
  });

  app.post('/companies/:id/adjustments', { schema: { ...hide, params: CompanyParams, body: AdjustBody } }, async (request) => {
    const { entry, balance, auditId } = await billing.adjust({
      companyId: request.params.id,
      amount: amountOf(request.body.amount),
      reason: request.body.reason,
      actor: actorOf(request),
    });
    return ok({ entry: ledgerJson(entry), balance: toUsdNumber(balance), audit_id: auditId });
  });

  app.post('/companies/:id/block', { schema: { ...hide, params: CompanyParams, body: BlockBody } }, async (request) => {
    return ok({ company: companyJson(await accounts.block(actorOf(request), request.params.id, request.body.reason)) });
  });

  app.post('/companies/:id/unblock', { schema: { ...hide, params: CompanyParams, body: UnblockBody } }, async (request) => {
    return ok({ company: companyJson(await accounts.unblock(actorOf(request), request.params.id, request.body?.reason)) });
  });

  app.post('/companies/:id/members/:accountId/rotate-key', { schema: { ...hide, params: MemberParams } }, async (request) => {
    const member = await accounts.rotateMemberKey(actorOf(request), request.params.id, request.params.accountId);
    return ok({ member: memberJson(member) });
  });
};
