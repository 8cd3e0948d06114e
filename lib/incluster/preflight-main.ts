/**
 * Entry point of the preflight Job: reads its spec, asks the API, prints one line per check and
 * exits 1 when any check failed. Bundled with its imports into one file at synth time.
 */
import { readFileSync } from 'node:fs';
import { apiClient } from './shared/api-client.ts';
import { objectPath } from './shared/api-client.ts';
import { checkNode, POLICY_RESOURCES, type DaemonSetObject, type NodeObject, type PreflightSpec } from './preflight-checks.ts';
import {
  agentNote,
  checkCalico,
  checkIpPools,
  checkTypha,
  type IpPoolObject,
  checkPolicies,
  checkSnapshot,
  checkServiceLb,
  checkUnenforcedPolicies,
  SERVICELB_LABEL,
  type SnapshotObject,
} from './preflight-cluster-checks.ts';
import {
  CALICO_API_SERVICE,
  CALICO_APISERVER_NAMESPACE,
  CALICO_V3_CRD,
  checkCalicoInstall,
  TIGERA_OPERATOR_CRD,
  type CalicoNodeObject,
} from './calico-install-checks.ts';
import { checkCloudController, type ControllerObject } from './cloud-controller-checks.ts';
import { anyFailed, formatResult, type CheckResult } from './shared/report.ts';
import { checkOwnNamespace, NAMESPACE_KINDS, type NamespacedObject } from './namespace-check.ts';

async function main(): Promise<number> {
  const spec = JSON.parse(readFileSync(process.argv[2] ?? '/etc/cilium-cutover/preflight.json', 'utf8')) as PreflightSpec;
  // The Job sets these to the direct API address (not the kubernetes Service).
  const api = apiClient(process.env.KUBERNETES_SERVICE_HOST ?? '127.0.0.1', Number(process.env.KUBERNETES_SERVICE_PORT ?? '6444'));
  const results: CheckResult[] = [];
  // Absent once step 100 ran: a run after it (a re-walk of the steps) sees a half-migrated cluster.
  const calicoNode = await api.get<DaemonSetObject & CalicoNodeObject>('/apis/apps/v1/namespaces/kube-system/daemonsets/calico-node');
  for (const node of spec.nodes) {
    const live = await api.get<NodeObject>(`/api/v1/nodes/${encodeURIComponent(node.name)}`);
    results.push(...checkNode(spec, node, live, calicoNode === undefined));
  }
  results.push(...agentNote(spec));
  if (spec.cloudController) {
    const cc = spec.cloudController;
    // The hcloud chart deploys it as a Deployment or, with `kind: DaemonSet`, as a DaemonSet.
    const controller =
      (await api.get<ControllerObject>(objectPath('apps', 'v1', 'deployments', cc.namespace, cc.name))) ??
      (await api.get<ControllerObject>(objectPath('apps', 'v1', 'daemonsets', cc.namespace, cc.name)));
    results.push(...checkCloudController(spec, controller));
  }
  const crd = (name: string) => api.get(`/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${name}`);
  const operatorCrd = await crd(TIGERA_OPERATOR_CRD);
  results.push(
    ...checkCalicoInstall({
      calicoNode,
      operatorCrd,
      operatorDeployment: await api.get(objectPath('apps', 'v1', 'deployments', 'tigera-operator', 'tigera-operator')),
      // Without the operator's CRD there is no Installation API to ask.
      installation: operatorCrd && (await api.get(objectPath('operator.tigera.io', 'v1', 'installations', undefined, 'default'))),
      calicoSystemNode: await api.get(objectPath('apps', 'v1', 'daemonsets', 'calico-system', 'calico-node')),
      apiService: await api.get(`/apis/apiregistration.k8s.io/v1/apiservices/${CALICO_API_SERVICE}`),
      apiserverNamespace: await api.get(`/api/v1/namespaces/${CALICO_APISERVER_NAMESPACE}`),
      v3Crd: await crd(CALICO_V3_CRD),
      felixConfiguration: await api.get(objectPath('crd.projectcalico.org', 'v1', 'felixconfigurations', undefined, 'default')),
    }),
  );
  results.push(checkCalico(spec, calicoNode));
  results.push(
    checkTypha(spec, calicoNode !== undefined, await api.get(objectPath('apps', 'v1', 'deployments', 'kube-system', 'calico-typha'))),
  );
  const pools = await api.get<{ items?: IpPoolObject[] }>(objectPath('crd.projectcalico.org', 'v1', 'ippools', undefined));
  results.push(checkIpPools(spec, calicoNode !== undefined, pools?.items));
  const snapshots = await api.get<{ items?: SnapshotObject[] }>(objectPath('k3s.cattle.io', 'v1', 'etcdsnapshotfiles', undefined));
  results.push(checkSnapshot(spec, calicoNode !== undefined, snapshots?.items, new Date()));
  const policies = await Promise.all(
    POLICY_RESOURCES.map((r) => api.get<{ kind?: string; items?: [] }>(objectPath('crd.projectcalico.org', 'v1', r, undefined))),
  );
  results.push(checkPolicies(spec, policies));
  const unenforced = checkUnenforcedPolicies(
    spec,
    await Promise.all(
      spec.unenforcedKinds.map((k) => api.get<{ items?: [] }>(objectPath('policy.networking.k8s.io', k.version, k.resource, undefined))),
    ),
  );
  if (unenforced) {
    results.push(unenforced);
  }
  const serviceLb = spec.serviceLbBug
    ? checkServiceLb(
        spec,
        (
          await api.get<{ items?: [] }>(
            `${objectPath('apps', 'v1', 'daemonsets', undefined)}?labelSelector=${encodeURIComponent(SERVICELB_LABEL)}`,
          )
        )?.items,
      )
    : undefined;
  if (serviceLb) {
    results.push(serviceLb);
  }
  const listed = await Promise.all(
    NAMESPACE_KINDS.map(async (k) => {
      const list = await api.get<{ items?: NamespacedObject[] }>(objectPath(k.group, k.version, k.resource, spec.namespace));
      return (list?.items ?? []).map((o) => ({ ...o, kind: k.kind }));
    }),
  );
  results.push(checkOwnNamespace(spec.namespace, listed.flat()));
  for (const r of results) {
    console.log(formatResult(r));
  }
  const failed = results.filter((r) => r.outcome === 'FAIL').length;
  console.log(anyFailed(results) ? `preflight: ${failed} check(s) failed; nothing was changed` : 'preflight: all checks passed');
  return anyFailed(results) ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.log(`FAIL preflight api: ${(err as Error).message}`);
    process.exit(1);
  },
);
