import { AppError } from '../../http/errors.ts';
import type { Activation, ActivationsService } from '../activations/activations.service.ts';
import type { BillingService, LedgerEntry } from '../billing/billing.service.ts';
import type { AccountsService, CompanySummary, MemberWithKey } from './accounts.service.ts';

/** What a search term matched in a company: its name, a member's email, a number it bought, an activation, its id. */
export type MatchField = 'name' | 'email' | 'phone' | 'activation' | 'id';

export interface CompanyMatch {
  field: MatchField;
  value: string;
}

export interface Page {
  limit: number;
  offset: number;
}

/**
 * The console's read side of customers: find a company from whatever the customer quotes
 * (an email, a phone number, an activation id, a name) and see its members, activations and
 * ledger. Changes (adjust, block, rotate) are the accounts and billing services' own, audited.
 */
export interface CustomersService {
  search(query: string, page: Page): Promise<{ companies: (CompanySummary & { matched: CompanyMatch[] })[]; total: number }>;
  company(companyId: number): Promise<{ company: CompanySummary; members: MemberWithKey[] }>;
  activations(companyId: number, page: Page): Promise<{ activations: Activation[]; total: number }>;
  ledger(companyId: number, page: Page): Promise<{ entries: LedgerEntry[]; total: number }>;
}

// Enough for any real lookup; a term matching more than this is too vague to page through.
const matchesPerField = 500;
const maxQueryLength = 200;
// companies.id is a 4-byte integer: a larger number cannot be a company id.
const maxCompanyId = 2_147_483_647;
// A phone search needs this many digits, so "12" does not match half the numbers sold.
const minPhoneDigits = 5;

export function createCustomersService(deps: {
  accounts: AccountsService;
  activations: ActivationsService;
  billing: BillingService;
}): CustomersService {
  const { accounts, activations, billing } = deps;

  async function summaryOf(companyId: number): Promise<CompanySummary> {
    const [summary] = companyId <= maxCompanyId ? await accounts.companySummaries([companyId]) : [];
    if (!summary) throw new AppError('not_found', `Company ${companyId} does not exist`);
    return summary;
  }

  async function matchesOf(text: string): Promise<Map<number, CompanyMatch[]>> {
    const found = new Map<number, CompanyMatch[]>();
    const add = (companyId: number, field: MatchField, value: string) => {
      const list = found.get(companyId) ?? [];
      if (!list.some((m) => m.field === field && m.value === value)) list.push({ field, value });
      found.set(companyId, list);
    };
    const lookups: Promise<void>[] = [
      accounts.findCompaniesByName(text, matchesPerField).then((rows) => rows.forEach((r) => add(r.companyId, 'name', r.name))),
      accounts.findCompaniesByEmail(text, matchesPerField).then((rows) => rows.forEach((r) => add(r.companyId, 'email', r.email))),
    ];
    if (/^\d{1,15}$/.test(text)) {
      const id = Number(text);
      if (id >= 1 && id <= maxCompanyId) {
        lookups.push(accounts.companySummaries([id]).then((rows) => rows.forEach((r) => add(r.id, 'id', String(r.id)))));
      }
      if (id >= 1) {
        lookups.push(activations.companyOfActivation(id).then((companyId) => { if (companyId !== null) add(companyId, 'activation', String(id)); }));
      }
    }
    // "+1 (202) 555-0123", "12025550123", "555-0123": the digits, found anywhere in a number bought.
    const digits = text.replace(/[\s\-().+]/g, '');
    if (/^[\d\s\-().+]+$/.test(text) && /^\d+$/.test(digits) && digits.length >= minPhoneDigits) {
      lookups.push(activations.companiesByNumber(digits, matchesPerField).then((rows) => rows.forEach((r) => add(r.companyId, 'phone', r.number))));
    }
    await Promise.all(lookups);
    return found;
  }

  async function companyExists(companyId: number): Promise<void> {
    await summaryOf(companyId);
  }

  return {
    async search(query, page) {
      const text = query.trim();
      if (text.length > maxQueryLength) throw new AppError('invalid_request', `The search term must have at most ${maxQueryLength} characters`);
      if (!text) {
        const [companies, total] = await Promise.all([accounts.listCompanies(page), accounts.countCompanies()]);
        return { companies: companies.map((c) => ({ ...c, matched: [] })), total };
      }
      const matches = await matchesOf(text);
      // Newest company first, like the unfiltered list.
      const ids = [...matches.keys()].sort((a, b) => b - a);
      const pageIds = ids.slice(page.offset, page.offset + page.limit);
      const summaries = new Map((await accounts.companySummaries(pageIds)).map((c) => [c.id, c]));
      const companies = pageIds.flatMap((id) => {
        const summary = summaries.get(id);
        return summary ? [{ ...summary, matched: matches.get(id)! }] : [];
      });
      return { companies, total: ids.length };
    },
    async company(companyId) {
      const company = await summaryOf(companyId);
      return { company, members: await accounts.membersWithKeys(companyId) };
    },
    async activations(companyId, page) {
      await companyExists(companyId);
      return activations.ofCompany(companyId, page);
    },
    async ledger(companyId, page) {
      await companyExists(companyId);
      const [entries, total] = await Promise.all([billing.ledger(companyId, page), billing.ledgerSize(companyId)]);
      return { entries, total };
    },
  };
}
