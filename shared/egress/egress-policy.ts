/**
 * The egress guard's policy: where a browser driven by the platform may connect. Pure,
 * except for the DNS resolver it is handed. A destination is allowed only if every address
 * its host resolves to is public, or the operator allowed it (`EGRESS_ALLOW`); the caller
 * then connects to exactly the vetted addresses, so a second DNS answer can't rebind it.
 */
import { BlockList, isIP } from 'node:net';
import { BrowserfleetError, ERROR_CODES } from '../errors.js';

export type BlockReason =
  | 'loopback'
  | 'private'
  | 'link-local'
  | 'metadata'
  | 'cgnat'
  | 'unspecified'
  | 'multicast'
  | 'broadcast'
  | 'reserved'
  | 'unique-local';

export type DenyReason = BlockReason | 'scheme' | 'unresolvable';

export interface AllowEntry {
  /** Lower-case host name or IP literal (IPv6 without brackets). */
  host: string;
  port?: number;
}

export type DnsResolver = (host: string) => Promise<string[]>;

export type Destination =
  | { allowed: true; host: string; port: number; addresses: string[] }
  | { allowed: false; reason: DenyReason; message: string };

const RANGES: [BlockReason, string, number, 'ipv4' | 'ipv6'][] = [
  ['unspecified', '0.0.0.0', 8, 'ipv4'],
  ['private', '10.0.0.0', 8, 'ipv4'],
  ['cgnat', '100.64.0.0', 10, 'ipv4'],
  ['loopback', '127.0.0.0', 8, 'ipv4'],
  ['metadata', '169.254.169.254', 32, 'ipv4'],
  ['link-local', '169.254.0.0', 16, 'ipv4'],
  ['private', '172.16.0.0', 12, 'ipv4'],
  ['reserved', '192.0.0.0', 24, 'ipv4'],
  ['reserved', '192.0.2.0', 24, 'ipv4'],
  ['private', '192.168.0.0', 16, 'ipv4'],
  ['reserved', '198.18.0.0', 15, 'ipv4'],
  ['reserved', '198.51.100.0', 24, 'ipv4'],
  ['reserved', '203.0.113.0', 24, 'ipv4'],
  ['multicast', '224.0.0.0', 4, 'ipv4'],
  ['broadcast', '255.255.255.255', 32, 'ipv4'],
  ['reserved', '240.0.0.0', 4, 'ipv4'],
  ['reserved', '192.88.99.0', 24, 'ipv4'],
  ['unspecified', '::', 128, 'ipv6'],
  ['loopback', '::1', 128, 'ipv6'],
  ['metadata', 'fd00:ec2::254', 128, 'ipv6'],
  ['unique-local', 'fc00::', 7, 'ipv6'],
  ['link-local', 'fe80::', 10, 'ipv6'],
  ['multicast', 'ff00::', 8, 'ipv6'],
  ['reserved', '2001:db8::', 32, 'ipv6'],
  ['reserved', '100::', 64, 'ipv6'],
  // Site-local (deprecated by RFC 3879, still routed inside some networks).
  ['private', 'fec0::', 10, 'ipv6'],
  // Local-use NAT64 (RFC 8215): translates to whatever IPv4 the operator's NAT64 reaches.
  ['private', '64:ff9b:1::', 48, 'ipv6'],
  // Teredo embeds its IPv4 server and (obfuscated) client: nothing a page needs to reach.
  ['reserved', '2001::', 32, 'ipv6'],
];

/** One BlockList per reason, most specific first (metadata before link-local). */
const LISTS: [BlockReason, BlockList][] = RANGES.map(([reason, network, prefix, type]) => {
  const list = new BlockList();
  list.addSubnet(network, prefix, type);
  return [reason, list];
});

const hex4 = (a: number, b: number) => `${a >> 8}.${a & 255}.${b >> 8}.${b & 255}`;

