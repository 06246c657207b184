/**
 * SSRF guard for webhook targets: refuses private, loopback, link-local (cloud metadata), CGNAT,
 * multicast and reserved addresses, IPv4 and IPv6 (including IPv4-mapped IPv6). Every address a host
 * resolves to is checked, and the connection is then made to a vetted address (see pinnedLookup), so
 * a DNS answer that changes between the check and the connect (rebinding) cannot reach a private host.
 */
import * as dns from 'node:dns';
import * as net from 'node:net';

const BLOCKED = new net.BlockList();
for (const [addr, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const)
  BLOCKED.addSubnet(addr, prefix, 'ipv4');
for (const [addr, prefix] of [
  ['::', 128],
  ['::1', 128],
  ['fc00::', 7],
  ['fe80::', 10],
  ['fec0::', 10],
  ['ff00::', 8],
  ['64:ff9b::', 96],
  ['2001:db8::', 32],
  ['100::', 64],
  ['2002::', 16],
] as const)
  BLOCKED.addSubnet(addr, prefix, 'ipv6');

/** The IPv4 address inside an IPv4-mapped or -compatible IPv6 address (::ffff:a.b.c.d, ::ffff:7f00:1), if any. */
function embeddedIpv4(address: string): string | undefined {
  const m = /^(?:0{0,4}:){0,5}(?:0{0,4}:)?ffff:(.+)$/i.exec(address) ?? /^::(\d+\.\d+\.\d+\.\d+)$/.exec(address);
  if (!m) return undefined;
  const tail = m[1];
  if (net.isIPv4(tail)) return tail;
  const hex = /^([0-9a-f]{1,4}):([0-9a-f]{1,4})$/i.exec(tail);
  if (!hex) return undefined;
  const hi = parseInt(hex[1], 16),
    lo = parseInt(hex[2], 16);
  return [hi >> 8, hi & 255, lo >> 8, lo & 255].join('.');
}

export function isForbiddenAddress(address: string): boolean {
  const bare = address.replace(/^\[|\]$/g, '').replace(/%.*$/, '');
  if (net.isIPv4(bare)) return BLOCKED.check(bare, 'ipv4');
  if (!net.isIPv6(bare)) return true;
  const v4 = embeddedIpv4(bare);
  if (v4 !== undefined) return BLOCKED.check(v4, 'ipv4');
  return BLOCKED.check(bare, 'ipv6');
}

/** The target is not allowed (as opposed to a DNS failure, which may pass). */
export class ForbiddenTargetError extends Error {}

export type Resolver = (host: string) => Promise<Array<{ address: string; family: number }>>;
export const systemResolver: Resolver = (host) => dns.promises.lookup(host, { all: true, verbatim: true });

/** Every address of `host`, refused if any of them is forbidden (unless allowPrivate). */
export async function vetHost(
  host: string,
  allowPrivate: boolean,
  resolve: Resolver = systemResolver,
): Promise<Array<{ address: string; family: number }>> {
  const bare = host.replace(/^\[|\]$/g, '');
  const addresses = net.isIP(bare) ? [{ address: bare, family: net.isIP(bare) }] : await resolve(bare);
  if (addresses.length === 0) throw new Error(`webhook host ${host} does not resolve`);
  if (!allowPrivate) {
    const bad = addresses.filter((a) => isForbiddenAddress(a.address)).map((a) => a.address);
    if (bad.length > 0)
      throw new ForbiddenTargetError(`webhook host ${host} resolves to a private or reserved address (${bad.join(', ')})`);
  }
  return addresses;
}

/** A `lookup` for http(s).request that answers only with the vetted addresses: the socket connects to one of them. */
export function pinnedLookup(vetted: Array<{ address: string; family: number }>): net.LookupFunction {
  return ((_host: string, options: dns.LookupOptions, callback: (...args: unknown[]) => void) => {
    if (options?.all) callback(null, vetted);
    else callback(null, vetted[0].address, vetted[0].family);
  }) as unknown as net.LookupFunction;
}
