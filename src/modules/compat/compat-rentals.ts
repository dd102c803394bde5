import { AppError, type ErrorCode } from '../../http/errors.ts';
import { formatApiTime } from '../../time-format.ts';
import type { Principal } from '../accounts/accounts.service.ts';
import { toUsdNumber } from '../billing/money.ts';
import type { CatalogService } from '../catalog/catalog.service.ts';
import { maxRentalHours, minRentalHours, rentalCost } from '../rentals/rental-price.ts';
import type { Rental, RentalPrice, RentalsService } from '../rentals/rentals.service.ts';
import type { RentalStock } from '../supply/rental-stock.ts';
import type { CompatParams, CompatReply } from './compat.service.ts';

/*
 * Issue 11: the rental actions of the sms-activate protocol (handler_api.php), mapped onto the
 * RentalsService, so the rules (prices, the 20-minute refund window, extending, who sees what)
 * are the ones API v1 and the website use. This file only translates names, parameters and
 * replies. Unlike the activation actions these answer JSON, and refuse with
 * {"status":"error","message":"NO_NUMBERS"}-style bodies (HTTP 200), as the protocol does.
 *
 * What our model cannot express, and how it is mapped (the README says the same):
 * - A rental is per country (and optional operator) and receives every SMS, for every service:
 *   it is the protocol's "full" service. Every service code is accepted and rents the same
 *   number at the same price; getRentServicesAndCountries lists "full" and every catalog service
 *   with that one price and count, and each message's `service` is "full".
 * - Time is whole hours (1 to 720 per request), priced as the RentalsService prices them.
 */

/** The actions this file answers; compat.service.ts sends them here. */
export const compatRentalActions = new Set([
  'getRentServicesAndCountries',
  'getRentNumber',
  'getRentStatus',
  'setRentStatus',
  'getRentList',
  'continueRentNumber',
]);

/** The protocol's default rental time, in hours, when `rent_time` is not sent. */
export const defaultRentHours = 4;

/** The protocol's code for US dollars (ISO 4217), the currency of every price we answer. */
const usdCurrencyCode = 840;

/** As for getNumber: larger country ids are no country of ours (and would overflow the query). */
const maxCountryId = 100_000;

const json = (body: unknown): CompatReply => ({ kind: 'json', body });
/** The protocol's JSON refusal of the rent actions. */
const failure = (message: string): CompatReply => json({ status: 'error', message });

function positiveInt(value: string): number | null {
  if (!/^\d{1,15}$/.test(value.trim())) return null;
  const n = Number(value.trim());
  return n >= 1 && Number.isSafeInteger(n) ? n : null;
}

/** `rent_time` (or `time`, which some clients send for getRentNumber) in hours; null when unusable. */
function rentHours(params: CompatParams): number | null {
  const raw = params.rent_time ?? params.time;
  if (raw === undefined || raw.trim() === '') return defaultRentHours;
  const hours = positiveInt(raw);
  return hours !== null && hours >= minRentalHours && hours <= maxRentalHours ? hours : null;
}

/** The protocol's default country is 0; null for a value that names no country of ours. */
function countryOf(params: CompatParams): number | null {
  if (params.country === undefined || params.country.trim() === '') return 0;
  const id = Number(params.country.trim());
  return Number.isSafeInteger(id) && id >= 0 && id <= maxCountryId ? id : null;
}

/** "any" or nothing: no operator in particular; a comma list: those, in the caller's order. */
function operatorsOf(params: CompatParams): string[] {
  return (params.operator ?? '')
    .split(',')
    .map((op) => op.trim())
    .filter((op) => op && op !== 'any');
}

/** The rental id of `params.id`: NO_ID_RENT when absent, INVALID_PHONE ("wrong rental id") when not an id. */
function rentalIdOf(params: CompatParams): number | CompatReply {
  if (params.id === undefined || params.id.trim() === '') return failure('NO_ID_RENT');
  return positiveInt(params.id) ?? failure('INVALID_PHONE');
}

/** Answers an AppError of the mapped codes with the protocol's JSON refusal; rethrows anything else. */
function refusal(error: unknown, replies: Partial<Record<ErrorCode, string>>): CompatReply {
  if (error instanceof AppError && replies[error.code] !== undefined) return failure(replies[error.code]!);
  throw error;
}

