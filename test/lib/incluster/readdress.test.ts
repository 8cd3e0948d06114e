/**
 * The cutover's re-addressing selects what Cilium's operator calls unmanaged (cilium/cilium
 * operator/cmd/k8s_pod_controller.go: Running, not host network, no CiliumEndpoint of the same
 * namespace and name), without its label selector, and only pods started before the Cilium agent on
 * their node: a later pod got its address from Cilium, its endpoint may lag.
 */
import { describe, expect, it } from 'vitest';
import type { PodObject } from '../../../lib/incluster/move-node.ts';
import { podsInRange, podsUnmanaged } from '../../../lib/incluster/readdress.ts';

const NOW = Date.parse('2026-12-06T12:00:00Z');
const pod = (
  name: string,
  extra: {
    hostNetwork?: boolean;
    phase?: string;
    ip?: string;
    startedSecondsAgo?: number;
    node?: string;
    labels?: Record<string, string>;
  } = {},
): PodObject => ({
  metadata: { name, namespace: 'shop', labels: extra.labels ?? {} },
  spec: { nodeName: extra.node ?? 'k3s-server-1', hostNetwork: extra.hostNetwork ?? false },
  status: {
    phase: extra.phase ?? 'Running',
    podIP: extra.ip ?? '192.168.0.66',
    startTime: new Date(NOW - (extra.startedSecondsAgo ?? 600) * 1000).toISOString(),
  },
});

describe('pods the cutover re-addresses', () => {
  it('are the running pods on the pod network without a CiliumEndpoint, started before their node’s agent', () => {
    const agent = { hostNetwork: true, ip: '10.0.0.2', labels: { 'k8s-app': 'cilium' }, startedSecondsAgo: 120 };
    const pods = [
      pod('cilium-abcde', agent),
      pod('cilium-fghij', { ...agent, node: 'k3s-server-2', startedSecondsAgo: 30 }),
      pod('on-calico'),
      pod('on-calico-2', { node: 'k3s-server-2', startedSecondsAgo: 60 }),
      pod('started-under-cilium', { node: 'k3s-server-2', ip: '10.42.1.9', startedSecondsAgo: 10 }),
      pod('no-agent-yet', { node: 'k3s-server-3' }),
      pod('managed', { ip: '10.42.0.12' }),
      pod('host', { hostNetwork: true, ip: '10.0.0.2' }),
      pod('done', { phase: 'Succeeded' }),
      pod('pending', { phase: 'Pending' }),
      pod('just-started', { ip: '10.42.0.13', startedSecondsAgo: 5 }),
    ];
    const endpoints = [{ metadata: { name: 'managed', namespace: 'shop' } }, { metadata: { name: 'on-calico', namespace: 'other' } }];
    expect(podsUnmanaged(pods, endpoints).map((p) => p.metadata.name)).toEqual(['on-calico', 'on-calico-2', 'no-agent-yet']);
  });

  it('per-node phase switch: the running pods on the migration range, by address', () => {
    const pods = [
      pod('moved', { ip: '10.42.1.5' }),
      pod('old', { ip: '10.245.3.7' }),
      pod('host', { hostNetwork: true, ip: '10.245.0.1' }),
    ];
    expect(podsInRange(pods, '10.245.0.0/16').map((p) => p.metadata.name)).toEqual(['old']);
  });
});
