import { describe, expect, it } from 'vitest';
import { boolFlag, flannelBackend, parseGoBool, parseNodeArgs } from '../../../lib/incluster/k3s-node-args.ts';

describe('parseNodeArgs', () => {
  it('reads config-file pairs', () => {
    const args = parseNodeArgs('["server","--flannel-backend","none","--disable-network-policy","true"]');
    expect(args.role).toBe('server');
    expect(Object.fromEntries(args.flags)).toEqual({ 'flannel-backend': 'none', 'disable-network-policy': 'true' });
  });

  it('reads bare booleans and --flag=value', () => {
    const args = parseNodeArgs('["server","--disable-kube-proxy","--flannel-backend=none","--cluster-init"]');
    expect(Object.fromEntries(args.flags)).toEqual({ 'disable-kube-proxy': 'true', 'flannel-backend': 'none', 'cluster-init': 'true' });
  });

  it('lets the last occurrence win', () => {
    const args = parseNodeArgs('["server","--flannel-backend","none","--flannel-backend","vxlan"]');
    expect(flannelBackend(args)).toBe('vxlan');
  });

  it('knows agents and unknown subcommands', () => {
    expect(parseNodeArgs('["agent","--server","https://10.0.0.2:6443"]').role).toBe('agent');
    expect(parseNodeArgs('["etcd-snapshot"]').role).toBeUndefined();
  });

  it('rejects what is not a JSON array of strings', () => {
    expect(() => parseNodeArgs('{"a":1}')).toThrow('k3s.io/node-args is not a JSON array of strings');
    expect(() => parseNodeArgs('["server",1]')).toThrow('k3s.io/node-args is not a JSON array of strings');
    expect(() => parseNodeArgs('not json')).toThrow();
  });
});

describe('effective values', () => {
  it('flannel backend defaults to vxlan and honours the deprecated --no-flannel', () => {
    expect(flannelBackend(parseNodeArgs('["server"]'))).toBe('vxlan');
    expect(flannelBackend(parseNodeArgs('["server","--no-flannel"]'))).toBe('none');
    expect(flannelBackend(parseNodeArgs('["server","--no-flannel","false"]'))).toBe('vxlan');
  });

  it('boolean flags follow Go ParseBool and default to false', () => {
    expect(boolFlag(parseNodeArgs('["server","--disable-kube-proxy","True"]'), 'disable-kube-proxy')).toBe(true);
    expect(boolFlag(parseNodeArgs('["server","--disable-kube-proxy","0"]'), 'disable-kube-proxy')).toBe(false);
    expect(boolFlag(parseNodeArgs('["server","--disable-kube-proxy=false"]'), 'disable-kube-proxy')).toBe(false);
    expect(boolFlag(parseNodeArgs('["server"]'), 'disable-kube-proxy')).toBe(false);
    expect(parseGoBool('yes')).toBeUndefined();
  });
});
