import { describe, expect, it } from 'vitest';
import type { PodObject } from '../../../lib/incluster/move-node.ts';
import { agentState, drainPlan, inCidr, networkConditionPatch, switchPatch } from '../../../lib/incluster/move-node.ts';
import {
  checkAllMoved,
  checkAutodetection,
  type CalicoNodeAddress,
  checkCalicoGone,
  checkCalicoHealthy,
  checkPolicies,
  type CalicoNodeDaemonSet,
  type PerNodePreflightSpec,
} from '../../../lib/incluster/per-node-checks.ts';

const spec: PerNodePreflightSpec = {
  phase: 'migrate',
  nodeCount: 3,
  nodes: ['n1', 'n2', 'n3'],
  migrationCIDR: '10.245.0.0/16',
  acknowledgeUnenforcedPolicies: false,
};

function calico(ready: number, desired: number, method?: string): CalicoNodeDaemonSet {
  return {
    spec: {
      template: {
        spec: {
          containers: [{ name: 'calico-node', env: method === undefined ? [] : [{ name: 'IP_AUTODETECTION_METHOD', value: method }] }],
        },
      },
    },
    status: { numberReady: ready, desiredNumberScheduled: desired },
  };
}

function pod(name: string, ip: string, extra: Partial<PodObject> = {}): PodObject {
  return { metadata: { name, namespace: 'ns' }, spec: { nodeName: 'n1' }, status: { phase: 'Running', podIP: ip }, ...extra };
}

