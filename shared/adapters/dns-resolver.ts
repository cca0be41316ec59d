import { lookup } from 'node:dns/promises';
import type { DnsResolver } from '../egress/egress-policy.js';

/** Every address the system resolver answers for a host, in its order. */
export const systemDnsResolver: DnsResolver = async (host) =>
  (await lookup(host, { all: true, verbatim: true })).map((a) => a.address);
