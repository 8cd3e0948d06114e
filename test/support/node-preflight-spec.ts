/**
 * The node preflight's spec as the built-in example renders it (hetzner-cloud: routes from the
 * network, MTU 1450), with a test's changes.
 */
import type { NodePreflightSpec } from '../../lib/incluster/node-checks.ts';

export function nodePreflightSpec(over: Partial<NodePreflightSpec> = {}): NodePreflightSpec {
  return {
    kubeProxyReplacement: true,
    profile: 'hetzner-cloud',
    podCIDR: '10.42.0.0/16',
    routing: 'network',
    skipUnreachable: false,
    mtu: 1450,
    nodeList: 'node-list',
    ...over,
  };
}
