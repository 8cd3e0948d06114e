/**
 * strategy per-node, steps 400 on: the step that moves one node to Cilium (its CiliumNodeConfig
 * and the Job that drains and switches it), one per node; and the Job that clears the network
 * condition calico-node's shutdown leaves, which step 610 runs.
 */
import { ApiObject, Duration } from 'cdk8s';
import { hashedName, MAX_NAME_LENGTH, shortHash } from '../lib/content-hash.ts';
import { CILIUM_NAMESPACE } from '../lib/constructs/cilium/cilium-access.ts';
import { nodeCniDefaults } from '../lib/constructs/cilium/config-data.ts';
import type { ResolvedConfig } from '../lib/config/resolve.ts';
import type { MoveNodeSpec } from '../lib/incluster/move-node.ts';
import type { MovedNodeCheckSpec } from '../lib/incluster/moved-node-checks.ts';
import { setFileName } from '../lib/constructs/file-name.ts';
import { ScopedServiceAccount, type AccessRule } from '../lib/constructs/scoped-service-account.ts';
import { ScriptJob } from '../lib/constructs/script-job.ts';
import type { StepChart } from '../lib/step.ts';
import { TOOL } from '../lib/labels.ts';
import type { AbortGuide, Step, StepDefinition } from '../lib/step.ts';

/** The label a node gets once drained; its CiliumNodeConfig selects it together with the hostname. */
export const SWITCH_LABEL = { key: 'cilium-cutover.io/cni', value: 'cilium' } as const;
/** The label a node gets once its pods run on Cilium: its connectivity check's pod waits for it. */
export const MOVED_LABEL = { key: 'cilium-cutover.io/moved', value: 'true' } as const;
/** How long a node's restarted Cilium agent may take to become Ready. */
const AGENT_TIMEOUT = Duration.minutes(10);
/** How many peers the connectivity check asks at once. */
const CHECK_BATCH = 8;
/** cilium-health's port on each node's health endpoint (Cilium's `cluster-health-port`, 4240 by default). */
const HEALTH_PORT = 4240;

/** A node Job's deadline: evictions, the agent's restart, the pods' return. */
function moveNodeDeadline(config: ResolvedConfig): Duration {
  return Duration.seconds(2 * config.durations.drainTimeoutSeconds + AGENT_TIMEOUT.toSeconds() + 60);
}

/**
 * The check Job's deadline: it counts from its creation, and its pod waits for the move. Once it
 * runs, each batch of peers that never answer takes under a minute (six tries, five seconds apart,
 * each up to five seconds).
 */
function checkDeadline(config: ResolvedConfig): Duration {
  const batches = Math.ceil((config.cluster.nodes.length - 1) / CHECK_BATCH);
  return Duration.seconds(moveNodeDeadline(config).toSeconds() + Duration.minutes(2 + batches).toSeconds());
}

/** How long a node step may take (Flux timeout, `apply`): the check's deadline and five minutes to start it. */
export function moveNodeTimeout(config: ResolvedConfig): string {
  return `${Math.ceil(checkDeadline(config).toSeconds() / 60) + 5}m`;
}

/** A node Job's ServiceAccount (and RBAC) name: readable, cut with a hash for long node names. */
function accountName(role: 'move' | 'check', node: string): string {
  const name = `${TOOL}-${role}-${node}`;
  return name.length <= MAX_NAME_LENGTH ? name : hashedName(name, shortHash(node));
}

/** The CiliumNodeConfig of one node. */
export function nodeConfigName(node: string): string {
  return `${TOOL}-${node}`;
}

