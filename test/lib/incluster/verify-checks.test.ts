import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { formatResult } from '../../../lib/incluster/shared/report.ts';
import {
  crossNodeTarget,
  judgeCiliumHealth,
  judgeCoreDns,
  judgeEcho,
  judgeExternal,
  parseEcho,
} from '../../../lib/incluster/verify-checks.ts';

const f = parse(readFileSync(new URL('../../fixtures/verify-objects.yaml', import.meta.url), 'utf8'));
const echoBody = (pod: string, node: string) => JSON.stringify({ service: 'cilium-cutover-echo', pod, node, ip: '10.42.2.9' });

describe('judgeCoreDns', () => {
  it('passes Running and Ready pods, fails otherwise and when there are none', () => {
    expect(formatResult(judgeCoreDns(f['coredns-ok']))).toBe('PASS coredns kube-system/coredns: 1 pod(s) Running and Ready');
    expect(formatResult(judgeCoreDns(f['coredns-crashing']))).toBe(
      'FAIL coredns kube-system/coredns: not Running and Ready: coredns-6799fbcd5-x2k4p (Running)',
    );
    expect(formatResult(judgeCoreDns([]))).toBe('FAIL coredns kube-system/coredns: no pod with label k8s-app=kube-dns');
  });
});

describe('crossNodeTarget', () => {
  it('picks a running echo pod on another node than the client', () => {
    expect(crossNodeTarget('k3s-server-1', f['echo-pods'])!.metadata.name).toBe('echo-7d9c5b8f4-zr6lm');
    expect(crossNodeTarget('k3s-server-3', f['echo-pods'])!.metadata.name).toBe('echo-7d9c5b8f4-b2n8q');
  });

  it('never picks a pod on the client node or one that is not running', () => {
    const onlyLocal = f['echo-pods'].filter((p: { spec: { nodeName: string } }) => p.spec.nodeName !== 'k3s-server-3');
    expect(crossNodeTarget('k3s-server-1', onlyLocal)).toBeUndefined();
  });
});

describe('judgeEcho and judgeExternal', () => {
  it('passes only an answer from the echo backend (and from the expected pod)', () => {
    expect(formatResult(judgeEcho('pod-to-pod', 's', 200, echoBody('echo-a', 'n3'), 'echo-a'))).toBe(
      'PASS pod-to-pod s: echo answered from echo-a on n3',
    );
    expect(judgeEcho('pod-to-pod', 's', 200, echoBody('echo-b', 'n3'), 'echo-a').detail).toBe('answered by echo-b, expected echo-a');
    expect(judgeEcho('ingress', 's', 404, '404 page not found').detail).toBe('HTTP 404, not the echo backend');
    expect(judgeEcho('ingress', 's', 200, '<html>default backend</html>').outcome).toBe('FAIL');
    expect(judgeEcho('clusterip', 's', undefined, 'connect ECONNREFUSED 10.43.12.7:80').detail).toBe(
      'no answer (connect ECONNREFUSED 10.43.12.7:80)',
    );
    expect(parseEcho('not json')).toBeUndefined();
  });

  it('external URLs must answer 200 themselves', () => {
    expect(formatResult(judgeExternal('https://shop.example.com/', 200, ''))).toBe('PASS external https://shop.example.com/: HTTP 200');
    expect(formatResult(judgeExternal('http://shop.example.com/', 301, '-> https://shop.example.com/'))).toBe(
      'FAIL external http://shop.example.com/: HTTP 301 -> https://shop.example.com/',
    );
    expect(judgeExternal('https://x.example/', undefined, 'getaddrinfo ENOTFOUND x.example').detail).toBe(
      'no answer (getaddrinfo ENOTFOUND x.example)',
    );
  });
});

describe('judgeCiliumHealth', () => {
  const healthy = {
    agent: f['agent-rolled-out'],
    operator: f['operator-ready'],
    nodes: [f['nodes-available'][0]],
    nodeNames: ['k3s-server-1'],
    pods: f['cluster-pods'].slice(0, 1),
    endpoints: f.endpoints,
    podCIDR: '10.42.0.0/16',
  };

  it('passes a rolled-out agent, a ready operator, available nodes and managed pods', () => {
    expect(judgeCiliumHealth(healthy).map(formatResult)).toEqual([
      'PASS cilium-agent kube-system/cilium: 3/3 ready, 3 updated, 3 available',
      'PASS cilium-operator kube-system/cilium-operator: 2/2 ready',
      'PASS network-available k3s-server-1: NetworkUnavailable=False (CiliumIsUp)',
      'PASS pods-managed cluster: every running pod on the pod network has a CiliumEndpoint and an address in the pod CIDR',
    ]);
  });

  it('fails a rollout in progress, a node still NetworkUnavailable, and pods Cilium does not manage', () => {
    const results = judgeCiliumHealth({
      ...healthy,
      agent: f['agent-rolling'],
      nodes: f['nodes-available'],
      nodeNames: ['k3s-server-1', 'k3s-server-2'],
      pods: f['cluster-pods'],
    }).map(formatResult);
    expect(results).toEqual([
      'FAIL cilium-agent kube-system/cilium: 2/3 ready, 2 updated, 2 available',
      'PASS cilium-operator kube-system/cilium-operator: 2/2 ready',
      'PASS network-available k3s-server-1: NetworkUnavailable=False (CiliumIsUp)',
      'FAIL network-available k3s-server-2: NetworkUnavailable=True (CalicoIsDown)',
      // shop-web-0 has an endpoint but a Calico address; stale-overlap has a pod-CIDR address but no endpoint.
      'FAIL pods-managed cluster: not managed by Cilium (restart them): shop/shop-web-0 192.168.77.140, shop/stale-overlap 10.42.2.200',
    ]);
  });

  it('fails when the CiliumEndpoint API or the workloads are missing', () => {
    const results = judgeCiliumHealth({ ...healthy, agent: undefined, operator: undefined, endpoints: undefined }).map(formatResult);
    expect(results).toContain('FAIL cilium-agent kube-system/cilium: DaemonSet not found');
    expect(results).toContain('FAIL cilium-operator kube-system/cilium-operator: Deployment not found');
    expect(results.at(-1)).toBe('FAIL pods-managed cluster: the CiliumEndpoint API is not there: the operator has not registered its CRDs');
  });
});
