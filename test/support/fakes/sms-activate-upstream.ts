import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A fake upstream provider speaking sms-activate's `handler_api.php`: GET
 * `/stubs/handler_api.php?api_key=…&action=…`, answering in the protocol's plain text
 * (`ACCESS_NUMBER:id:number`, `STATUS_OK:code` …) or JSON (getPrices), always HTTP 200.
 * `behave` switches an action to a failure mode; `receiveCode` makes a code arrive.
 */
export type UpstreamBehavior = 'normal' | 'timeout' | 'malformed' | 'no-numbers' | 'early-cancel-denied' | 'bad-key';

export interface FakeUpstream {
  url: string;
  apiKey: string;
  calls: { action: string; params: Record<string, string> }[];
  /** Upstream activations: id → number, status, code. */
  activations: Map<string, { number: string; status: 'waiting' | 'code' | 'finished' | 'cancelled'; code?: string }>;
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
