import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { formatResult } from '../../../lib/incluster/shared/report.ts';
import {
  judgeAgentPods,
  judgeAgentRollout,
  judgeCoreDns,
  judgeNetworkAvailable,
  judgeOperatorRollout,
} from '../../../lib/incluster/verify-checks.ts';
import { judgeEndpoints, judgePending } from '../../../lib/incluster/verify-pod-state.ts';

const f = parse(readFileSync(new URL('../../fixtures/verify-objects.yaml', import.meta.url), 'utf8'));

describe('judgeCoreDns', () => {
  it('passes Running and Ready pods, fails otherwise and when there are none', () => {
    expect(formatResult(judgeCoreDns(f['coredns-ok']))).toBe('PASS coredns kube-system/coredns: 1 pod(s) Running and Ready');
    expect(formatResult(judgeCoreDns(f['coredns-crashing']))).toBe(
      'FAIL coredns kube-system/coredns: not Running and Ready: coredns-6799fbcd5-x2k4p on k3s-server-2 (Running)',
    );
    expect(formatResult(judgeCoreDns([]))).toBe('FAIL coredns kube-system/coredns: no live pod with label k8s-app=kube-dns');
  });

  it('does not count an evicted pod or one being deleted next to a healthy one', () => {
    expect(formatResult(judgeCoreDns(f['coredns-evicted-and-ok']))).toBe(
      'PASS coredns kube-system/coredns: 1 pod(s) Running and Ready; 2 finished or terminating pod(s) not counted',
    );
  });
});

describe('rollouts', () => {
  it('the agent DaemonSet must have every pod updated, ready and available', () => {
    expect(judgeAgentRollout(f['agent-rolled-out']).outcome).toBe('PASS');
    expect(formatResult(judgeAgentRollout(f['agent-rolling']))).toBe(
      'FAIL cilium-agent kube-system/cilium: 2/3 ready, 2 updated, 2 available',
    );
    expect(judgeAgentRollout({ metadata: { generation: 5 }, status: { ...f['agent-rolled-out'].status } }).detail).toMatch(
      /not yet observed$/,
    );
    expect(judgeAgentRollout(undefined).detail).toBe('DaemonSet not found');
  });

  it('the operator must be rolled out, not only have ready replicas', () => {
    expect(judgeOperatorRollout(f['operator-ready']).outcome).toBe('PASS');
    expect(formatResult(judgeOperatorRollout(f['operator-rolling']))).toBe(
      'FAIL cilium-operator kube-system/cilium-operator: 1/2 updated, 2 available, 3 in all',
    );
    expect(judgeOperatorRollout({ ...f['operator-ready'], metadata: { generation: 3 } }).outcome).toBe('FAIL');
  });
});

describe('judgeAgentPods', () => {
  const nodes = ['k3s-server-1', 'k3s-server-2', 'k3s-server-3'];

  it('names a node without an agent pod, and an agent that restarted during the window', () => {
    const baseline = new Map([
      ['cilium-8x2lq', 0],
      ['cilium-p4k9d', 5],
    ]);
    expect(judgeAgentPods(nodes, f['agent-pods'], baseline).map(formatResult)).toEqual([
      'PASS agent-pod k3s-server-1: cilium-8x2lq Ready, no restart during the check',
      'FAIL agent-pod k3s-server-2: cilium-p4k9d restarted 2 time(s) during the check (7 in all)',
      'FAIL agent-pod k3s-server-3: no cilium agent pod on this node',
    ]);
  });

  it('fails an agent pod that replaced the one the window began with', () => {
    const baseline = new Map([['cilium-old00', 0]]);
    expect(formatResult(judgeAgentPods(['k3s-server-1'], f['agent-pods'], baseline)[0]!)).toBe(
      'FAIL agent-pod k3s-server-1: cilium-8x2lq replaced the agent pod during the check',
    );
  });

  it('reports restarts before the window without failing', () => {
    const baseline = new Map([['cilium-p4k9d', 7]]);
    expect(formatResult(judgeAgentPods(['k3s-server-2'], f['agent-pods'], baseline)[0]!)).toBe(
      'PASS agent-pod k3s-server-2: cilium-p4k9d Ready, no restart during the check (7 before it)',
    );
  });
});

