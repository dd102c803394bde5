import net from 'node:net';
import { AppError } from '../../http/errors.ts';

/**
 * Where a webhook may not go. A webhook URL is chosen by a customer and fetched by our server,
 * so without this anyone with an API key could make us POST to this host, our private network or
 * the cloud's metadata service (169.254.169.254) and read the answer code from the delivery log.
 */
const refusedRanges: { what: string; subnets: [address: string, prefix: number, family: 'ipv4' | 'ipv6'][] }[] = [
  { what: 'a loopback address (this server)', subnets: [['127.0.0.0', 8, 'ipv4'], ['::1', 128, 'ipv6']] },
  {
    what: 'a private network address',
    subnets: [
      ['10.0.0.0', 8, 'ipv4'],
      ['172.16.0.0', 12, 'ipv4'],
      ['192.168.0.0', 16, 'ipv4'],
      ['100.64.0.0', 10, 'ipv4'], // carrier-grade NAT (RFC 6598)
      ['fc00::', 7, 'ipv6'], // unique local (RFC 4193)
      ['fec0::', 10, 'ipv6'], // site-local, deprecated but still routed by some stacks
    ],
  },
  {
    what: 'a link-local address (cloud metadata services live there)',
    subnets: [['169.254.0.0', 16, 'ipv4'], ['fe80::', 10, 'ipv6']],
  },
  {
    what: 'a reserved address',
    subnets: [
      ['0.0.0.0', 8, 'ipv4'], // "this network": 0.0.0.0 reaches this host on Linux
      ['192.0.0.0', 24, 'ipv4'],
      ['192.0.2.0', 24, 'ipv4'],
      ['198.18.0.0', 15, 'ipv4'],
      ['198.51.100.0', 24, 'ipv4'],
      ['203.0.113.0', 24, 'ipv4'],
      ['224.0.0.0', 4, 'ipv4'], // multicast
      ['240.0.0.0', 4, 'ipv4'], // reserved and broadcast
      ['::', 128, 'ipv6'],
      ['100::', 64, 'ipv6'],
      ['2001:db8::', 32, 'ipv6'],
      ['ff00::', 8, 'ipv6'], // multicast
    ],
  },
];

const blockLists = refusedRanges.map(({ what, subnets }) => {
  const list = new net.BlockList();
  for (const [address, prefix, family] of subnets) list.addSubnet(address, prefix, family);
  return { what, list };
});

// Node's BlockList already matches IPv4-mapped IPv6 (::ffff:127.0.0.1) against IPv4 ranges. These
// other IPv6 forms carry an IPv4 address in their last 32 bits, or bits 16–48 for 6to4, and reach it
// through a gateway: they are judged by that IPv4 address.
const ipv4Carriers: { prefix: [string, number]; offset: number }[] = [
  { prefix: ['64:ff9b::', 96], offset: 12 }, // NAT64 (RFC 6052)
  { prefix: ['::', 96], offset: 12 }, // IPv4-compatible (deprecated): ::127.0.0.1
  { prefix: ['2002::', 16], offset: 2 }, // 6to4 (RFC 3056)
];
const carrierLists = ipv4Carriers.map(({ prefix, offset }) => {
  const list = new net.BlockList();
  list.addSubnet(prefix[0], prefix[1], 'ipv6');
  return { list, offset };
});

/** The 16 bytes of an IPv6 address (any valid spelling, an embedded dotted quad too). */
function ipv6Bytes(address: string): number[] {
  let text = address;
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted) {
    const [a, b, c, d] = dotted[1].split('.').map(Number);
    text = `${text.slice(0, dotted.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = text.includes('::') ? text.split('::') : [text, undefined];
  const headGroups = head ? head.split(':') : [];
  const tailGroups = tail ? tail.split(':') : [];
  const groups = tail === undefined ? headGroups : [...headGroups, ...Array(8 - headGroups.length - tailGroups.length).fill('0'), ...tailGroups];
  return groups.flatMap((group) => {
    const value = parseInt(group, 16);
    return [value >> 8, value & 0xff];
  });
}

/**
 * Why `address` (an IPv4 or IPv6 address, no brackets) is no place for a webhook, e.g.
 * "a private network address", or null when it is a public address. With `allowLoopback`
 * (NOVA_WEBHOOKS_ALLOW_HTTP_LOOPBACK: development and tests) loopback addresses pass.
 */
export function refusedAddressReason(address: string, options: { allowLoopback: boolean }): string | null {
  const family = net.isIP(address);
  if (family === 0) return 'not an IP address';
  const type = family === 4 ? 'ipv4' : 'ipv6';
  for (const { what, list } of blockLists) {
    if (!list.check(address, type)) continue;
    if (options.allowLoopback && list === blockLists[0].list) return null;
    return what;
  }
  if (family === 6) {
    for (const { list, offset } of carrierLists) {
      if (!list.check(address, 'ipv6')) continue;
      const embedded = ipv6Bytes(address).slice(offset, offset + 4).join('.');
      const reason = refusedAddressReason(embedded, options);
      if (reason) return `${reason} (${embedded}, embedded in ${address})`;
    }
  }
  return null;
}

/** Names that mean this host whatever DNS says (RFC 6761). */
export function isLoopbackName(hostname: string): boolean {
  const name = hostname.toLowerCase().replace(/\.$/, '');
  return name === 'localhost' || name.endsWith('.localhost');
}

/** A URL's host as an address or name, without IPv6 brackets. */
export function bareHost(url: URL): string {
  return url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
}

/**
 * The URL a customer registers, normalised, or 400 `invalid_request` saying why it cannot be
 * one: not https (plain http only for loopback when allowed), or an address or name that is not
 * on the public internet. The URL parser has already turned odd spellings of an IPv4 address
 * (2130706433, 0x7f.1, 0177.0.0.1, 127.1) into dotted form, so they are judged like any other.
 * Names are checked again at every delivery, after resolving them (webhook-sender.ts).
 */
export function checkWebhookUrl(raw: string, options: { allowHttpLoopback: boolean }): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new AppError('invalid_request', `body.url "${raw}" is not a URL; send an https:// address`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new AppError('invalid_request', `body.url must start with https:// (got "${url.protocol}//…"); webhooks are sent over TLS only`);
  }
  const host = bareHost(url);
  const loopback = isLoopbackName(host) || (net.isIP(host) !== 0 && refusedAddressReason(host, { allowLoopback: false }) === refusedRanges[0].what);
  if (url.protocol === 'http:' && !(options.allowHttpLoopback && loopback)) {
    throw new AppError('invalid_request', `body.url must start with https:// (got "http://…"); webhooks are sent over TLS only`);
  }
  const publicOnly = 'webhooks are sent to public internet addresses only';
  if (isLoopbackName(host) && !options.allowHttpLoopback) {
    throw new AppError('invalid_request', `body.url host "${host}" is this server (a loopback name); ${publicOnly}`);
  }
  if (net.isIP(host) !== 0) {
    const reason = refusedAddressReason(host, { allowLoopback: options.allowHttpLoopback });
    if (reason) throw new AppError('invalid_request', `body.url host ${url.hostname} is ${reason}; ${publicOnly}`);
  }
  return url.toString();
}
