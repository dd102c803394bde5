import { AppError, type ErrorCode } from '../../http/errors.ts';
import { formatApiTime } from '../../time-format.ts';
import type { AccountsService, Principal } from '../accounts/accounts.service.ts';
import type { Activation, ActivationsService } from '../activations/activations.service.ts';
import type { BillingService } from '../billing/billing.service.ts';
import { type Money, parseUsd, toUsdNumber, unitsPerUsd } from '../billing/money.ts';
import type { CatalogService } from '../catalog/catalog.service.ts';
import type { RentalsService } from '../rentals/rentals.service.ts';
import type { RentalStock } from '../supply/rental-stock.ts';
import { compatRentalActions, createCompatRentals } from './compat-rentals.ts';

/** The parameters of one handler_api.php call (query string and form body merged). */
export type CompatParams = Record<string, string | undefined>;

/** The protocol answers in plain text (`ACCESS_NUMBER:…`) or JSON, always with HTTP 200. */
export type CompatReply = { kind: 'text'; body: string } | { kind: 'json'; body: unknown };

const text = (body: string): CompatReply => ({ kind: 'text', body });
const json = (body: unknown): CompatReply => ({ kind: 'json', body });

export interface CompatService {
  /** The principal of an `api_key`, or the protocol's refusal: `BAD_KEY`, or `BANNED` for a blocked company. */
  authenticate(apiKey: string): Promise<Principal | CompatReply>;
  /** Runs one action for an authenticated key; unknown actions answer `BAD_ACTION`. */
  perform(principal: Principal, params: CompatParams): Promise<CompatReply>;
}

/** sms-activate's money text: at least two decimals, up to our four ("0.50", "14.0912"). */
export function formatCompatMoney(units: Money): string {
  const whole = Math.floor(units / unitsPerUsd);
  const fraction = String(units % unitsPerUsd).padStart(4, '0').replace(/0{1,2}$/, '');
  return `${whole}.${fraction.length >= 2 ? fraction : fraction.padEnd(2, '0')}`;
}

// The API's bound for a country id (POST /api/v1/activations): larger numbers are no country of
// ours, and beyond 2^31 PostgreSQL would fail the catalog query instead of finding nothing.
const maxCountryId = 100_000;

function positiveInt(value: string | undefined): number | null {
  if (value === undefined || !/^\d{1,15}$/.test(value.trim())) return null;
  const n = Number(value.trim());
  return n >= 1 && Number.isSafeInteger(n) ? n : null;
}

/** Answers an AppError of the mapped codes with its protocol reply; rethrows anything else. */
function protocolReply(error: unknown, replies: Partial<Record<ErrorCode, string>>): CompatReply {
  if (error instanceof AppError && replies[error.code] !== undefined) return text(replies[error.code]!);
  throw error;
}

/**
 * The sms-activate protocol (`/stubs/handler_api.php`) mapped onto the same services as API v1,
 * so every rule (prices, balance, stock, the 3-minute cancel) is the one and only rule. This
 * file only translates names, parameters and replies.
 */
