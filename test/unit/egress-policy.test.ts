import { describe, expect, it } from 'vitest';
import {
  checkDestination,
  classifyAddress,
  parseEgressAllowList,
} from '../../shared/egress/egress-policy.js';

describe('egress policy: addresses', () => {
  it.each([
    ['127.0.0.1', 'loopback'],
    ['127.255.0.9', 'loopback'],
    ['10.0.0.1', 'private'],
    ['172.16.5.4', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.1.1', 'private'],
    ['169.254.169.254', 'metadata'],
    ['169.254.10.10', 'link-local'],
    ['100.64.0.1', 'cgnat'],
    ['0.0.0.0', 'unspecified'],
    ['224.0.0.251', 'multicast'],
    ['255.255.255.255', 'broadcast'],
    ['240.0.0.1', 'reserved'],
    ['::1', 'loopback'],
    ['::', 'unspecified'],
    ['fd00:ec2::254', 'metadata'],
    ['fd12:3456::1', 'unique-local'],
    ['fe80::1', 'link-local'],
    ['ff02::1', 'multicast'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:7f00:1', 'loopback'],
    ['::ffff:a9fe:a9fe', 'metadata'],
    ['::127.0.0.1', 'loopback'],
    ['64:ff9b::10.0.0.1', 'private'],
    ['64:ff9b::a00:1', 'private'],
    ['2002:c0a8:0101::1', 'private'],
    ['::ffff:0:127.0.0.1', 'loopback'],
    ['::ffff:0:a9fe:a9fe', 'metadata'],
    ['::ffff:0:0a00:0001', 'private'],
    ['64:ff9b:1::a00:1', 'private'],
    ['64:ff9b:1:abcd::8.8.8.8', 'private'],
    ['fec0::1', 'private'],
    ['fefe::1', 'private'],
    ['2001:0:4136:e378:8000:63bf:3fff:fdd2', 'reserved'],
    ['192.88.99.1', 'reserved'],
  ])('blocks %s as %s', (ip, reason) => {
    expect(classifyAddress(ip)).toEqual({ blocked: true, reason });
  });

  it.each(['8.8.8.8', '1.1.1.1', '172.32.0.1', '2606:4700:4700::1111', '::ffff:8.8.8.8'])(
    'allows the public %s',
    (ip) => {
      expect(classifyAddress(ip)).toEqual({ blocked: false });
    },
  );
});

describe('egress policy: destinations', () => {
  const resolve = async (host: string) =>
    ({
      'fixture.test': ['127.0.0.1'],
      'rebind.test': ['93.184.216.34', '127.0.0.1'],
      'public.test': ['93.184.216.34'],
    })[host] ?? [];
  const deps = { allow: parseEgressAllowList('127.0.0.1:8080, fixture.test, [::1]:9000'), resolve };

  it.each([
    'http://127.0.0.1:8081/',
    'http://2130706433/',
    'http://0177.0.0.1/',
    'http://0x7f.0.0.1/',
    'http://127.1/',
    'http://[::ffff:127.0.0.1]/',
    'http://[::1]:9001/',
    'http://169.254.169.254/latest/meta-data/',
    'http://[fd00:ec2::254]/',
    'http://rebind.test/',
  ])('blocks %s', async (url) => {
    expect(await checkDestination(url, deps)).toMatchObject({ allowed: false });
  });

  it.each([
    'file:///etc/passwd',
    'chrome://settings',
    'view-source:http://a.test/',
    'javascript:alert(1)',
    'data:text/html,x',
  ])('blocks the scheme of %s', async (url) => {
    expect(await checkDestination(url, deps)).toMatchObject({ allowed: false, reason: 'scheme' });
  });

  it('allows EGRESS_ALLOW entries (host, host:port, IPv6) and pins the vetted addresses', async () => {
    expect(await checkDestination('http://127.0.0.1:8080/x', deps)).toEqual({
      allowed: true,
      host: '127.0.0.1',
      port: 8080,
      addresses: ['127.0.0.1'],
    });
    expect(await checkDestination('https://fixture.test:4443/', deps)).toMatchObject({
      allowed: true,
      addresses: ['127.0.0.1'],
    });
    expect(await checkDestination('http://[::1]:9000/', deps)).toMatchObject({ allowed: true });
    expect(await checkDestination('https://public.test/', deps)).toMatchObject({ allowed: true, port: 443 });
  });

  it('reports a host that does not resolve', async () => {
    expect(await checkDestination('http://nowhere.test/', deps)).toMatchObject({
      allowed: false,
      reason: 'unresolvable',
    });
  });

  it('refuses a malformed EGRESS_ALLOW entry with a clear message', () => {
    expect(() => parseEgressAllowList('good.test, bad host:1')).toThrow(/bad host:1/);
    expect(() => parseEgressAllowList('a.test:99999')).toThrow(/a\.test:99999/);
  });
});