describe('per-node preflight checks', () => {
  it('refuses a Calico that is not Ready everywhere, pointing to cutover', () => {
    expect(checkCalicoHealthy(spec, calico(3, 3)).outcome).toBe('PASS');
    const broken = checkCalicoHealthy(spec, calico(1, 3));
    expect(broken.outcome).toBe('FAIL');
    expect(broken.detail).toMatch(/1\/3 Ready.*use strategy: cutover/);
    // Scheduled on fewer nodes than configured: a node without Calico cannot be drained onto.
    expect(checkCalicoHealthy(spec, calico(2, 2)).outcome).toBe('FAIL');
  });

  // calico-node records the address it detected (its BGP and IPIP endpoint) in the Node's
  // projectcalico.org/IPv4Address annotation, with the prefix length ("10.0.1.20/24").
  const node = (name: string, internalIP: string, calicoAddress?: string): CalicoNodeAddress => ({
    metadata: { name, annotations: calicoAddress ? { 'projectcalico.org/IPv4Address': calicoAddress } : {} },
    status: { addresses: [{ type: 'InternalIP', address: internalIP }] },
  });

  it("refuses Calico's first-found address detection, which may pick cilium_host", () => {
    const nodes = [node('a', '10.0.0.2', '10.0.0.2/16'), node('b', '10.0.0.3', '10.0.0.3/16')];
    expect(checkAutodetection(calico(3, 3), nodes).outcome).toBe('FAIL');
    expect(checkAutodetection(calico(3, 3, 'first-found'), nodes).outcome).toBe('FAIL');
    const fixed = checkAutodetection(calico(3, 3, 'kubernetes-internal-ip'), nodes);
    expect(fixed).toMatchObject({ outcome: 'PASS', detail: 'IP_AUTODETECTION_METHOD=kubernetes-internal-ip' });
    // Calico already runs on each InternalIP: the Kubernetes method keeps every address.
    expect(checkAutodetection(calico(3, 3), nodes).detail).toContain(
      '`kubectl -n kube-system set env daemonset/calico-node IP_AUTODETECTION_METHOD=kubernetes-internal-ip`',
    );
  });

  it('names a fix that keeps the address Calico runs on where that is not the InternalIP (a public address)', () => {
    // As on Hetzner, where first-found often picked the public interface: the Kubernetes method
    // would move BGP and IPIP of node a to the private network on a live cluster.
    const nodes = [node('a', '10.0.0.2', '203.0.113.7/32'), node('b', '10.0.0.3', '10.0.0.3/16')];
    const result = checkAutodetection(calico(3, 3), nodes);
    expect(result.outcome).toBe('FAIL');
    expect(result.detail).toContain(
      '`kubectl -n kube-system set env daemonset/calico-node IP_AUTODETECTION_METHOD=cidr=203.0.113.7/32,10.0.0.3/32`',
    );
    expect(result.detail).not.toContain('kubernetes-internal-ip`');
    // A node without the annotation: no command can be known to keep its address.
    const unknown = checkAutodetection(calico(3, 3), [node('a', '10.0.0.2'), node('b', '10.0.0.3', '10.0.0.3/16')]);
    expect(unknown.detail).not.toContain('kubectl');
    expect(unknown.detail).toContain('a has no projectcalico.org/IPv4Address');
  });

  it('wants NetworkPolicies acknowledged', () => {
    const policies = [{ metadata: { name: 'deny', namespace: 'shop' } }];
    expect(checkPolicies(spec, []).outcome).toBe('PASS');
    expect(checkPolicies(spec, policies)).toMatchObject({ outcome: 'FAIL' });
    expect(checkPolicies({ ...spec, acknowledgeUnenforcedPolicies: true }, policies).outcome).toBe('INFO');
  });

  it('phase switch: Calico gone and no pod left outside the migration range', () => {
    expect(checkCalicoGone(calico(3, 3)).outcome).toBe('FAIL');
    expect(checkCalicoGone(undefined).outcome).toBe('PASS');
    const nodes = [
      { metadata: { name: 'n1' }, spec: { podCIDR: '10.42.0.0/24' } },
      { metadata: { name: 'n2' }, spec: { podCIDR: '10.42.1.0/24' } },
    ];
    // CiliumEndpoint status.networking.addressing, as the agent writes it (cilium.io/v2 CiliumEndpoint).
    const endpoint = (name: string, ipv4: string) => ({
      metadata: { name, namespace: 'ns' },
      status: { networking: { addressing: [{ ipv4 }] } },
    });
    const moved = [pod('a', '10.245.1.2'), pod('host', '10.0.0.2', { spec: { hostNetwork: true } })];
    expect(checkAllMoved(spec, moved, nodes, []).outcome).toBe('PASS');
    const left = checkAllMoved(spec, [...moved, pod('b', '192.168.3.4')], nodes, []);
    expect(left.outcome).toBe('FAIL');
    expect(left.detail).toMatch(/ns\/b \(192\.168\.3\.4 on n1\)/);
    // A retry after a partial step 250: the pods it re-addressed have their node's podCIDR and a CiliumEndpoint of it.
    const readdressed = checkAllMoved(spec, [...moved, pod('c', '10.42.0.7')], nodes, [endpoint('c', '10.42.0.7')]);
    expect(readdressed).toMatchObject({ outcome: 'PASS' });
    expect(readdressed.detail).toContain("1 already on its node's podCIDR");
    // Calico's pool overlapping the podCIDRs (k3s's 10.42.0.0/16 for both): without Cilium's endpoint it is Calico's address.
    expect(checkAllMoved(spec, [...moved, pod('c', '10.42.0.7')], nodes, []).outcome).toBe('FAIL');
    expect(checkAllMoved(spec, [...moved, pod('c', '10.42.0.7')], nodes, [endpoint('c', '10.42.0.8')]).outcome).toBe('FAIL');
    // Another node's podCIDR is not where Cilium puts a pod of n1.
    expect(checkAllMoved(spec, [...moved, pod('d', '10.42.1.9')], nodes, [endpoint('d', '10.42.1.9')]).outcome).toBe('FAIL');
  });
});