describe('judgeNetworkAvailable', () => {
  it("prints the reason, so RouteCreated (the cloud controller's, not Cilium's) shows", () => {
    const [a, b, c] = f['nodes-available'];
    expect(formatResult(judgeNetworkAvailable('k3s-server-1', a))).toBe(
      'PASS network-available k3s-server-1: NetworkUnavailable=False (CiliumIsUp)',
    );
    expect(judgeNetworkAvailable('k3s-server-2', b).outcome).toBe('FAIL');
    expect(judgeNetworkAvailable('k3s-server-3', c).detail).toBe('NetworkUnavailable=False (RouteCreated)');
    expect(judgeNetworkAvailable('gone', undefined).detail).toBe('node not found');
  });
});

describe('judgeEndpoints', () => {
  it('fails every pod whose CiliumEndpoint is missing, not ready or has another address, and a Calico address; skips the rest', () => {
    expect(formatResult(judgeEndpoints(f['cluster-pods'], f.endpoints, '10.42.0.0/16'))).toBe(
      'FAIL pods-managed cluster: ' +
        'shop/shop-web-0 has 192.168.77.140, outside 10.42.0.0/16 (restart it); ' +
        'shop/stale-overlap 10.42.2.200 has no CiliumEndpoint (restart it); ' +
        'shop/shop-api-1 endpoint state waiting-for-identity, not ready; ' +
        'shop/shop-api-2 is 10.42.2.202 but its CiliumEndpoint has 10.42.2.99',
    );
  });

  it('does not judge a pod that became Ready moments ago: its endpoint status follows within seconds', () => {
    const fresh = [
      {
        metadata: { name: 'shop-api-1', namespace: 'shop' },
        spec: { nodeName: 'k3s-server-3' },
        status: {
          phase: 'Running',
          podIP: '10.42.2.201',
          conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: '2026-12-01T10:00:00Z' }],
        },
      },
    ];
    expect(judgeEndpoints(fresh, f.endpoints, '10.42.0.0/16', Date.parse('2026-12-01T10:00:10Z')).outcome).toBe('PASS');
    expect(judgeEndpoints(fresh, f.endpoints, '10.42.0.0/16', Date.parse('2026-12-01T10:01:00Z')).outcome).toBe('FAIL');
  });

  it('passes when every running pod on the pod network is managed', () => {
    const pods = f['cluster-pods'].filter(
      (p: { metadata: { name: string } }) => p.metadata.name.startsWith('traefik') || p.metadata.name === 'cilium-8x2lq',
    );
    expect(judgeEndpoints(pods, f.endpoints, '10.42.0.0/16').outcome).toBe('PASS');
    expect(judgeEndpoints(pods, undefined, '10.42.0.0/16').detail).toMatch(/CiliumEndpoint API is not there/);
  });
});

describe('judgePending', () => {
  const nodes = ['k3s-server-1', 'k3s-server-2', 'k3s-server-3'];
  const sandboxError = {
    involvedObject: { namespace: 'shop', name: 'shop-web-1' },
    message:
      'Failed to create pod sandbox: rpc error: code = Unknown desc = failed to setup network for sandbox "4f1c": plugin type="cilium-cni" failed (add): unable to allocate IP via local cilium agent',
  };

  it('fails a pod whose sandbox the CNI ADD could not make past the grace period, naming the event', () => {
    const now = Date.parse('2026-12-01T10:05:00Z');
    const [pass, warn] = judgePending(f['stuck-pods'], [sandboxError], nodes, now).map(formatResult);
    expect(pass).toBe(
      'FAIL pods-started cluster: no sandbox for over 120s, FailedCreatePodSandBox: shop/shop-web-1 on k3s-server-2 (Failed to create pod sandbox: rpc error: code = Unknown desc = failed to setup network for sandbox "4f1c": plugin type="cilium-cni" failed (add): unable to allocate IP via local cilium agent)',
    );
    expect(warn).toBeUndefined();
  });

  it('only warns about a pod that waits without a sandbox error (a volume, an image), and ignores pods just scheduled or on unchecked nodes', () => {
    const now = Date.parse('2026-12-01T10:05:00Z');
    expect(judgePending(f['stuck-pods'], [], nodes, now).map(formatResult)).toEqual([
      'PASS pods-started cluster: no pod on the pod network of a checked node failed to get its sandbox for over 120s',
      'WARN pods-started waiting: not started for over 120s without a sandbox error (a volume or an image? `kubectl describe pod`): shop/shop-web-1 on k3s-server-2',
    ]);
    expect(judgePending(f['stuck-pods'], [sandboxError], ['k3s-server-1'], now)[0]!.outcome).toBe('PASS');
    expect(judgePending(f['stuck-pods'], [sandboxError], nodes, Date.parse('2026-12-01T10:01:00Z')).map((r) => r.outcome)).toEqual([
      'PASS',
    ]);
  });
});
