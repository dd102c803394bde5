/**
 * Our client for an upstream provider speaking the sms-activate `handler_api.php` protocol
 * (GET `?api_key=…&action=…`, plain-text answers such as `ACCESS_NUMBER:id:number`, JSON for
 * getPrices). Every answer is matched against the protocol's known replies; anything else is an
 * error, never guessed at.
 */
export class UpstreamError extends Error {
  override name = 'UpstreamError';
}

export interface UpstreamPrice {
  country: string;
  service: string;
  /** USD per number. */
  cost: number;
  count: number;
}

export type UpstreamStatus = { state: 'waiting' } | { state: 'code'; code: string } | { state: 'cancelled' };

/** setStatus values: 6 = activation finished (code used), 8 = cancel. */
export const upstreamSetStatus = { complete: 6, cancel: 8 } as const;

export interface SmsActivateClient {
  getBalance(): Promise<number>;
  getPrices(): Promise<UpstreamPrice[]>;
  /** null on NO_NUMBERS. */
  getNumber(input: { service: string; country: string; operator?: string; maxPrice?: number }): Promise<{ id: string; number: string } | null>;
  getStatus(id: string): Promise<UpstreamStatus>;
  setStatus(id: string, status: (typeof upstreamSetStatus)[keyof typeof upstreamSetStatus]): Promise<void>;
  /** Rentals (issue 11): null on NO_NUMBERS (or any other refusal the protocol words as one). */
  getRentNumber(input: { country: string; hours: number; operator?: string }): Promise<{ id: string; number: string } | null>;
  getRentStatus(id: string): Promise<UpstreamRentStatus>;
  /** 1 = finish, 2 = cancel (a cancel the upstream refuses with CANT_CANCEL finishes it instead). An ended rental counts as done. */
  setRentStatus(id: string, status: 1 | 2): Promise<void>;
  /** Extends a rental by `hours`: null on success, else the upstream's refusal (RENT_DIE, NO_BALANCE …). */
  continueRentNumber(id: string, hours: number): Promise<string | null>;
}

/** A rental's messages at the upstream, oldest first; or how it ended there. */
export type UpstreamRentStatus =
  | { state: 'messages'; messages: { from: string; text: string; date: string }[] }
  | { state: 'ended'; how: 'cancelled' | 'finished' };