describe('move-node decisions', () => {
  it('drains like kubectl drain --ignore-daemonsets, refusing pods without a controller', () => {
    const owned = (kind: string) => ({ ownerReferences: [{ kind, name: 'x', controller: true }] });
    const pods: PodObject[] = [
      { ...pod('web', '192.168.0.2'), metadata: { name: 'web', namespace: 'ns', ...owned('ReplicaSet') } },
      { ...pod('ds', '192.168.0.3'), metadata: { name: 'ds', namespace: 'ns', ...owned('DaemonSet') } },
      { ...pod('static', '10.0.0.2'), metadata: { name: 'static', namespace: 'ns', annotations: { 'kubernetes.io/config.mirror': 'x' } } },
      { ...pod('done', '192.168.0.4'), status: { phase: 'Succeeded' } },
      pod('bare', '192.168.0.5'),
    ];
    const plan = drainPlan(pods, false, false);
    expect(plan.evict.map((p) => p.metadata.name)).toEqual(['web']);
    expect(plan.refuse.map((p) => p.metadata.name)).toEqual(['bare']);
    expect(plan.keep.map((k) => k.reason)).toEqual(['DaemonSet pod', 'static pod', 'finished (Succeeded)']);
    expect(drainPlan(pods, true, false).evict.map((p) => p.metadata.name)).toEqual(['web', 'bare']);
    // An emptyDir volume's data goes with the eviction: as kubectl drain, only when asked.
    const scratch: PodObject = {
      ...pod('traefik', '192.168.0.6'),
      metadata: { name: 'traefik', namespace: 'kube-system', ...owned('ReplicaSet') },
      spec: { nodeName: 'n1', volumes: [{ name: 'data', emptyDir: {} }] },
    };
    expect(drainPlan([...pods, scratch], false, false).localData.map((p) => p.metadata.name)).toEqual(['traefik']);
    expect(drainPlan([...pods, scratch], false, false).evict.map((p) => p.metadata.name)).toEqual(['web']);
    expect(drainPlan([...pods, scratch], false, true).evict.map((p) => p.metadata.name)).toEqual(['web', 'traefik']);
    expect(drainPlan([...pods, scratch], false, true).localData).toEqual([]);
  });

  it('restarts an agent older than the switch, and only that', () => {
    const agent = (created: string, ready: boolean): PodObject => ({
      metadata: { name: 'cilium', namespace: 'kube-system', creationTimestamp: created },
      status: { phase: 'Running', conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] },
    });
    expect(agentState([agent('2026-01-01T10:00:00Z', true)], '2026-01-01T10:00:01Z').state).toBe('stale');
    expect(agentState([agent('2026-01-01T10:00:01Z', false)], '2026-01-01T10:00:01Z').state).toBe('starting');
    expect(agentState([agent('2026-01-01T10:00:05Z', true)], '2026-01-01T10:00:01Z').state).toBe('ready');
    expect(agentState([], '2026-01-01T10:00:01Z').state).toBe('missing');
  });

  it('keeps the first switch time on a re-run', () => {
    const label = { key: 'cilium-cutover.io/cni', value: 'cilium' };
    const first = switchPatch({ metadata: { name: 'n1' } }, label, new Date('2026-01-01T10:00:00.750Z'));
    expect(first.switchedAt).toBe('2026-01-01T10:00:00Z');
    const again = switchPatch(
      {
        metadata: { name: 'n1', labels: { [label.key]: label.value }, annotations: { 'cilium-cutover.io/switched-at': first.switchedAt } },
      },
      label,
      new Date('2026-01-02T00:00:00Z'),
    );
    expect(again).toEqual({ patch: undefined, switchedAt: '2026-01-01T10:00:00Z' });
  });

  it('matches addresses to CIDRs at the edges', () => {
    expect(inCidr('10.245.0.0', '10.245.0.0/16')).toBe(true);
    expect(inCidr('10.245.255.255', '10.245.0.0/16')).toBe(true);
    expect(inCidr('10.246.0.0', '10.245.0.0/16')).toBe(false);
    expect(inCidr('not-an-ip', '10.245.0.0/16')).toBe(false);
  });
});

describe('network condition after Calico', () => {
  const node = (status: string, reason: string) => ({
    metadata: { name: 'n1' },
    status: {
      conditions: [
        { type: 'Ready', status: 'True' },
        { type: 'NetworkUnavailable', status, reason },
      ],
    },
  });
  const now = new Date('2026-01-01T10:00:00.123Z');

  it("sets a CalicoIsDown condition back where Cilium's agent is ready, touching only that condition", () => {
    const decision = networkConditionPatch(node('True', 'CalicoIsDown'), true, now);
    expect(decision.failed).toBe(false);
    expect(decision.patch).toEqual({
      status: {
        conditions: [
          {
            type: 'NetworkUnavailable',
            status: 'False',
            reason: 'CiliumIsUp',
            message: 'Cilium is running on this node',
            lastTransitionTime: '2026-01-01T10:00:00Z',
            lastHeartbeatTime: '2026-01-01T10:00:00Z',
          },
        ],
      },
    });
  });

  it('leaves a good condition alone and fails where no agent is ready', () => {
    expect(networkConditionPatch(node('False', 'CiliumIsUp'), true, now)).toMatchObject({ patch: undefined, failed: false });
    expect(networkConditionPatch(node('True', 'CalicoIsDown'), false, now)).toMatchObject({ patch: undefined, failed: true });
  });
});