export function buildMoveNode(chart: StepChart, config: ResolvedConfig): void {
  const node = chart.step.node!;
  const namespace = config.run.namespace;
  const cilium = config.cilium;

  // Applied after step 200 is Ready, so the operator has registered the CRD by then (Argo CD skips
  // its dry-run while the CRD is missing and retries; Flux reconciles this step only after 200).
  const nodeConfig = new ApiObject(chart, 'NodeConfig', {
    apiVersion: cilium.version.rules.nodeConfigApiVersion,
    kind: 'CiliumNodeConfig',
    metadata: { name: nodeConfigName(node), namespace: CILIUM_NAMESPACE },
    spec: {
      nodeSelector: { matchLabels: { 'kubernetes.io/hostname': node, [SWITCH_LABEL.key]: SWITCH_LABEL.value } },
      defaults: nodeCniDefaults(cilium.kubeProxyReplacementEnabled),
    },
  });
  setFileName(nodeConfig, 'ciliumnodeconfig');

  const account = new ScopedServiceAccount(chart, 'Access', {
    name: accountName('move', node),
    namespace,
    rules: moveNodeRules(node),
  });
  const spec: MoveNodeSpec = {
    node,
    migrationCIDR: config.perNode.podCIDR,
    drainTimeoutSeconds: config.durations.drainTimeoutSeconds,
    agentTimeoutSeconds: AGENT_TIMEOUT.toSeconds(),
    evictUnmanagedPods: config.perNode.evictUnmanagedPods,
    deleteEmptyDirData: config.perNode.deleteEmptyDirData,
    switchLabel: SWITCH_LABEL,
    movedLabel: MOVED_LABEL,
    agent: { namespace: CILIUM_NAMESPACE, labelSelector: 'k8s-app=cilium' },
  };
  new ScriptJob(chart, 'Move', config, {
    name: `move-node-${node}`,
    script: 'move-node',
    component: 'move-node',
    entry: 'move-node-main',
    spec,
    account,
    // Never on the node it drains: the drain would evict the Job itself.
    avoidNode: node,
    activeDeadline: moveNodeDeadline(config),
  });
  buildMovedNodeCheck(chart, config, node);
}

/**
 * The node's connectivity check, before the next node moves: a pod on the pod network that the
 * scheduler places on the node once the move labels it (tolerating its cordon and taints, as every
 * Job here). It reads the other nodes' CiliumNodes, by name, for their health endpoints.
 */
function buildMovedNodeCheck(chart: StepChart, config: ResolvedConfig, node: string): void {
  const peers = config.cluster.nodes.map((n) => n.name).filter((n) => n !== node);
  const account = new ScopedServiceAccount(chart, 'CheckAccess', {
    name: accountName('check', node),
    namespace: config.run.namespace,
    rules: [{ apiGroup: 'cilium.io', resource: 'ciliumnodes', verbs: ['get'], names: peers }],
  });
  const spec: MovedNodeCheckSpec = {
    node,
    migrationCIDR: config.perNode.podCIDR,
    peers,
    healthPort: HEALTH_PORT,
    attempts: 6,
    retryDelaySeconds: 5,
    concurrency: CHECK_BATCH,
  };
  new ScriptJob(chart, 'Check', config, {
    name: `check-node-${node}`,
    script: 'check-node',
    component: 'check-node',
    entry: 'moved-node-check-main',
    spec,
    account,
    hostAccess: 'none',
    nodeLabels: { 'kubernetes.io/hostname': node, [MOVED_LABEL.key]: MOVED_LABEL.value },
    fieldEnv: { POD_IP: 'status.podIP' },
    activeDeadline: checkDeadline(config),
  });
}

/**
 * Cordon, label and uncordon this node only; list pods and evict them anywhere (a drained node's
 * pods live in every namespace, and pods cannot be named up front). No pod delete: evictions keep
 * PodDisruptionBudgets.
 */
export function moveNodeRules(node: string): AccessRule[] {
  return [
    { apiGroup: '', resource: 'nodes', verbs: ['get', 'patch'], names: [node] },
    { apiGroup: '', resource: 'pods', verbs: ['list'] },
    { apiGroup: '', resource: 'pods/eviction', verbs: ['create'] },
  ];
}

