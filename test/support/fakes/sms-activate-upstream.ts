import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A fake upstream provider speaking sms-activate's `handler_api.php`: GET
 * `/stubs/handler_api.php?api_key=…&action=…`, answering in the protocol's plain text
 * (`ACCESS_NUMBER:id:number`, `STATUS_OK:code` …) or JSON (getPrices), always HTTP 200.
 * `behave` switches an action to a failure mode; `receiveCode` makes a code arrive.
 * Rentals (getRentNumber, getRentStatus, setRentStatus, continueRentNumber) answer JSON in the
 * formats our own compat endpoint uses (src/modules/compat/compat-rentals.ts); `receiveRentSms`
 * makes a message reach a rented number. Rentals take numbers from the same pool.
 */
export type UpstreamBehavior = 'normal' | 'timeout' | 'malformed' | 'no-numbers' | 'early-cancel-denied' | 'bad-key' | 'rent-die';

export interface FakeUpstreamRental {
  number: string;
  status: 'active' | 'finished' | 'cancelled';
  hours: number;
  country: string;
  messages: { phoneFrom: string; text: string; service: string; date: string }[];
}

export interface FakeUpstream {
  url: string;
  apiKey: string;
  calls: { action: string; params: Record<string, string> }[];
  /** Upstream activations: id → number, status, code. */
  activations: Map<string, { number: string; status: 'waiting' | 'code' | 'finished' | 'cancelled'; code?: string }>;
  /** Upstream rentals: id → number, status, hours, messages (oldest first). */
  rentals: Map<string, FakeUpstreamRental>;
  receiveRentSms(number: string, from: string, text: string): void;
  behave(action: string, behavior: UpstreamBehavior): void;
  receiveCode(number: string, code: string): void;
  close(): Promise<void>;
}