export function createSmsActivateClient(options: { url: string; apiKey: string; timeoutMs: number }): SmsActivateClient {
  async function call(action: string, params: Record<string, string | number | undefined> = {}): Promise<string> {
    const url = new URL(options.url);
    url.searchParams.set('api_key', options.apiKey);
    url.searchParams.set('action', action);
    for (const [name, value] of Object.entries(params)) if (value !== undefined) url.searchParams.set(name, String(value));
    let response: Response;
    try {
      response = await fetch(url, { signal: AbortSignal.timeout(options.timeoutMs) });
    } catch (error) {
      const reason = (error as Error).name === 'TimeoutError' ? `no answer within ${options.timeoutMs} ms` : (error as Error).message;
      throw new UpstreamError(`${action}: ${reason}`);
    }
    const text = (await response.text()).trim();
    if (response.status !== 200) throw new UpstreamError(`${action}: HTTP ${response.status}`);
    if (['BAD_KEY', 'ERROR_SQL', 'BAD_ACTION', 'BAD_SERVICE', 'NO_BALANCE', 'BANNED'].includes(text.split(':')[0]!)) {
      throw new UpstreamError(`${action}: ${text}`);
    }
    return text;
  }

  /** The rent actions answer JSON: {"status":"success",…} or {"status":"error","message":"NO_NUMBERS"}. */
  async function rentJson(action: string, params: Record<string, string | number | undefined>): Promise<Record<string, unknown>> {
    const text = await call(action, params);
    let data: unknown;
    try {
      data = JSON.parse(text);
    } catch {
      throw new UpstreamError(`${action}: not JSON: ${text.slice(0, 80)}`);
    }
    const status = (data as { status?: unknown } | null)?.status;
    if (status !== 'success' && status !== 'error') throw new UpstreamError(`${action}: unexpected answer ${text.slice(0, 80)}`);
    return data as Record<string, unknown>;
  }

  async function setRentStatus(id: string, status: 1 | 2): Promise<void> {
    const reply = await rentJson('setRentStatus', { id, status });
    if (reply.status === 'success' || reply.message === 'ALREADY_FINISH' || reply.message === 'ALREADY_CANCEL') return;
    // Past its cancel window (or after an SMS) the upstream only lets it be finished.
    if (status === 2 && reply.message === 'CANT_CANCEL') return setRentStatus(id, 1);
    throw new UpstreamError(`setRentStatus ${status}: ${String(reply.message).slice(0, 80)}`);
  }

  return {
    async getBalance() {
      const text = await call('getBalance');
      const match = /^ACCESS_BALANCE:(\d+(?:\.\d+)?)$/.exec(text);
      if (!match) throw new UpstreamError(`getBalance: unexpected answer ${text.slice(0, 80)}`);
      return Number(match[1]);
    },
    async getPrices() {
      const text = await call('getPrices');
      let data: unknown;
      try {
        data = JSON.parse(text);
      } catch {
        throw new UpstreamError(`getPrices: not JSON: ${text.slice(0, 80)}`);
      }
      if (typeof data !== 'object' || data === null) throw new UpstreamError('getPrices: not an object');
      const rows: UpstreamPrice[] = [];
      for (const [country, services] of Object.entries(data as Record<string, unknown>)) {
        if (typeof services !== 'object' || services === null) throw new UpstreamError(`getPrices: country ${country} has no services`);
        for (const [service, offer] of Object.entries(services as Record<string, unknown>)) {
          const { cost, count } = (offer ?? {}) as { cost?: unknown; count?: unknown };
          const costNumber = typeof cost === 'string' ? Number(cost) : cost;
          if (typeof costNumber !== 'number' || !Number.isFinite(costNumber) || costNumber < 0 || !Number.isInteger(count) || (count as number) < 0) {
            throw new UpstreamError(`getPrices: ${country}/${service} lacks a cost or count`);
          }
          rows.push({ country, service, cost: costNumber, count: count as number });
        }
      }
      return rows;
    },
    async getNumber(input) {
      const text = await call('getNumber', { service: input.service, country: input.country, operator: input.operator, maxPrice: input.maxPrice });
      if (text === 'NO_NUMBERS') return null;
      const match = /^ACCESS_NUMBER:(\d+):(\d{6,15})$/.exec(text);
      if (!match) throw new UpstreamError(`getNumber: unexpected answer ${text.slice(0, 80)}`);
      return { id: match[1]!, number: match[2]! };
    },
    async getStatus(id) {
      const text = await call('getStatus', { id });
      if (text === 'STATUS_WAIT_CODE' || text === 'STATUS_WAIT_RESEND' || text.startsWith('STATUS_WAIT_RETRY:')) return { state: 'waiting' };
      if (text === 'STATUS_CANCEL') return { state: 'cancelled' };
      const match = /^STATUS_OK:(.+)$/s.exec(text);
      if (match) return { state: 'code', code: match[1]! };
      throw new UpstreamError(`getStatus: unexpected answer ${text.slice(0, 80)}`);
    },
    async setStatus(id, status) {
      const text = await call('setStatus', { id, status });
      const expected = status === upstreamSetStatus.complete ? ['ACCESS_ACTIVATION'] : ['ACCESS_CANCEL', 'ACCESS_CANCEL_ALREADY'];
      // NO_ACTIVATION on a repeat: the upstream already closed it, which is what we asked.
      if (!expected.includes(text) && text !== 'NO_ACTIVATION') throw new UpstreamError(`setStatus ${status}: ${text.slice(0, 80)}`);
    },
    async getRentNumber(input) {
      const reply = await rentJson('getRentNumber', { country: input.country, rent_time: input.hours, operator: input.operator });
      if (reply.status !== 'success') return null;
      const phone = reply.phone as { id?: unknown; number?: unknown } | undefined;
      const id = String(phone?.id ?? '');
      const number = String(phone?.number ?? '');
      if (!/^\d{1,20}$/.test(id) || !/^\d{6,15}$/.test(number)) throw new UpstreamError(`getRentNumber: unexpected answer ${JSON.stringify(reply).slice(0, 80)}`);
      return { id, number };
    },
    async getRentStatus(id) {
      const reply = await rentJson('getRentStatus', { id });
      if (reply.status === 'error') {
        if (reply.message === 'STATUS_WAIT_CODE') return { state: 'messages', messages: [] };
        if (reply.message === 'STATUS_CANCEL') return { state: 'ended', how: 'cancelled' };
        if (reply.message === 'STATUS_FINISH') return { state: 'ended', how: 'finished' };
        throw new UpstreamError(`getRentStatus: ${String(reply.message).slice(0, 80)}`);
      }
      const values = reply.values;
      if (reply.status !== 'success' || typeof values !== 'object' || values === null) throw new UpstreamError('getRentStatus: no values');
      const messages = Object.entries(values as Record<string, { phoneFrom?: unknown; text?: unknown; date?: unknown }>)
        .sort(([a], [b]) => Number(a) - Number(b))
        .map(([, value]) => {
          if (typeof value?.text !== 'string') throw new UpstreamError('getRentStatus: a message without text');
          return { from: String(value.phoneFrom ?? ''), text: value.text, date: String(value.date ?? '') };
        });
      return { state: 'messages', messages };
    },
    setRentStatus,
    async continueRentNumber(id, hours) {
      const reply = await rentJson('continueRentNumber', { id, rent_time: hours });
      return reply.status === 'success' ? null : String(reply.message ?? 'refused');
    },
  };
}
