/**
 * Step 000-preflight: the migration namespace and the checks that refuse to go on.
 */
import * as k8s from 'cdk8s-plus-28/lib/imports/k8s.js';
import { NAMESPACE_KINDS } from '../lib/incluster/namespace-check.ts';
import { bundleInCluster } from '../lib/constructs/bundle.ts';
import type { ResolvedConfig } from '../lib/config/resolve.ts';
import { CutoverJob, FILES_DIR } from '../lib/constructs/cutover-job.ts';
import { JobFiles } from '../lib/constructs/job-files.ts';
import type { NodePreflightSpec } from '../lib/incluster/node-checks.ts';
import type { PerNodePreflightSpec } from '../lib/incluster/per-node-checks.ts';
import { POLICY_RESOURCES, type PreflightSpec } from '../lib/incluster/preflight-checks.ts';
import {
  CALICO_API_SERVICE,
  CALICO_APISERVER_NAMESPACE,
  CALICO_V3_CRD,
  TIGERA_OPERATOR_CRD,
} from '../lib/incluster/calico-install-checks.ts';
import { ScopedServiceAccount, type AccessRule } from '../lib/constructs/scoped-service-account.ts';
import { ScriptJob } from '../lib/constructs/script-job.ts';
import { RETRY, type AbortGuide, type Step, type StepChart } from '../lib/step.ts';
import { LABEL_COMPONENT, TOOL } from '../lib/labels.ts';
import { setFileName } from '../lib/constructs/file-name.ts';
import { calicoEnforcedPolicyApi } from '../lib/versions/calico-deletion-sets.ts';
import { serviceLbCollision } from '../lib/versions/cilium-known-bugs.ts';

/** What the preflight Job checks, as its ConfigMap carries it. */
export function preflightSpec(config: ResolvedConfig): PreflightSpec {
  return {
    nodes: config.cluster.nodes.map((n) => ({ name: n.name, role: n.role, internalIP: n.internalIP })),
    calicoVersion: config.calico.version,
    kubeProxyReplacement: config.cilium.kubeProxyReplacementEnabled,
    skipNodes: config.run.skipNodes,
    podCIDR: config.cluster.podCIDR,
    serviceCIDR: config.cluster.serviceCIDR,
    profile: config.cluster.profile,
    ...(config.cluster.profile === 'hetzner-vswitch' && config.cluster.network?.vSwitchSubnet
      ? { vSwitch: { subnet: config.cluster.network.vSwitchSubnet, cloudServers: config.cluster.network.cloudServers } }
      : {}),
    kubernetesVersion: config.cluster.kubernetesVersion,
    kernel: { ciliumLine: config.finalCilium.version.line, ...config.finalCilium.version.rules.kernel },
    calicoManifest: config.calico.manifest,
    calicoIpPools: config.calico.ipPools,
    ...(config.cluster.profile === 'hetzner-cloud' && config.cluster.network
      ? { cloudController: config.cluster.network.cloudController }
      : {}),
    snapshot: { maxAgeSeconds: config.durations.maxSnapshotAgeSeconds, acknowledged: config.safety.acknowledgeNoSnapshot },
    policies: { acknowledged: config.safety.acknowledgeDroppedPolicies },
    unenforcedKinds: calicoEnforcedPolicyApi(config.calico.version),
    namespace: config.run.namespace,
    ...serviceLbSpec(config),
  };
}

/** The Cilium release the migration ends on, when it mixes up ServiceLB's addresses (its kube-proxy replacement does). */
function serviceLbSpec(config: ResolvedConfig): Pick<PreflightSpec, 'serviceLbBug'> {
  const cilium = config.finalCilium;
  const bug = cilium.kubeProxyReplacementEnabled ? serviceLbCollision(cilium.version.version) : undefined;
  return bug ? { serviceLbBug: { ciliumVersion: cilium.version.version, ...bug } } : {};
}

