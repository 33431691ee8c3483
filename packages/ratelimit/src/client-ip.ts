import { isIP } from 'node:net';

/**
 * The rate-limit key of an address: an IPv4 address as it is, an IPv4-mapped IPv6 address
 * (`::ffff:203.0.113.7`) as the IPv4 address, and any other IPv6 address as its network of
 * `ipv6Subnet` bits (`2001:db8:1:2::/64`), since one client usually holds a whole /64 (often a
 * /56) and could otherwise rotate through its addresses to escape the limit. Undefined for
 * anything that is not an IP address (zone ids like `%eth0` are dropped first).
 *
 * @example
 * clientIp('2001:db8:1:2:aaaa:bbbb:cccc:dddd'); // '2001:db8:1:2::/64'
 * clientIp('2001:db8:1:2ff:1::1', 56); // '2001:db8:1:200::/56'
 * clientIp('::ffff:203.0.113.7'); // '203.0.113.7'
 */
export function clientIp(address: string | undefined, ipv6Subnet = 64): string | undefined {
  if (typeof address !== 'string' || address.length > 64) return undefined;
  const zone = address.indexOf('%');
  const ip = zone === -1 ? address : address.slice(0, zone);
  const family = isIP(ip);
  if (family === 4) return ip;
  if (family !== 6) return undefined;
  const groups = expand(ip);
  if (groups === undefined) return undefined;
  // ::ffff:a.b.c.d
  if (
    groups[0] === 0 &&
    groups[1] === 0 &&
    groups[2] === 0 &&
    groups[3] === 0 &&
    groups[4] === 0 &&
    groups[5] === 0xffff
  ) {
    const [high = 0, low = 0] = [groups[6], groups[7]];
    return `${high >> 8}.${high & 255}.${low >> 8}.${low & 255}`;
  }
  if (ipv6Subnet >= 128) return compress(groups);
  const masked = groups.map((group, at) => {
    const bits = Math.min(16, Math.max(0, ipv6Subnet - at * 16));
    return bits === 0 ? 0 : group & ((0xffff << (16 - bits)) & 0xffff);
  });
  return `${compress(masked)}/${ipv6Subnet}`;
}

/** The eight 16-bit groups of a valid IPv6 address (isIP checked it). */
function expand(ip: string): number[] | undefined {
  let text = ip;
  const tail: number[] = [];
  const dotted = text.lastIndexOf(':');
  const last = text.slice(dotted + 1);
  if (last.includes('.')) {
    const [a = 0, b = 0, c = 0, d = 0] = last.split('.').map(Number);
    tail.push((a << 8) | b, (c << 8) | d);
    text = `${text.slice(0, dotted + 1)}0:0`;
  }
  const [head = '', rest] = text.split('::');
  const parse = (part: string): number[] =>
    part === '' ? [] : part.split(':').map((g) => Number.parseInt(g, 16));
  let groups: number[];
  if (rest === undefined) groups = parse(head);
  else {
    const left = parse(head);
    const right = parse(rest);
    groups = [...left, ...new Array<number>(8 - left.length - right.length).fill(0), ...right];
  }
  if (tail.length === 2) groups.splice(6, 2, ...tail);
  return groups.length === 8 && groups.every((g) => Number.isInteger(g) && g >= 0 && g <= 0xffff)
    ? groups
    : undefined;
}

/** RFC 5952 text: lower case, the longest run of zero groups (2 or more) as `::`. */
function compress(groups: readonly number[]): string {
  let bestStart = -1;
  let bestLength = 1;
  for (let at = 0; at < 8; ) {
    if (groups[at] !== 0) {
      at += 1;
      continue;
    }
    let end = at;
    while (end < 8 && groups[end] === 0) end += 1;
    if (end - at > bestLength) {
      bestStart = at;
      bestLength = end - at;
    }
    at = end;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart === -1) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLength).join(':')}`;
}