/** getRentNumber's and continueRentNumber's `phone`: the number without "+", its end in API time (UTC). */
function phoneJson(rental: Rental) {
  return { id: rental.id, endDate: formatApiTime(rental.expiresAt), number: rental.number.replace(/^\+/, '') };
}

/** The price row renting on `operator` uses: the operator's own, else the country's default. */
function priceFor(rows: RentalPrice[], operator: string | undefined): RentalPrice | undefined {
  return (operator && rows.find((row) => row.operator === operator)) || rows.find((row) => row.operator === 'any');
}

export interface CompatRentals {
  /** Runs one of `compatRentalActions` for an authenticated key. */
  perform(principal: Principal, params: CompatParams): Promise<CompatReply>;
  /** Countries with a rental price (getCountries' `rent` flag). */
  rentableCountries(): Promise<Set<number>>;
}

export function createCompatRentals(deps: {
  rentals: RentalsService;
  /** Free rentable numbers per operator, for the protocol's operator list and counts. */
  rentalStock: Pick<RentalStock, 'available'>;
  catalog: CatalogService;
}): CompatRentals {
  const { rentals, rentalStock, catalog } = deps;

  async function servicesAndCountries(params: CompatParams): Promise<CompatReply> {
    const hours = rentHours(params);
    if (hours === null) return failure('INVALID_TIME');
    const [prices, services] = await Promise.all([rentals.prices(), catalog.services()]);
    const countries = [...new Set(prices.map((row) => row.countryId))].sort((a, b) => a - b);
    const countryId = countryOf(params);
    const operators = new Set<string>(['any']);
    const offers: Record<string, { cost: number; quant: number }> = {};
    if (countryId !== null && countries.includes(countryId)) {
      const rows = prices.filter((row) => row.countryId === countryId);
      const stock = await rentalStock.available(countryId);
      for (const name of [...rows.map((row) => row.operator), ...stock.map((count) => count.operator)].sort()) operators.add(name);
      const free = (operator: string | undefined) =>
        stock.filter((count) => operator === undefined || count.operator === operator).reduce((sum, count) => sum + count.available, 0);
      // A comma list of operators: the numbers of all of them, at the price of the first that
      // has one (the one getRentNumber would rent).
      const wanted = operatorsOf(params);
      const tries = wanted.length ? wanted : [undefined];
      const chosen = tries.find((operator) => free(operator) > 0 && priceFor(rows, operator)) ?? tries[0];
      const row = priceFor(rows, chosen);
      if (row) {
        const offer = { cost: toUsdNumber(rentalCost(hours, row)), quant: tries.reduce((sum, operator) => sum + free(operator), 0) };
        // One number receives every service's SMS: the protocol's "full", and each service alike.
        offers.full = offer;
        for (const service of services) offers[service.code] = { ...offer };
      }
    }
    return json({
      countries: Object.fromEntries(countries.map((id, index) => [String(index), id])),
      operators: Object.fromEntries([...operators].map((name, index) => [String(index), name])),
      services: offers,
      currency: usdCurrencyCode,
    });
  }

  async function rentNumber(principal: Principal, params: CompatParams): Promise<CompatReply> {
    const service = params.service?.trim();
    if (service && service !== 'full' && !(await catalog.services()).some((known) => known.code === service)) return failure('BAD_SERVICE');
    const hours = rentHours(params);
    if (hours === null) return failure('INVALID_TIME');
    const countryId = countryOf(params);
    if (countryId === null) return failure('NO_NUMBERS');
    const wanted = operatorsOf(params);
    const tries = wanted.length ? wanted : [undefined];
    for (const [index, operator] of tries.entries()) {
      try {
        const rental = await rentals.create(principal, { countryId, hours, operator });
        return json({ status: 'success', phone: phoneJson(rental) });
      } catch (error) {
        if (error instanceof AppError && error.code === 'out_of_stock' && index < tries.length - 1) continue;
        return refusal(error, { out_of_stock: 'NO_NUMBERS', unknown_country: 'NO_NUMBERS', insufficient_balance: 'NO_BALANCE' });
      }
    }
    return failure('NO_NUMBERS');
  }

  async function rentStatus(principal: Principal, params: CompatParams): Promise<CompatReply> {
    const id = rentalIdOf(params);
    if (typeof id !== 'number') return id;
    try {
      const { rental, messages } = await rentals.get(principal, id);
      if (rental.status === 'cancelled') return failure('STATUS_CANCEL');
      if (rental.status !== 'active') return failure('STATUS_FINISH');
      if (messages.length === 0) return failure('STATUS_WAIT_CODE');
      // Oldest first ("0" is the first SMS), as the protocol numbers them.
      const values = [...messages].reverse().map((message) => ({
        phoneFrom: message.sender,
        text: message.text,
        service: 'full',
        date: formatApiTime(message.receivedAt),
      }));
      return json({ status: 'success', quantity: String(values.length), values: { ...values } });
    } catch (error) {
      return refusal(error, { not_found: 'INVALID_PHONE' });
    }
  }

  /** ALREADY_FINISH / ALREADY_CANCEL for a rental that is no longer active. */
  async function alreadyEnded(principal: Principal, id: number): Promise<CompatReply> {
    const { rental } = await rentals.get(principal, id);
    return failure(rental.status === 'cancelled' ? 'ALREADY_CANCEL' : 'ALREADY_FINISH');
  }

  async function setRentStatus(principal: Principal, params: CompatParams): Promise<CompatReply> {
    const id = rentalIdOf(params);
    if (typeof id !== 'number') return id;
    const status = params.status?.trim();
    if (status !== '1' && status !== '2') return failure('INCORECT_STATUS'); // sic: the protocol's spelling
    try {
      const { rental } = await rentals.get(principal, id);
      if (rental.status !== 'active') return alreadyEnded(principal, id);
      // 1: finish (no refund); 2: cancel, refunded within the window and before any SMS.
      if (status === '1') await rentals.finish(principal, id);
      else await rentals.cancel(principal, id);
      return json({ status: 'success' });
    } catch (error) {
      // Ended meanwhile (another call, the sweeper, or past its end): say how it ended.
      if (error instanceof AppError && error.code === 'invalid_state') return alreadyEnded(principal, id);
      return refusal(error, { not_found: 'INVALID_PHONE', too_late: 'CANT_CANCEL' });
    }
  }

  async function rentList(principal: Principal): Promise<CompatReply> {
    const active: Rental[] = [];
    // Everything active this key sees (owners: the company's; members: their own), newest first.
    for (let offset = 0; ; offset += 100) {
      const page = await rentals.list(principal, { limit: 100, offset, status: 'active' });
      active.push(...page.rentals);
      if (page.rentals.length < 100 || active.length >= page.total) break;
    }
    if (active.length === 0) return failure('NO_NUMBERS');
    const values = active.map((rental) => ({ id: String(rental.id), phone: rental.number.replace(/^\+/, '') }));
    return json({ status: 'success', values: { ...values } });
  }

  async function continueRent(principal: Principal, params: CompatParams): Promise<CompatReply> {
    const id = rentalIdOf(params);
    if (typeof id !== 'number') return id;
    const hours = rentHours(params);
    if (hours === null) return failure('INVALID_TIME');
    try {
      return json({ status: 'success', phone: phoneJson(await rentals.extend(principal, id, hours)) });
    } catch (error) {
      // RENT_DIE: the rental has ended (or passed its end) and can no longer be extended.
      return refusal(error, { not_found: 'INVALID_PHONE', invalid_state: 'RENT_DIE', insufficient_balance: 'NO_BALANCE', out_of_stock: 'NO_NUMBERS' });
    }
  }

  return {
    async perform(principal, params) {
      switch (params.action) {
        case 'getRentServicesAndCountries':
          return servicesAndCountries(params);
        case 'getRentNumber':
          return rentNumber(principal, params);
        case 'getRentStatus':
          return rentStatus(principal, params);
        case 'setRentStatus':
          return setRentStatus(principal, params);
        case 'getRentList':
          return rentList(principal);
        case 'continueRentNumber':
          return continueRent(principal, params);
        default:
          return { kind: 'text', body: 'BAD_ACTION' };
      }
    },
    async rentableCountries() {
      return new Set((await rentals.prices()).map((row) => row.countryId));
    },
  };
}
