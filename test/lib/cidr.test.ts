import { describe, expect, it } from 'vitest';
import { cidrContains, cidrContainsIp, cidrsOverlap, formatIpv4, parseCidr, parseIpv4 } from '../../lib/cidr.ts';

const c = (s: string) => parseCidr(s)!;

describe('parseIpv4', () => {
  it('parses dotted quads and rejects the rest', () => {
    expect(parseIpv4('10.0.0.2')).toBe(10 * 2 ** 24 + 2);
    expect(parseIpv4('255.255.255.255')).toBe(2 ** 32 - 1);
    for (const bad of ['10.0.0', '10.0.0.256', '10.0.0.01', 'a.b.c.d', '10.0.0.2 ', '']) {
      expect(parseIpv4(bad), bad).toBeUndefined();
    }
  });
});

describe('formatIpv4', () => {
  it('writes what parseIpv4 reads, the high octets too', () => {
    expect(formatIpv4(10 * 2 ** 24 + 2)).toBe('10.0.0.2');
    expect(formatIpv4(2 ** 32 - 1)).toBe('255.255.255.255');
    for (const ip of ['0.0.0.0', '192.168.1.10', '172.16.255.1']) {
      expect(formatIpv4(parseIpv4(ip)!)).toBe(ip);
    }
  });
});

describe('parseCidr', () => {
  it('gives the first and last address', () => {
    expect(c('10.42.0.0/16')).toMatchObject({ first: parseIpv4('10.42.0.0'), last: parseIpv4('10.42.255.255'), prefix: 16 });
    expect(c('0.0.0.0/0')).toMatchObject({ first: 0, last: 2 ** 32 - 1 });
  });

  it('rejects host bits, bad prefixes and non-CIDRs', () => {
    for (const bad of ['10.42.0.1/16', '10.42.0.0/33', '10.42.0.0', '10.42.0.0/', 'x/16']) {
      expect(parseCidr(bad), bad).toBeUndefined();
    }
  });
});

describe('relations', () => {
  it('overlap is symmetric and excludes adjacent networks', () => {
    expect(cidrsOverlap(c('10.42.0.0/16'), c('10.0.0.0/8'))).toBe(true);
    expect(cidrsOverlap(c('10.0.0.0/8'), c('10.42.0.0/16'))).toBe(true);
    expect(cidrsOverlap(c('10.42.0.0/16'), c('10.43.0.0/16'))).toBe(false);
  });

  it('containment', () => {
    expect(cidrContains(c('10.0.0.0/8'), c('10.42.0.0/16'))).toBe(true);
    expect(cidrContains(c('10.42.0.0/16'), c('10.0.0.0/8'))).toBe(false);
    expect(cidrContainsIp(c('10.0.0.0/16'), parseIpv4('10.0.255.255')!)).toBe(true);
    expect(cidrContainsIp(c('10.0.0.0/16'), parseIpv4('10.1.0.0')!)).toBe(false);
  });
});