export function moveNodePlan(config: ResolvedConfig, step: StepDefinition): string[] {
  const node = step.node!;
  return [
    `\`${nodeConfigName(node)}\` (CiliumNodeConfig) selects ${node} once it carries the label \`${SWITCH_LABEL.key}=${SWITCH_LABEL.value}\`: the agent there then writes Cilium's CNI config${config.cilium.kubeProxyReplacementEnabled ? '' : ', chained with portmap so hostPorts keep working'}, which the runtime loads before Calico's (left in place). The Job runs on another node and:`,
    '',
    `1. cordons ${node} (remembering that it did, in \`cilium-cutover.io/cordoned\`);`,
    `2. evicts its pods through the eviction API, so PodDisruptionBudgets hold, for up to ${config.perNode.drainTimeout} (DaemonSet and static pods stay; a pod without a controller stops the Job${config.perNode.evictUnmanagedPods ? ', unless perNode.evictUnmanagedPods, which is set' : ''}; so does a pod with an emptyDir volume, whose data the eviction deletes${config.perNode.deleteEmptyDirData ? ', unless perNode.deleteEmptyDirData, which is set' : ''}; either stops it before anything changes);`,
    `3. labels ${node} and restarts its Cilium agent, which reads the CiliumNodeConfig when it starts;`,
    `4. evicts the pods still on a Calico address there (DaemonSet pods) and waits until every pod-network pod on ${node} has an address from ${config.perNode.podCIDR};`,
    `5. labels ${node} \`${MOVED_LABEL.key}=${MOVED_LABEL.value}\` and uncordons it (only if it cordoned it).`,
    '',
    `Then a pod on ${node}'s pod network, which the scheduler places there only once it carries that label, checks the node before the next one moves: its own address is from ${config.perNode.podCIDR}, the API server answers through the \`kubernetes\` Service, and the cilium-health endpoint of every other node answers over Cilium's overlay (UDP ${config.perNode.tunnelPort} between the nodes). A failure stops the run here, with ${node} moved and every later node still on Calico.`,
    '',
    'The guide reboots each node here; this step restarts the pods instead, and step 610 removes what Calico left on the nodes. A re-run skips what is done.',
    '',
    `**hostPort of pods that started under Calico.** The runtime removes a pod's network with the CNI config it loads at that moment, and portmap names its rules after the network: the rules it wrote for a pod under Calico's network (\`k8s-pod-network\`) stay when that pod is deleted under Cilium's, and the portmap Calico installs keeps them ahead of the new pod's (containernetworking/plugins#752), so such a hostPort (k3s ServiceLB's svclb pods) may keep forwarding to the old address. Once this step has completed, reboot ${node} (drained), as the guide does, or delete on it the \`CNI-HOSTPORT-DNAT\` rules whose comment names \`k8s-pod-network\` (\`iptables -t nat -S CNI-HOSTPORT-DNAT\`) and the \`CNI-DN-…\` chains they jump to.`,
  ];
}

