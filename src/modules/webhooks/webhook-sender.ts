import { lookup as dnsLookup } from 'node:dns/promises';
import http from 'node:http';
import https from 'node:https';
import net, { type LookupFunction } from 'node:net';
import { bareHost, isLoopbackName, refusedAddressReason } from './webhook-address.ts';

/** Resolves a host name to its addresses (node:dns by default; a test may answer itself). */
export type HostResolver = (hostname: string) => Promise<{ address: string; family: number }[]>;

export interface WebhookPost {
  url: string;
  headers: Record<string, string>;
  body: string;
}

/** The receiver's status code, or why there is none (refused, unreachable, timed out). */
export type WebhookPostResult = { status: number } | { error: string };

export interface WebhookSender {
  post(request: WebhookPost): Promise<WebhookPostResult>;
}

const systemResolver: HostResolver = (hostname) => dnsLookup(hostname, { all: true, verbatim: true });

/**
 * POSTs a webhook to the address its name resolved to *and was checked*: the name is resolved
 * once, every address is judged (webhook-address.ts), and the connection goes to the first
 * public one through a `lookup` that returns exactly it. So a name that passed at registration
 * but now points inside (DNS rebinding: a short TTL, a second answer) reaches nothing; the Host
 * header and TLS (SNI and the certificate check) still use the name. No redirect is followed,
 * no connection is pooled (a new one is checked every time).
 */
export function createWebhookSender(options: { allowLoopback: boolean; timeoutMs: number; resolve?: HostResolver }): WebhookSender {
  const resolve = options.resolve ?? systemResolver;
  const allowLoopback = options.allowLoopback;

  async function pickAddress(url: URL): Promise<{ address: string; family: number } | { refused: string }> {
    const host = bareHost(url);
    if (isLoopbackName(host) && !allowLoopback) return { refused: `${host} is this server (a loopback name)` };
    const family = net.isIP(host);
    const candidates = family !== 0 ? [{ address: host, family }] : await resolve(host);
    if (candidates.length === 0) return { refused: `${host} resolves to no address` };
    const usable = candidates.find(({ address }) => refusedAddressReason(address, { allowLoopback }) === null);
    if (usable) return usable;
    const first = candidates[0];
    return { refused: `${host}${family !== 0 ? '' : ` resolves to ${first.address}, which`} is ${refusedAddressReason(first.address, { allowLoopback })}` };
  }

  return {
    async post(request) {
      const url = new URL(request.url);
      let picked: Awaited<ReturnType<typeof pickAddress>>;
      try {
        picked = await pickAddress(url);
      } catch (error) {
        return { error: `DNS lookup of ${url.hostname} failed: ${(error as Error).message}` };
      }
      if ('refused' in picked) return { error: `refused: ${picked.refused}; webhooks are sent to public internet addresses only` };
      const { address, family } = picked;
      // Called by net.connect for the host name: the answer is the address checked above, never a
      // second lookup. (An IP literal needs no lookup and connects to itself, checked above too.)
      const pinned: LookupFunction = (_hostname, lookupOptions, callback) => {
        if (lookupOptions.all) callback(null, [{ address, family }]);
        else callback(null, address, family);
      };
      const client = url.protocol === 'https:' ? https : http;
      return new Promise<WebhookPostResult>((settle) => {
        const outgoing = client.request(
          {
            protocol: url.protocol,
            hostname: bareHost(url),
            port: url.port || undefined,
            path: `${url.pathname}${url.search}`,
            method: 'POST',
            headers: { ...request.headers, host: url.host, 'content-length': String(Buffer.byteLength(request.body)) },
            lookup: pinned,
            agent: false,
          },
          (response) => {
            clearTimeout(timer);
            // The receiver's answer body is of no use to us; don't buffer it.
            response.resume();
            settle({ status: response.statusCode ?? 0 });
          },
        );
        const timer = setTimeout(() => {
          outgoing.destroy();
          settle({ error: `no answer within ${options.timeoutMs / 1000} s` });
        }, options.timeoutMs);
        outgoing.on('error', (error) => {
          clearTimeout(timer);
          settle({ error: error.message });
        });
        outgoing.end(request.body);
      });
    },
  };
}