export function buildPreflight(chart: StepChart, config: ResolvedConfig): void {
  const namespace = config.run.namespace;
  const spec = preflightSpec(config);
  buildNodePreflight(chart, config);
  if (config.strategy === 'per-node' && config.phase !== 'steady') {
    buildPerNodePreflight(chart, config, config.phase);
  }
  new k8s.KubeNamespace(chart, 'Namespace', {
    metadata: {
      name: namespace,
      // Node cleanup needs privileged host-network pods; label the namespace so Pod Security
      // admission (if enforced cluster-wide) admits them.
      labels: {
        'pod-security.kubernetes.io/enforce': 'privileged',
        'pod-security.kubernetes.io/audit': 'privileged',
        'pod-security.kubernetes.io/warn': 'privileged',
      },
    },
  });

  const account = new ScopedServiceAccount(chart, 'Access', {
    name: `${TOOL}-preflight`,
    namespace,
    rules: [
      { apiGroup: '', resource: 'nodes', verbs: ['get'], names: config.cluster.nodes.map((n) => n.name) },
      // Which kind of Calico install this is (lib/incluster/calico-install-checks.ts), each object by
      // name. Cluster-wide where the namespace may not exist (a Role there could not be created).
      {
        apiGroup: 'apiextensions.k8s.io',
        resource: 'customresourcedefinitions',
        verbs: ['get'],
        names: [TIGERA_OPERATOR_CRD, CALICO_V3_CRD],
      },
      { apiGroup: 'apps', resource: 'daemonsets', verbs: ['get'], names: ['calico-node'] },
      { apiGroup: 'apps', resource: 'deployments', verbs: ['get'], names: ['tigera-operator', 'calico-typha'] },
      { apiGroup: 'operator.tigera.io', resource: 'installations', verbs: ['get'], names: ['default'] },
      { apiGroup: 'apiregistration.k8s.io', resource: 'apiservices', verbs: ['get'], names: [CALICO_API_SERVICE] },
      { apiGroup: '', resource: 'namespaces', verbs: ['get'], names: [CALICO_APISERVER_NAMESPACE] },
      { apiGroup: 'crd.projectcalico.org', resource: 'felixconfigurations', verbs: ['get'], names: ['default'] },
      // The etcd snapshots and the Calico policies are counted; list cannot be limited by name.
      { apiGroup: 'k3s.cattle.io', resource: 'etcdsnapshotfiles', verbs: ['list'] },
      ...[...POLICY_RESOURCES, 'ippools'].map((resource): AccessRule => ({ apiGroup: 'crd.projectcalico.org', resource, verbs: ['list'] })),
      ...spec.unenforcedKinds.map((k): AccessRule => ({ apiGroup: 'policy.networking.k8s.io', resource: k.resource, verbs: ['list'] })),
      // k3s ServiceLB's DaemonSets, in every namespace (older k3s put them in the Service's), found
      // by their label, when the Cilium release would mix up their addresses.
      ...(spec.serviceLbBug ? [{ apiGroup: 'apps', resource: 'daemonsets', verbs: ['list'] } satisfies AccessRule] : []),
      // What runs in its own namespace: it must be nothing but the tool's.
      ...NAMESPACE_KINDS.map((k): AccessRule => ({ apiGroup: k.group, resource: k.resource, verbs: ['list'], namespace })),
      // The hcloud cloud controller, a Deployment or (the chart's `kind: DaemonSet`) a DaemonSet.
      ...(spec.cloudController
        ? (['deployments', 'daemonsets'] as const).map((resource): AccessRule => ({
            apiGroup: 'apps',
            resource,
            verbs: ['get'],
            names: [spec.cloudController!.name],
            namespace: spec.cloudController!.namespace,
          }))
        : []),
    ],
  });

  new ScriptJob(chart, 'Preflight', config, { name: 'preflight', entry: 'preflight-main', spec, account });
}

/** Host directories the node preflight looks for the cleanup's tools in (read-only). */
const HOST_BIN_DIRS = ['/usr/sbin', '/sbin', '/usr/bin', '/bin'];

/** The ConfigMap listing every configured node for the node preflight's route checks (not hashed: see below). */
export const NODE_LIST = 'node-list';

/** How pod traffic crosses to other nodes once Cilium runs, for the node preflight's route check. */
export function peerRouting(config: ResolvedConfig): NodePreflightSpec['routing'] {
  const cilium = config.finalCilium;
  if (cilium.routingMode === 'tunnel') {
    return 'tunnel';
  }
  return cilium.autoDirectNodeRoutes ? 'direct' : 'network';
}

/**
 * One Job per node that checks what only the node sees (kube-proxy still answering, the host's
 * tools, the API server at cluster.apiServer, its routes to every other node and their pods, the
 * private interface's MTU) and pulls the Cilium images onto it ahead of the outage: a host-network
 * pod needs no CNI to pull.
 */