export function moveNodeAbort(config: ResolvedConfig, step: StepDefinition): AbortGuide {
  const node = step.node!;
  return {
    after: `${node} runs its pods on Cilium (${config.perNode.podCIDR}); the nodes after it still run Calico, and both reach each other.`,
    failure: `a Job is Failed. The move: \`kubectl logs -n ${config.run.namespace} -l app.kubernetes.io/component=move-node --prefix\` says where it stopped (a PodDisruptionBudget that never allowed an eviction, a pod without a controller, an agent that did not become Ready); ${node} stays cordoned. The check: \`kubectl logs -n ${config.run.namespace} -l app.kubernetes.io/component=check-node --prefix\` names each FAIL; ${node} runs on Cilium, uncordoned, and its pods may not reach the other nodes' (a \`pod-overlay\` FAIL: the network drops UDP ${config.perNode.tunnelPort} between the nodes, a firewall such as Hetzner's included).`,
    action: [
      `to go on, fix the cause, add this step to \`run.retries\`, synth and sync: the new Jobs continue where these stopped.`,
      `To put ${node} back on Calico, first stop the engine from switching it again (remove this step and the later ones from the repository, or stop the sync), then:`,
      `\`kubectl -n kube-system delete ciliumnodeconfig ${nodeConfigName(node)}\`, \`kubectl label node ${node} ${SWITCH_LABEL.key}- ${MOVED_LABEL.key}-\`,`,
      `restart the node's agent so it runs without the CiliumNodeConfig and no longer manages the CNI config (\`kubectl -n kube-system delete pod -l k8s-app=cilium --field-selector spec.nodeName=${node}\`) and wait until the old pod is gone,`,
      `then on the node \`rm /etc/cni/net.d/05-cilium.conflist\` (and rename a \`10-calico.conflist.cilium_bak\` back to \`10-calico.conflist\` should one exist),`,
      `move its pods back onto Calico: \`kubectl drain ${node} --ignore-daemonsets\` (with \`--delete-emptydir-data\` if that data may go, \`--force\` for pods without a controller), delete the DaemonSet pods there that still have an address from ${config.perNode.podCIDR}, and \`kubectl uncordon ${node}\`.`,
      "In that order: the file goes only once no agent that was told to write it runs. Then reboot the node, or remove the hostPort rules left behind (see the step's hostPort note).",
    ].join(' '),
  };
}

/**
 * strategy per-node, after Calico's removal: calico-node's shutdown may leave NetworkUnavailable=True
 * on nodes Cilium already serves (projectcalico/calico#7816), and the taint that follows keeps new
 * pods off them. The Job sets the condition back where the node's Cilium agent is ready. It may
 * read the nodes and patch their status, by name, and list pods in kube-system.
 */
export function buildNetworkCondition(chart: StepChart, config: ResolvedConfig): void {
  const namespace = config.run.namespace;
  const nodes = config.cluster.nodes.map((n) => n.name);
  const account = new ScopedServiceAccount(chart, 'ConditionAccess', {
    name: `${TOOL}-network-condition`,
    namespace,
    rules: [
      { apiGroup: '', resource: 'nodes', verbs: ['get'], names: nodes },
      { apiGroup: '', resource: 'nodes/status', verbs: ['patch'], names: nodes },
      { apiGroup: '', resource: 'pods', verbs: ['list'], namespace: CILIUM_NAMESPACE },
    ],
  });
  new ScriptJob(chart, 'Condition', config, {
    name: 'network-condition',
    entry: 'network-condition-main',
    spec: { nodes, agent: { namespace: CILIUM_NAMESPACE, labelSelector: 'k8s-app=cilium' } },
    account,
  });
}

/** The first sync wave of the node steps; one wave per node after it. */
export const FIRST_NODE_WAVE = 400;
/** Longest `<NNN>-node-<name>` directory: it ends up in Flux Kustomization names (a label value). */
const MAX_NODE_DIR = 32;

/** The directory of a node's step: `<wave>-node-<name>`, cut with a hash when the name is long. */
export function nodeStepDir(wave: number, node: string): string {
  const full = `${wave}-node-${node}`;
  if (full.length <= MAX_NODE_DIR) {
    return full;
  }
  return hashedName(full, shortHash(node).slice(0, 6), MAX_NODE_DIR);
}

/** The step of the node that moves `index`-th (from 0). */
export function moveNodeDefinition(node: string, index: number, timeout: string): StepDefinition {
  const wave = FIRST_NODE_WAVE + index;
  return {
    kind: 'move-node',
    dir: nodeStepDir(wave, node),
    wave,
    title: `Move ${node}`,
    impact: 'destructive',
    summary: `Drains ${node}, switches it to Cilium's CNI, waits until its pods run on Cilium and checks them there.`,
    timeout,
    node,
  };
}

/** One step per node: charts/steps.ts makes each node's definition with moveNodeDefinition. */
export const moveNodeStep: Step = {
  definition: moveNodeDefinition('<node>', 0, '30m'),
  build: buildMoveNode,
  plan: moveNodePlan,
  abort: moveNodeAbort,
};
