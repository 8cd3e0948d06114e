/**
 * Entry point of strategy per-node's preflight Job: the checks only per-node needs, one line each;
 * exit 1 when any failed. The common preflight Job runs beside it.
 */
import { readFileSync } from 'node:fs';
import { apiClient } from './shared/api-client.ts';
import type { PodObject } from './move-node.ts';
import {
  checkAllMoved,
  checkAutodetection,
  checkCalicoGone,
  checkCalicoHealthy,
  checkPolicies,
  type CalicoNodeAddress,
  type CalicoNodeDaemonSet,
  type EndpointAddress,
  type NodeCidr,
  type PerNodePreflightSpec,
} from './per-node-checks.ts';
import { report, runMain, type CheckResult } from './shared/report.ts';

async function main(): Promise<number> {
  const spec = JSON.parse(readFileSync(process.argv[2] ?? '/etc/cilium-cutover/per-node-preflight.json', 'utf8')) as PerNodePreflightSpec;
  const api = apiClient(process.env.KUBERNETES_SERVICE_HOST ?? '127.0.0.1', Number(process.env.KUBERNETES_SERVICE_PORT ?? '6444'));
  const calico = await api.get<CalicoNodeDaemonSet>('/apis/apps/v1/namespaces/kube-system/daemonsets/calico-node');
  const results: CheckResult[] = [];
  const nodes = (await Promise.all(spec.nodes.map((name) => api.get<NodeCidr & CalicoNodeAddress>(`/api/v1/nodes/${name}`)))).filter(
    (n): n is NodeCidr & CalicoNodeAddress => n !== undefined,
  );
  if (spec.phase === 'migrate') {
    results.push(checkCalicoHealthy(spec, calico), checkAutodetection(calico, nodes));
    const policies = await api.get<{ items: { metadata: { name: string; namespace: string } }[] }>(
      '/apis/networking.k8s.io/v1/networkpolicies',
    );
    results.push(checkPolicies(spec, policies?.items ?? []));
  } else {
    const pods = await api.get<{ items: PodObject[] }>('/api/v1/pods');
    const endpoints = await api.get<{ items: EndpointAddress[] }>('/apis/cilium.io/v2/ciliumendpoints');
    results.push(checkCalicoGone(calico), checkAllMoved(spec, pods?.items ?? [], nodes, endpoints?.items ?? []));
  }
  return report(results, 'per-node preflight');
}

runMain(main);
