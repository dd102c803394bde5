import { gzipSync } from 'node:zlib';

/**
 * Our side of the SMSHub agent protocol (version of March 6, 2024) towards a SIM-bank agent:
 * POST JSON `{action, key, …}` to the agent's URL, gzip-compressed, with a User-Agent, and read
 * `{status: "SUCCESS" | "NO_NUMBERS" | "ERROR", …}`. Every reply is checked field by field: a
 * malformed answer is an error, never a guess.
 */
export interface AgentStockRow {
  country: string;
  operator: string;
  service: string;
  available: number;
}

/** FINISH_ACTIVATION statuses (protocol appendix 4). */
export const agentFinishStatus = {
  /** Do not give this number for this service again (e.g. already sold for it). */
  refused: 1,
  completed: 3,
  cancelled: 4,
  /** The customer was refunded: no SMS came before expiry. */
  expired: 5,
  /** Leased but never sold (our purchase failed after the agent gave the number). */
  released: 4,
} as const;

export type AgentFinishOutcome = keyof typeof agentFinishStatus;

export class AgentProtocolError extends Error {
  override name = 'AgentProtocolError';
}

export interface SmshubAgentClient {
  getServices(): Promise<AgentStockRow[]>;
  /** A number (digits with the country code) and the agent's activation id, or null on NO_NUMBERS. */
  getNumber(input: { country: string; operator: string; service: string; sum: number; exceptionPhoneSet?: string[] }): Promise<{ number: string; activationId: string } | null>;
  finishActivation(activationId: string, outcome: AgentFinishOutcome): Promise<void>;
}

const userAgent = 'NovaSMS-SMSHub/1.0';

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

export function createSmshubAgentClient(options: { url: string; key: string; timeoutMs: number }): SmshubAgentClient {
  async function call(action: string, fields: Record<string, unknown>): Promise<Record<string, unknown>> {
    const body = gzipSync(JSON.stringify({ action, key: options.key, ...fields }));
    let response: Response;
    try {
      response = await fetch(options.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'content-encoding': 'gzip', 'accept-encoding': 'gzip', 'user-agent': userAgent },
        body,
        signal: AbortSignal.timeout(options.timeoutMs),
      });
    } catch (error) {
      const reason = (error as Error).name === 'TimeoutError' ? `no answer within ${options.timeoutMs} ms` : (error as Error).message;
      throw new AgentProtocolError(`${action}: ${reason}`);
    }
    const text = await response.text();
    let reply: unknown;
    try {
      reply = JSON.parse(text);
    } catch {
      throw new AgentProtocolError(`${action}: HTTP ${response.status}, not JSON: ${text.slice(0, 100)}`);
    }
    if (!isRecord(reply) || typeof reply.status !== 'string') throw new AgentProtocolError(`${action}: reply without a status`);
    if (reply.status === 'ERROR') throw new AgentProtocolError(`${action}: agent error: ${String(reply.error ?? 'no description')}`);
    return reply;
  }

  return {
    async getServices() {
      const reply = await call('GET_SERVICES', {});
      if (reply.status !== 'SUCCESS' || !Array.isArray(reply.countryList)) throw new AgentProtocolError('GET_SERVICES: no countryList');
      const rows: AgentStockRow[] = [];
      for (const entry of reply.countryList) {
        if (!isRecord(entry) || typeof entry.country !== 'string' || !isRecord(entry.operatorMap)) {
          throw new AgentProtocolError('GET_SERVICES: a countryList entry lacks country or operatorMap');
        }
        for (const [operator, services] of Object.entries(entry.operatorMap)) {
          if (!isRecord(services)) throw new AgentProtocolError(`GET_SERVICES: operator ${operator} has no service map`);
          for (const [service, count] of Object.entries(services)) {
            if (!Number.isInteger(count) || (count as number) < 0) throw new AgentProtocolError(`GET_SERVICES: ${operator}/${service} is not a count`);
            rows.push({ country: entry.country, operator, service, available: count as number });
          }
        }
      }
      return rows;
    },
    async getNumber(input) {
      // currency 840: we pay agents in US dollars, sum with 4 decimals (protocol "cur" type).
      const reply = await call('GET_NUMBER', {
        country: input.country,
        operator: input.operator,
        service: input.service,
        sum: Math.round(input.sum * 10000) / 10000,
        currency: 840,
        ...(input.exceptionPhoneSet?.length ? { exceptionPhoneSet: input.exceptionPhoneSet } : {}),
      });
      if (reply.status === 'NO_NUMBERS') return null;
      // Both are numeric (Ulong) in the protocol; a string there is a broken agent.
      if (reply.status !== 'SUCCESS' || !Number.isSafeInteger(reply.number) || !Number.isSafeInteger(reply.activationId)) {
        throw new AgentProtocolError('GET_NUMBER: reply lacks a numeric number or activationId');
      }
      return { number: String(reply.number), activationId: String(reply.activationId) };
    },
    async finishActivation(activationId, outcome) {
      const reply = await call('FINISH_ACTIVATION', { activationId: Number(activationId), status: agentFinishStatus[outcome] });
      if (reply.status !== 'SUCCESS') throw new AgentProtocolError(`FINISH_ACTIVATION: status ${String(reply.status)}`);
    },
  };
}