export function createCompatService(deps: {
  accounts: AccountsService;
  billing: BillingService;
  catalog: CatalogService;
  activations: ActivationsService;
  rentals: RentalsService;
  rentalStock: Pick<RentalStock, 'available'>;
}): CompatService {
  const { accounts, billing, catalog, activations } = deps;
  // The rent actions (getRentNumber, getRentStatus, …) live in compat-rentals.ts.
  const rentalActions = createCompatRentals(deps);

  /** Buys for getNumber/getNumberV2: the activation, or the protocol's refusal. */
  async function buy(principal: Principal, params: CompatParams): Promise<Activation | CompatReply> {
    const serviceCode = params.service?.trim();
    if (!serviceCode) return text('BAD_SERVICE');
    // sms-activate's default country is 0; a country we do not sell in has no numbers.
    const countryId = params.country === undefined || params.country.trim() === '' ? 0 : Number(params.country.trim());
    if (!Number.isSafeInteger(countryId) || countryId < 0 || countryId > maxCountryId) return text('NO_NUMBERS');
    let maxPrice: Money | undefined;
    if (params.maxPrice !== undefined && params.maxPrice.trim() !== '') {
      // An unreadable limit is treated as a limit nothing meets, never as "no limit".
      maxPrice = parseUsd(params.maxPrice) ?? 0;
    }
    // "any" or nothing: any operator; a comma list: the first of them that has a number.
    const operators = (params.operator ?? '')
      .split(',')
      .map((op) => op.trim())
      .filter((op) => op && op !== 'any');
    const tries = operators.length ? operators : [undefined];
    for (const [index, operator] of tries.entries()) {
      try {
        return await activations.buy(principal, { serviceCode, countryId, operator, maxPrice });
      } catch (error) {
        if (error instanceof AppError && error.code === 'out_of_stock' && index < tries.length - 1) continue;
        if (error instanceof AppError && error.code === 'price_above_max') {
          return text(`WRONG_MAX_PRICE:${formatCompatMoney(await catalog.priceOf(serviceCode, countryId, operator))}`);
        }
        return protocolReply(error, {
          out_of_stock: 'NO_NUMBERS',
          unknown_country: 'NO_NUMBERS',
          unknown_service: 'BAD_SERVICE',
          insufficient_balance: 'NO_BALANCE',
        });
      }
    }
    return text('NO_NUMBERS');
  }

  async function getStatus(principal: Principal, params: CompatParams): Promise<CompatReply> {
    const id = positiveInt(params.id);
    if (id === null) return text('NO_ACTIVATION');
    try {
      const { activation } = await activations.get(principal, id);
      switch (activation.status) {
        case 'waiting':
          return text('STATUS_WAIT_CODE');
        case 'sms_received':
        case 'completed':
          return text(`STATUS_OK:${activation.code ?? activation.text ?? ''}`);
        default:
          return text('STATUS_CANCEL');
      }
    } catch (error) {
      return protocolReply(error, { not_found: 'NO_ACTIVATION' });
    }
  }

  async function setStatus(principal: Principal, params: CompatParams): Promise<CompatReply> {
    const id = positiveInt(params.id);
    if (id === null) return text('WRONG_ACTIVATION_ID');
    const status = params.status?.trim();
    try {
      switch (status) {
        case '1': // the number was sent to the service: nothing to change, we listen from purchase on
        case '3': {
          // another SMS: the number keeps receiving until it finishes; a later code replaces the first
          const { activation } = await activations.get(principal, id);
          if (activation.status !== 'waiting' && activation.status !== 'sms_received') return text('BAD_STATUS');
          return text(status === '1' ? 'ACCESS_READY' : 'ACCESS_RETRY_GET');
        }
        case '6':
          await activations.complete(principal, id);
          return text('ACCESS_ACTIVATION');
        case '8':
          await activations.cancel(principal, id);
          return text('ACCESS_CANCEL');
        default:
          return text('BAD_STATUS');
      }
    } catch (error) {
      return protocolReply(error, { not_found: 'NO_ACTIVATION', invalid_state: 'BAD_STATUS', too_early: 'EARLY_CANCEL_DENIED' });
    }
  }

  async function getPrices(params: CompatParams): Promise<CompatReply> {
    const serviceCode = params.service?.trim() || undefined;
    let countryId: number | undefined;
    if (params.country !== undefined && params.country.trim() !== '') {
      countryId = Number(params.country.trim());
      if (!Number.isSafeInteger(countryId) || countryId < 0 || countryId > maxCountryId) return json({});
    }
    try {
      const rows = await catalog.prices({ serviceCode, countryId });
      const table: Record<string, Record<string, { cost: number; count: number }>> = {};
      for (const row of rows) {
        (table[String(row.countryId)] ??= {})[row.serviceCode] = { cost: toUsdNumber(row.price), count: row.available };
      }
      return json(table);
    } catch (error) {
      if (error instanceof AppError && error.code === 'unknown_country') return json({});
      return protocolReply(error, { unknown_service: 'BAD_SERVICE' });
    }
  }

  async function getActiveActivations(principal: Principal): Promise<CompatReply> {
    const page = { limit: 100, offset: 0 };
    const [waiting, received, countries] = await Promise.all([
      activations.list(principal, { ...page, status: 'waiting' }),
      activations.list(principal, { ...page, status: 'sms_received' }),
      catalog.countries(),
    ]);
    const open = [...waiting.activations, ...received.activations].sort((a, b) => b.id - a.id);
    if (open.length === 0) return json({ status: 'error', error: 'NO_ACTIVATIONS' });
    const countryNames = new Map(countries.map((c) => [c.id, c.name]));
    return json({
      status: 'success',
      activeActivations: open.map((a) => ({
        activationId: String(a.id),
        serviceCode: a.serviceCode,
        phoneNumber: a.number.replace(/^\+/, ''),
        activationCost: toUsdNumber(a.price),
        // "4": waiting for its SMS; the code, once there, is in smsCode.
        activationStatus: '4',
        smsCode: a.code ? [a.code] : null,
        smsText: a.text,
        activationTime: formatApiTime(a.createdAt),
        discount: '0.00',
        repeated: '0',
        countryCode: String(a.countryId),
        countryName: countryNames.get(a.countryId) ?? '',
        canGetAnotherSms: '1',
      })),
    });
  }

  return {
    async authenticate(apiKey) {
      try {
        return (await accounts.authenticate(apiKey)) ?? text('BAD_KEY');
      } catch (error) {
        // sms-activate's word for a disabled account.
        return protocolReply(error, { account_blocked: 'BANNED' });
      }
    },
    async perform(principal, params) {
      if (params.action && compatRentalActions.has(params.action)) return rentalActions.perform(principal, params);
      switch (params.action) {
        case 'getBalance':
          return text(`ACCESS_BALANCE:${formatCompatMoney(await billing.balanceOf(principal.companyId))}`);
        case 'getNumber': {
          const result = await buy(principal, params);
          if ('kind' in result) return result;
          return text(`ACCESS_NUMBER:${result.id}:${result.number.replace(/^\+/, '')}`);
        }
        case 'getNumberV2': {
          const result = await buy(principal, params);
          if ('kind' in result) return result;
          return json({
            activationId: result.id,
            phoneNumber: result.number.replace(/^\+/, ''),
            activationCost: toUsdNumber(result.price),
            countryCode: String(result.countryId),
            canGetAnotherSms: true,
            activationTime: formatApiTime(result.createdAt),
            activationOperator: result.operator,
          });
        }
        case 'getStatus':
          return getStatus(principal, params);
        case 'setStatus':
          return setStatus(principal, params);
        case 'getPrices':
          return getPrices(params);
        case 'getCountries': {
          const table: Record<string, unknown> = {};
          const [countries, rentable] = await Promise.all([catalog.countries(), rentalActions.rentableCountries()]);
          for (const c of countries) {
            // We keep one (English) name per country; the protocol's three name fields all carry it.
            // `rent`: 1 where numbers of the country can be rented (it has a rental price).
            table[String(c.id)] = { id: c.id, rus: c.name, eng: c.name, chn: c.name, visible: 1, retry: 1, rent: rentable.has(c.id) ? 1 : 0, multiService: 0 };
          }
          return json(table);
        }
        case 'getServicesList':
          return json({ status: 'success', services: await catalog.services() });
        case 'getActiveActivations':
          return getActiveActivations(principal);
        default:
          return text('BAD_ACTION');
      }
    },
  };
}