export async function startFakeUpstream(options: {
  apiKey: string;
  /** getPrices: upstream country id → service → offer. */
  prices: Record<string, Record<string, { cost: number; count: number }>>;
  pool: string[];
  balance?: number;
  stallMs?: number;
}): Promise<FakeUpstream> {
  const behaviors = new Map<string, UpstreamBehavior>();
  const calls: FakeUpstream['calls'] = [];
  const activations: FakeUpstream['activations'] = new Map();
  const rentals: FakeUpstream['rentals'] = new Map();
  const pool = [...options.pool];
  let balance = options.balance ?? 100;
  let nextId = 1_000_000 + Math.floor(Math.random() * 1000) * 1000;

  const server = createServer(async (request, response) => {
    const url = new URL(request.url ?? '/', 'http://upstream');
    const send = (text: string) => {
      if (response.destroyed) return;
      response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      response.end(text);
    };
    const json = (body: unknown) => send(JSON.stringify(body));
    if (url.pathname !== '/stubs/handler_api.php') return send('BAD_ACTION');
    const params = Object.fromEntries(url.searchParams);
    const action = params.action ?? '';
    calls.push({ action, params });
    const behavior = behaviors.get(action) ?? 'normal';
    if (params.api_key !== options.apiKey || behavior === 'bad-key') return send('BAD_KEY');
    if (behavior === 'timeout') {
      await new Promise((resolve) => setTimeout(resolve, options.stallMs ?? 2000));
      return send('NO_NUMBERS');
    }
    if (behavior === 'malformed') return send('<html><body>502 Bad Gateway</body></html>');
    switch (action) {
      case 'getBalance':
        return send(`ACCESS_BALANCE:${balance.toFixed(2)}`);
      case 'getPrices':
        return send(JSON.stringify(options.prices));
      case 'getNumber': {
        const offer = options.prices[params.country ?? '']?.[params.service ?? ''];
        if (!offer) return send('BAD_SERVICE');
        if (behavior === 'no-numbers' || pool.length === 0) return send('NO_NUMBERS');
        if (balance < offer.cost) return send('NO_BALANCE');
        balance -= offer.cost;
        const number = pool.shift()!;
        const id = String(nextId++);
        activations.set(id, { number, status: 'waiting' });
        return send(`ACCESS_NUMBER:${id}:${number}`);
      }
      case 'getStatus': {
        const activation = activations.get(params.id ?? '');
        if (!activation) return send('NO_ACTIVATION');
        if (activation.status === 'cancelled') return send('STATUS_CANCEL');
        return send(activation.code ? `STATUS_OK:${activation.code}` : 'STATUS_WAIT_CODE');
      }
      case 'setStatus': {
        const activation = activations.get(params.id ?? '');
        if (!activation) return send('NO_ACTIVATION');
        if (params.status === '6') {
          activation.status = 'finished';
          return send('ACCESS_ACTIVATION');
        }
        if (params.status === '8') {
          if (behavior === 'early-cancel-denied') return send('EARLY_CANCEL_DENIED');
          activation.status = 'cancelled';
          return send('ACCESS_CANCEL');
        }
        return send('BAD_STATUS');
      }
      case 'getRentNumber': {
        if (!options.prices[params.country ?? '']) return json({ status: 'error', message: 'NO_NUMBERS' });
        if (behavior === 'no-numbers' || pool.length === 0) return json({ status: 'error', message: 'NO_NUMBERS' });
        const hours = Number(params.rent_time ?? '4');
        const number = pool.shift()!;
        const id = String(nextId++);
        rentals.set(id, { number, status: 'active', hours, country: params.country!, messages: [] });
        const endDate = new Date(Date.now() + hours * 3600_000).toISOString().slice(0, 19).replace('T', ' ');
        return json({ status: 'success', phone: { id: Number(id), endDate, number } });
      }
      case 'getRentStatus': {
        const rental = rentals.get(params.id ?? '');
        if (!rental) return json({ status: 'error', message: 'INVALID_PHONE' });
        if (rental.status === 'cancelled') return json({ status: 'error', message: 'STATUS_CANCEL' });
        if (rental.status === 'finished') return json({ status: 'error', message: 'STATUS_FINISH' });
        if (rental.messages.length === 0) return json({ status: 'error', message: 'STATUS_WAIT_CODE' });
        return json({ status: 'success', quantity: String(rental.messages.length), values: { ...rental.messages } });
      }
      case 'setRentStatus': {
        const rental = rentals.get(params.id ?? '');
        if (!rental) return json({ status: 'error', message: 'INVALID_PHONE' });
        if (rental.status !== 'active') return json({ status: 'error', message: rental.status === 'cancelled' ? 'ALREADY_CANCEL' : 'ALREADY_FINISH' });
        if (params.status === '1') rental.status = 'finished';
        else if (params.status === '2') rental.status = 'cancelled';
        else return json({ status: 'error', message: 'INCORECT_STATUS' });
        return json({ status: 'success' });
      }
      case 'continueRentNumber': {
        const rental = rentals.get(params.id ?? '');
        if (!rental) return json({ status: 'error', message: 'INVALID_PHONE' });
        if (behavior === 'rent-die' || rental.status !== 'active') return json({ status: 'error', message: 'RENT_DIE' });
        rental.hours += Number(params.rent_time ?? '4');
        return json({ status: 'success', phone: { id: Number(params.id), endDate: '2099-01-01 00:00:00', number: rental.number } });
      }
      default:
        return send('BAD_ACTION');
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));

  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/stubs/handler_api.php`,
    apiKey: options.apiKey,
    calls,
    activations,
    rentals,
    receiveRentSms(number, from, text) {
      for (const rental of rentals.values()) {
        if (rental.number === number && rental.status === 'active') {
          rental.messages.push({ phoneFrom: from, text, service: 'full', date: new Date().toISOString().slice(0, 19).replace('T', ' ') });
        }
      }
    },
    behave: (action, behavior) => void behaviors.set(action, behavior),
    receiveCode(number, code) {
      for (const activation of activations.values()) {
        if (activation.number === number && activation.status === 'waiting') {
          activation.status = 'code';
          activation.code = code;
        }
      }
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