/** The IPv4 address an IPv6 address embeds (mapped, compatible, NAT64, 6to4), if any. */
const embeddedIpv4 = (ip: string): string | undefined => {
  const lower = ip.toLowerCase();
  const dotted = /^(?:::ffff:|::ffff:0:|::|64:ff9b::)(\d+\.\d+\.\d+\.\d+)$/.exec(lower);
  if (dotted?.[1] !== undefined) return dotted[1];
  const words = expandIpv6(lower);
  if (words === undefined) return undefined;
  const [w0, w1, w2, w3, w4, w5, w6, w7] = words as [
    number,
    number,
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const zeroPrefix = w0 === 0 && w1 === 0 && w2 === 0 && w3 === 0 && w4 === 0;
  if (zeroPrefix && w5 === 0xffff) return hex4(w6, w7); // ::ffff:a.b.c.d, IPv4-mapped
  if (w0 === 0 && w1 === 0 && w2 === 0 && w3 === 0 && w4 === 0xffff && w5 === 0) return hex4(w6, w7); // ::ffff:0:a.b.c.d, IPv4-translated (SIIT)
  if (zeroPrefix && w5 === 0 && (w6 !== 0 || w7 > 1)) return hex4(w6, w7); // ::a.b.c.d, IPv4-compatible
  if (w0 === 0x64 && w1 === 0xff9b && w2 === 0 && w3 === 0 && w4 === 0 && w5 === 0) return hex4(w6, w7); // NAT64
  if (w0 === 0x2002) return hex4(w1, w2); // 6to4
  return undefined;
};

const expandIpv6 = (ip: string): number[] | undefined => {
  if (isIP(ip) !== 6) return undefined;
  let text = ip;
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4?.[1] !== undefined) {
    const [a, b, c, d] = v4[1].split('.').map(Number) as [number, number, number, number];
    text = `${text.slice(0, -v4[1].length)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const headWords = head === '' ? [] : head.split(':');
  const tailWords = tail === undefined || tail === '' ? [] : tail.split(':');
  const missing = 8 - headWords.length - tailWords.length;
  const words = [...headWords, ...Array(tail === undefined ? 0 : missing).fill('0'), ...tailWords];
  return words.length === 8 ? words.map((w) => Number.parseInt(w, 16)) : undefined;
};

/** Whether an IP address is one the browser must never reach, and why. */
export const classifyAddress = (ip: string): { blocked: false } | { blocked: true; reason: BlockReason } => {
  const family = isIP(ip);
  if (family === 0) return { blocked: true, reason: 'reserved' };
  if (family === 6) {
    const inner = embeddedIpv4(ip);
    if (inner !== undefined) return classifyAddress(inner);
  }
  const type = family === 4 ? 'ipv4' : 'ipv6';
  for (const [reason, list] of LISTS) {
    if (list.check(ip, type)) return { blocked: true, reason };
  }
  return { blocked: false };
};

const stripBrackets = (host: string): string => host.replace(/^\[(.*)\]$/, '$1').toLowerCase();

/** `EGRESS_ALLOW`: comma-separated `host` or `host:port` (IPv6 in brackets: `[::1]:8080`). */
export const parseEgressAllowList = (value: string | undefined): AllowEntry[] => {
  if (value === undefined || value.trim() === '') return [];
  return value.split(',').map((raw) => {
    const entry = raw.trim();
    const match = /^(\[[0-9a-fA-F:.]+\]|[^:[\]\s]+)(?::(\d{1,5}))?$/.exec(entry);
    const port = match?.[2] === undefined ? undefined : Number(match[2]);
    if (match?.[1] === undefined || (port !== undefined && (port < 1 || port > 65_535))) {
      throw new BrowserfleetError(
        ERROR_CODES.CONFIG_INVALID,
        `EGRESS_ALLOW: "${entry}" is not a host or host:port (write IPv6 in brackets, e.g. [::1]:8080).`,
      );
    }
    return { host: stripBrackets(match[1]), ...(port === undefined ? {} : { port }) };
  });
};

const defaultPort = (protocol: string): number => (protocol === 'https:' || protocol === 'wss:' ? 443 : 80);

/**
 * Decides whether a URL (or `host:port` of a CONNECT) may be reached. WHATWG URL parsing
 * has already normalised odd IPv4 spellings (decimal, octal, hex, short forms) to dotted
 * quads, so they are classified as what they really are.
 */
export const checkDestination = async (
  target: string | URL,
  deps: { allow: AllowEntry[]; resolve: DnsResolver },
): Promise<Destination> => {
  let url: URL;
  try {
    url = typeof target === 'string' ? new URL(target) : target;
  } catch {
    return { allowed: false, reason: 'scheme', message: 'not an absolute URL' };
  }
  if (!['http:', 'https:', 'ws:', 'wss:'].includes(url.protocol)) {
    return {
      allowed: false,
      reason: 'scheme',
      message: `the ${url.protocol} scheme is not allowed (http and https only)`,
    };
  }
  const host = stripBrackets(url.hostname);
  const port = url.port === '' ? defaultPort(url.protocol) : Number(url.port);
  const allowed = deps.allow.some((e) => e.host === host && (e.port === undefined || e.port === port));

  let addresses: string[];
  if (isIP(host) !== 0) {
    addresses = [host];
  } else {
    try {
      addresses = await deps.resolve(host);
    } catch {
      addresses = [];
    }
    if (addresses.length === 0) {
      return { allowed: false, reason: 'unresolvable', message: `the host ${host} does not resolve` };
    }
  }
  if (!allowed) {
    for (const address of addresses) {
      const verdict = classifyAddress(address);
      if (verdict.blocked) {
        return {
          allowed: false,
          reason: verdict.reason,
          message: `${host}${address === host ? '' : ` resolves to ${address}, which`} is a ${verdict.reason} address`,
        };
      }
    }
  }
  return { allowed: true, host, port, addresses };
};