export function buildNodePreflight(chart: StepChart, config: ResolvedConfig): void {
  const namespace = config.run.namespace;
  const final = config.finalCilium;
  const spec: NodePreflightSpec = {
    kubeProxyReplacement: config.cilium.kubeProxyReplacementEnabled,
    profile: config.cluster.profile,
    podCIDR: config.cluster.podCIDR,
    routing: peerRouting(config),
    skipUnreachable: final.directRoutingSkipUnreachable === true,
    mtu: final.mtu,
    nodeList: NODE_LIST,
  };
  const files = new JobFiles(chart, 'NodeFiles', {
    name: 'node-preflight',
    namespace,
    component: 'node-preflight',
    files: { 'node-preflight.mjs': bundleInCluster('node-preflight-main'), 'node-preflight.json': `${JSON.stringify(spec, null, 2)}\n` },
  });
  // The node list under a fixed name, read through the API when the Job runs: a node added to the
  // config changes this object and adds its own Job, and renames no other node's.
  const list = new k8s.KubeConfigMap(chart, 'NodeList', {
    metadata: { name: NODE_LIST, namespace, labels: { [LABEL_COMPONENT]: 'node-preflight' } },
    data: {
      'nodes.json': `${JSON.stringify(
        config.cluster.nodes.map((n) => ({ name: n.name, internalIP: n.internalIP })),
        null,
        2,
      )}\n`,
    },
  });
  setFileName(list, `configmap-${NODE_LIST}`);
  const account = new ScopedServiceAccount(chart, 'NodeAccess', {
    name: `${TOOL}-node-preflight`,
    namespace,
    rules: [
      { apiGroup: '', resource: 'nodes', verbs: ['get'], names: config.cluster.nodes.map((n) => n.name) },
      { apiGroup: '', resource: 'configmaps', verbs: ['get'], names: [NODE_LIST], namespace },
    ],
  });
  for (const node of config.cluster.nodes) {
    if (config.run.skipNodes.includes(node.name)) {
      continue;
    }
    new CutoverJob(chart, `Node-${node.name}`, {
      name: `node-preflight-${node.name}`,
      namespace,
      component: 'node-preflight',
      attempt: chart.attempt,
      image: config.images.node,
      command: ['node', `${FILES_DIR}/node-preflight.mjs`, `${FILES_DIR}/node-preflight.json`],
      files,
      nodeName: node.name,
      api: { serviceAccountName: account.name, server: config.cluster.apiServer },
      fieldEnv: { NODE_NAME: 'spec.nodeName', POD_NAMESPACE: 'metadata.namespace' },
      readOnlyHostPaths: HOST_BIN_DIRS,
      initContainers: [
        // Pulls the images now; `--help` exits at once without touching anything.
        { name: 'pull-cilium-agent', image: config.images.ciliumAgent, command: ['cilium-agent', '--help'] },
        { name: 'pull-cilium-operator', image: config.images.ciliumOperator, command: ['cilium-operator-generic', '--help'] },
        ...(config.cilium.envoy === 'daemonset'
          ? [{ name: 'pull-cilium-envoy', image: config.images.ciliumEnvoy, command: ['/usr/bin/cilium-envoy', '--version'] }]
          : []),
      ],
    });
  }
}

/**
 * strategy per-node's own checks. Phase migrate: Calico Ready everywhere, its address detection
 * safe, NetworkPolicies acknowledged. Phase switch: Calico gone, every pod on the migration range or
 * (after a partial step 250) on its node's podCIDR.
 */
export function buildPerNodePreflight(chart: StepChart, config: ResolvedConfig, phase: 'migrate' | 'switch'): void {
  const namespace = config.run.namespace;
  const spec: PerNodePreflightSpec = {
    phase,
    nodeCount: config.cluster.nodes.length,
    nodes: config.cluster.nodes.map((n) => n.name),
    migrationCIDR: config.perNode.podCIDR,
    acknowledgeUnenforcedPolicies: config.perNode.acknowledgeUnenforcedPolicies,
  };
  const account = new ScopedServiceAccount(chart, 'PerNodeAccess', {
    name: `${TOOL}-per-node-preflight`,
    namespace,
    rules: [
      { apiGroup: 'apps', resource: 'daemonsets', verbs: ['get'], names: ['calico-node'], namespace: 'kube-system' },
      phase === 'migrate'
        ? { apiGroup: 'networking.k8s.io', resource: 'networkpolicies', verbs: ['list'] }
        : { apiGroup: '', resource: 'pods', verbs: ['list'] },
      // Phase migrate: the address Calico runs on, for a detection method that keeps it. Phase
      // switch: each node's podCIDR, where a pod re-addressed by an earlier attempt of step 250 is.
      { apiGroup: '', resource: 'nodes', verbs: ['get'], names: config.cluster.nodes.map((n) => n.name) },
      // And the CiliumEndpoints that show such a pod's address is Cilium's, not Calico's.
      ...(phase === 'switch' ? [{ apiGroup: 'cilium.io', resource: 'ciliumendpoints', verbs: ['list'] as const }] : []),
    ],
  });
  new ScriptJob(chart, 'PerNode', config, { name: 'per-node-preflight', entry: 'per-node-preflight-main', spec, account });
}

export function preflightAbort(config: ResolvedConfig): AbortGuide {
  return {
    after: `nothing has changed yet: only the namespace \`${config.run.namespace}\`, read-only RBAC and the check Jobs exist, and the Cilium images are on every node.`,
    failure: `a Job of the step is Failed; \`kubectl logs -n ${config.run.namespace} -l app.kubernetes.io/component=preflight\` (and \`=node-preflight\`) shows the FAIL lines.`,
    action: `${RETRY}. To back out, delete the namespace \`${config.run.namespace}\`: the cluster is as it was.`,
  };
}

export const preflightStep: Step = {
  definition: {
    kind: 'preflight',
    dir: '000-preflight',
    wave: 0,
    title: 'Preflight',
    summary: 'Checks that refuse to go on: nodes Ready, k3s server flags, the installed Calico version and kind of install.',
    timeout: '10m',
  },
  build: buildPreflight,
  abort: preflightAbort,
};
