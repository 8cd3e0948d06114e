/**
 * PLAN.md: what a reviewer reads before the YAML. Derived from the rendered steps, so it cannot
 * drift from what is applied.
 */
import { pausedHere } from '../config/maintenance.ts';
import type { ResolvedConfig } from '../config/resolve.ts';
import { all, count } from '../words.ts';
import { applying, argoInCluster, engineDeletes, engineName, handOver, retrying, stepPlace, stepsIntro } from './plan-engine.ts';
import { accessSection, networkSection } from './plan-network.ts';
import { stepGraph } from './plan-graph.ts';
import { maintenanceSection, windowHint } from './plan-maintenance.ts';
import { beforeTheWindow } from './plan-window.ts';
import { outDirOf, synthCommandOf, type OutputOrigin, type RenderedStep } from './rendered.ts';

function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const line = (cells: readonly string[]): string => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

function settings(config: ResolvedConfig): string {
  const c = config.cilium;
  return table(
    ['cilium-config key', 'value', 'why'],
    [
      [
        'routing-mode',
        `\`${c.routingMode}\``,
        c.routingMode === 'native' ? 'no overlay: the network routes pod CIDRs' : 'overlay between nodes',
      ],
      ...(c.routingMode === 'native'
        ? [['ipv4-native-routing-cidr', `\`${c.ipv4NativeRoutingCIDR}\``, 'traffic to pods is not masqueraded']]
        : []),
      ...(c.migration
        ? [
            ['tunnel-port', `\`${c.migration.tunnelPort}\``, "Cilium's VXLAN beside Calico's network"],
            [
              'cluster-pool-ipv4-cidr',
              `\`${c.migration.podCIDR}\` (/${c.migration.maskSize} per node)`,
              "addresses apart from Calico's pools",
            ],
            ['custom-cni-conf', '`true`', 'Calico stays the CNI until a node is moved'],
            ['enable-policy', '`never`', 'no policy enforcement during the migration'],
            ['enable-host-legacy-routing', '`true`', "traffic to Calico's pods goes through the host's routes"],
          ]
        : []),
      [
        'kube-proxy-replacement',
        `\`"${c.kubeProxyReplacement}"\``,
        c.kubeProxyReplacementEnabled ? 'Cilium serves Services; k3s runs without kube-proxy' : 'kube-proxy keeps serving Services',
      ],
      [
        'ipam',
        `\`${c.ipamMode}\``,
        c.migration ? 'the operator hands out blocks of the migration range' : "pods take addresses from each node's podCIDR",
      ],
      [
        'mtu',
        c.mtu === undefined ? 'auto-detected' : `\`${c.mtu}\``,
        c.mtu === undefined ? 'profile generic: Cilium detects it' : `the ${config.cluster.profile} network carries ${c.mtu} bytes`,
      ],
      ['enable-bpf-masquerade', `\`${c.bpfMasquerade}\``, 'masquerading of traffic leaving the cluster in eBPF'],
      [
        'auto-direct-node-routes',
        `\`${c.autoDirectNodeRoutes}\``,
        c.autoDirectNodeRoutes ? 'nodes share a layer-2 segment' : 'routes come from the network (on Hetzner Cloud: the cloud controller)',
      ],
      ['operator replicas', `\`${c.operatorReplicas}\``, ''],
      [
        'API server (env, not a key)',
        `\`${config.cluster.apiServer.host}:${config.cluster.apiServer.port}\``,
        'reachable without kube-proxy or cluster DNS',
      ],
    ],
  );
}

function k3sFlags(config: ResolvedConfig): string {
  const flags = ['flannel-backend: none', 'disable-network-policy: true'];
  if (config.cilium.kubeProxyReplacementEnabled) {
    flags.push('disable-kube-proxy: true');
  }
  const later =
    config.cilium.migration && config.finalCilium.kubeProxyReplacementEnabled
      ? [
          '',
          'kube-proxy keeps running in this phase: it serves Services on the nodes Calico still runs. `phase: switch`',
          'adds `disable-kube-proxy: true` to the drop-in, and its preflight waits for it on every server.',
        ]
      : [];
  return [
    'Every k3s server must run with these settings before step 000 (the preflight refuses to go on until',
    "the servers' `k3s.io/node-args` show them); agents take them from the servers when they restart:",
    '',
    ...flags.map((f) => `- \`${f}\``),
    '',
    '`host/k3s/config.yaml.d/90-cilium-cutover.yaml` holds them; `host/k3s-rollout.sh` installs it on every server and restarts k3s in',
    'order: the server the others join through first, the other servers one at a time, then every agent.',
    ...later,
  ].join('\n');
}

/** strategy per-node: the two phases, and what each one's output does. */
function perNodePhases(config: ResolvedConfig): string[] {
  if (config.strategy !== 'per-node' || config.phase === 'steady') {
    return [];
  }
  const { perNode, finalCilium } = config;
  const order = config.migrationOrder.map((n) => `\`${n.name}\``).join(', ');
  const current = (phase: string) => (config.phase === phase ? ' **(this output)**' : '');
  return [
    '## Per-node migration: two phases',
    '',
    `Cilium's migration guide runs Cilium beside Calico in tunnel mode with cluster-pool IPAM on a range of its own (\`${perNode.podCIDR}\`, VXLAN on UDP ${perNode.tunnelPort}). The target here is ${finalCilium.routingMode} routing with \`ipam: ${finalCilium.ipamMode}\`${finalCilium.kubeProxyReplacementEnabled ? ' and kube-proxy replacement' : ''}${config.cluster.profile === 'hetzner-cloud' ? " (on Hetzner Cloud the network routes only each node's podCIDR, which the cloud controller announces)" : ''}. Routing mode and IPAM cannot change node by node (mixed tunnel and native nodes drop each other's replies, cilium/cilium#9680), so the migration takes two phases, each a commit of this repository:`,
    '',
    `1. **\`phase: migrate\`**${current('migrate')}: Cilium starts beside Calico without taking over any node; then the nodes move one per step in this order: ${order}. Each step cordons and drains its node (PodDisruptionBudgets hold), switches it to Cilium's CNI and restarts the pods that stay there; pods on moved and unmoved nodes reach each other through the host routes. After the last node the checks run while Calico is still there (500/510: pod to pod between every pair of nodes over Cilium's overlay, DNS, Services and the API from pods), the gate before anything irreversible; only when they pass is Calico deleted (600) and its leftovers removed (610). No full outage: each drained pod restarts elsewhere.`,
    `2. **\`phase: switch\`**${current('switch')}: roll out the k3s drop-in (${finalCilium.kubeProxyReplacementEnabled ? 'now with `disable-kube-proxy`' : 'unchanged'}), set \`phase: switch\`, synth and sync. Cilium restarts with the \`cilium\` settings, a **full outage** (\`perNode.acknowledgeSwitchOutage\`): an agent restarted with \`ipam: ${finalCilium.ipamMode}\` cannot re-allocate a pod's address from \`${perNode.podCIDR}\` and drops its endpoint (Cilium's endpoint restore), so every pod loses its network as its node's agent restarts. ${finalCilium.kubeProxyReplacementEnabled ? "Step 210 removes kube-proxy's rules, " : ''}${finalCilium.kubeProxyReplacementEnabled ? 's' : 'S'}tep 250 re-creates every pod still on \`${perNode.podCIDR}\` so it comes back with an address from its node's podCIDR, which ends the outage, and the checks run again. The node steps' CiliumNodeConfigs leave the repository with this commit; the engines prune them (applied from a workstation, delete them: \`kubectl -n kube-system delete ciliumnodeconfig -l app.kubernetes.io/part-of=cilium-cutover\`; they only repeat the final CNI settings).`,
    '3. **`phase: steady`** when the switch phase completed, as for any migration.',
    '',
  ];
}

function stepSection(config: ResolvedConfig, index: number, { step, objects, notes }: RenderedStep): string {
  const impact = step.impact ? ` · **${step.impact}**` : '';
  const lines = [`### ${index}. \`${step.dir}\`: ${step.title} (${stepPlace(config, step)})${impact}`, '', step.summary, ''];
  if (notes.length > 0) {
    lines.push(...notes, '');
  }
  lines.push('Objects:', '');
  for (const o of objects) {
    lines.push(`- ${o.kind} \`${o.namespace ? `${o.namespace}/` : ''}${o.name}\``);
  }
  return lines.join('\n');
}

function abortSection(config: ResolvedConfig, steps: readonly RenderedStep[], out: string): string[] {
  const lines = [
    '## If a step fails',
    '',
    'A failed step stops the sync (or the workstation loop) before the next one starts. Per step:',
    '',
  ];
  for (const [i, { step, abort }] of steps.entries()) {
    lines.push(
      `### \`${step.dir}\` failed`,
      '',
      `- **After it succeeds:** ${abort.after}`,
      `- **How a failure shows:** ${abort.failure}`,
      `- **What to do:** ${abort.action}${windowHint(steps, i)}`,
      '',
    );
  }
  lines.push(
    '### Keeping API and SSH access',
    '',
    `- SSH reaches the nodes over their own interfaces, to which Cilium attaches its programs in step 200: keep the console access (above) at hand and a session open on one server during the ${config.strategy === 'per-node' ? 'migration' : 'outage'}.`,
    `- The API server does not need the pod network: point a kubeconfig at a server directly (its address, port 6443, or \`${config.cluster.apiServer.host}:${config.cluster.apiServer.port}\` from a node) rather than through a load balancer that runs in the cluster.`,
    '- Never restart all k3s servers at once (etcd quorum); `host/k3s-rollout.sh` restarts them one at a time.',
    '',
    '### Removing Cilium',
    '',
    `1. Delete the Cilium objects: \`kubectl delete -k ${out}/manifests/200-cilium\` (in \`phase: steady\` they are protected from pruning, so only a deliberate delete removes them).`,
    "2. On every node, **before any `k3s-killall.sh` or `k3s-uninstall.sh`**, remove Cilium's host interfaces, or the host may lose connectivity when k3s stops:",
    '   `ip link delete cilium_host; ip link delete cilium_net; ip link delete cilium_vxlan` (the last one exists only in tunnel mode).',
    "3. Clean Cilium's remaining state on each node with `cilium-dbg post-uninstall-cleanup` from the agent image, or reboot the node, and remove `/etc/cni/net.d/05-cilium.conflist`.",
    '4. Install the replacement CNI; pods get new addresses when they restart.',
    '',
  );
  return lines;
}

function graduation(config: ResolvedConfig): string[] {
  if (config.phase === 'steady') {
    return [
      '## Steady phase',
      '',
      'The migration is over: this output keeps only the Cilium step, the status record (`kube-system/cilium-cutover-status`,',
      'as the migration wrote it), the node check and the k3s drop-in, all protected from the engines (above). The node check',
      "runs again whenever `cluster.nodes` changes: add every new node there, and it checks the node's k3s settings, kubelet and kernel.",
      '',
    ];
  }
  return [
    '## After the migration: `phase: steady`',
    '',
    'When `900-complete` has applied (every check passed), set `phase: steady` (and `verify.enabled` no longer matters)',
    'and synth. The diff of that switch: every directory but `manifests/200-cilium/` and `manifests/900-complete/`',
    `disappears, with${config.gitops.engine === 'argocd' ? '' : ' its Flux Kustomization and'} the host scripts (the drop-in stays); nothing in the Cilium objects and`,
    `the record changes. ${engineName(config.gitops.engine)} then prunes the migration Jobs, their RBAC and the test workloads, and can never prune`,
    'Cilium. Until then every step is safe to sync again on the migrated cluster: the preflight passes with Calico gone,',
    'the deletion and cleanup Jobs report everything ABSENT, and the checks run again.',
    '',
    'Without an engine, graduate from a workstation with the steady output:',
    '`npx cilium-cutover apply --graduate --dir <steady output> --kubeconfig <kubeconfig>` (`--dry-run=server` lists',
    "what it would delete). It applies that output, then deletes every object of the migration's steps that is still",
    'in the cluster, its namespaces last, and keeps Cilium, the status record and the node check. It refuses unless the status',
    'record on the cluster is the one that output keeps (same cluster, same completed steps).',
    '',
    ...(config.gitops.engine === 'argocd'
      ? []
      : [
          'A `flux/` applied with kubectl rather than synced from a source: apply the steady `flux/` and delete the',
          'Kustomizations it no longer has (`kubectl -n <namespace> delete kustomization <name>`); with `prune: true`',
          'Flux deletes their objects.',
          '',
        ]),
  ];
}

/** The sections of cilium-cutover's documentation the risks point at. */
const DOCS = {
  calico: `see cilium-cutover's docs/steps.md "Removing Calico"`,
  cilium: `see cilium-cutover's docs/steps.md "Installing Cilium"`,
  maintenance: `see cilium-cutover's docs/applying.md "Maintenance window: pausing applications"`,
  applying: `see cilium-cutover's docs/applying.md "Applying the steps"`,
  retry: `see cilium-cutover's docs/applying.md "Retrying a failed step"`,
} as const;

/** The risks that apply to this config, each with where to read more. */
function risks(config: ResolvedConfig, steps: readonly RenderedStep[]): string[] {
  if (config.strategy === 'per-node') {
    return perNodeRisks(config);
  }
  const dirs = new Set(steps.map((s) => s.step.dir));
  if (!dirs.has('100-calico-delete')) {
    return [];
  }
  const { cilium, calico, cluster, maintenance, run, verify } = config;
  const items: string[] = [
    `**Full outage.** ${cilium.kubeProxyReplacementEnabled ? 'It begins with the k3s rollout (before step 000): kube-proxy stops, and Services run on the rules it left, which follow no endpoint change. ' : ''}From step 100 until every Cilium agent is ready in step 200 no pod has a working network, and a pod started under Calico has none until step 250 restarts it (CoreDNS once Cilium's operator restarts it): DNS, ClusterIP Services and Ingress are down on ${all(cluster.nodes.length, 'node')}${cluster.nodes.length > 1 ? ' at once' : ''} (this is a cutover, not a node-by-node migration). Plan a window${cilium.kubeProxyReplacementEnabled ? ' that starts with the rollout' : ''}; keep a way to the API that does not need the pod network (${DOCS.applying}).`,
    `**Pods must be recreated.** Pods started under Calico keep their Calico addresses (from the Calico pool ${calico.ipPools.map((p) => `\`${p}\``).join(', ')}) and interfaces; Cilium does not manage them, and its operator restarts only CoreDNS: step 250 evicts every other one so it comes back on Cilium, and until then it has no working network (${DOCS.cilium}).`,
    `**Calico's custom resources go with its CRDs.** Deleting the CRDs destroys every Calico IP pool, IPAM block and Calico policy; the configured ones are kept first in namespace \`cilium-cutover-inventory\`, and \`npx cilium-cutover restore\` brings them back after Calico is applied again. Only Kubernetes NetworkPolicies stay in force (${DOCS.calico}).`,
  ];
  if (cilium.mtu !== undefined) {
    items.push(
      `**MTU ${cilium.mtu} applies to new pods only.** A pod keeps the MTU of its interface until it is recreated; changing \`cilium.MTU\` later restarts the agents but not the pods (${DOCS.cilium}).`,
    );
  }
  if (cilium.kubeProxyReplacementEnabled) {
    items.push(
      `**kube-proxy replacement.** Cilium serves every Service from step 200; k3s must run with \`disable-kube-proxy\` first, and step 210 removes the old kube-proxy rules. A server restarted without the drop-in brings kube-proxy back (${DOCS.cilium}).`,
    );
  }
  if (pausedHere(maintenance) === 0) {
    items.push(
      `**Applications keep running through the outage** and fail their requests; \`maintenance\` pauses them (${DOCS.maintenance}).`,
    );
  }
  if (!verify.enabled) {
    items.push('**No verification.** `verify.enabled` is false: nothing checks DNS, Services or Ingress after the cutover.');
  }
  if (run.skipNodes.length > 0) {
    items.push(
      `**Skipped nodes** ${run.skipNodes.map((n) => `\`${n}\``).join(', ')} get no cleanup Jobs: reboot or clean them by hand before they rejoin (${DOCS.calico}). Step 200 waits until Cilium's agent runs on every node, so a skipped node must be back by then; one gone for good is removed with \`kubectl delete node <name>\` (its Calico pods then go too).`,
    );
  }
  items.push(...engineRisks(config));
  items.push(failedJobRisk(config));
  return ['## Risks for this config', '', ...items.map((i) => `- ${i}`), ''];
}

function failedJobRisk(config: ResolvedConfig): string {
  const under = engineName(config.gitops.engine).replace(' or ', ' and ');
  return `**A failed Job stays failed** under ${under}; retrying means adding its step to \`run.retries\` (${DOCS.retry}).`;
}

/** An engine that applies the cutover from inside this cluster loses its own network at step 100. */
function engineRisks(config: ResolvedConfig): string[] {
  const { engine, argocd } = config.gitops;
  const items: string[] = [];
  if (argoInCluster(config)) {
    items.push(
      `**Argo CD inside this cluster** (\`gitops.argocd.destinationServer\` is ${argocd.destinationServer}): its controller reaches its repo server and Redis through Services and cluster DNS, which go down at step 100, so the sync stops before Cilium is installed. Apply from a management Argo CD or with \`apply\` (${DOCS.applying}).`,
    );
  }
  if (engine !== 'argocd') {
    const { host, port } = config.cluster.apiServer;
    items.push(
      `**Flux inside this cluster** stops at step 100 unless its controllers run with \`hostNetwork: true\`, reach the API at \`KUBERNETES_SERVICE_HOST=${host}\` and \`KUBERNETES_SERVICE_PORT=${port}\` (\`cluster.apiServer\`) instead of the \`kubernetes\` Service, and kustomize-controller fetches source-controller's artifacts at an address that needs neither DNS nor a Service (source-controller's \`--storage-adv-addr\`, \`localhost:<port>\` when both run in one host-network pod). A Flux outside the cluster needs none of this.`,
    );
  }
  return items;
}

function perNodeRisks(config: ResolvedConfig): string[] {
  if (config.phase === 'steady') {
    return [];
  }
  const { perNode, calico, finalCilium } = config;
  const items: string[] = [];
  if (config.phase === 'migrate') {
    items.push(
      `**Every pod restarts, up to once for each node it runs on.** Each node's drain evicts its pods, and one rescheduled onto a node not moved yet restarts again when that node moves (PodDisruptionBudgets hold; a budget that never allows an eviction stops the step after ${perNode.drainTimeout}). Applications with a single replica are down while they move.`,
      `**No policy enforcement on moved nodes** until the switch phase: Cilium runs with \`enable-policy: never\`, and Calico no longer enforces for pods on Cilium. **Policies on nodes not yet moved see moved pods as their node**: in tunnel mode Cilium masquerades what a pod sends outside its own node's range and not into its tunnel (cilium/cilium \`RemoteSNATDstAddrExclusionCIDRv4\`), so a moved pod reaches a pod on a Calico node from the node's address, and a NetworkPolicy there that admits it by pod or namespace selector drops it; admit the nodes' addresses with an \`ipBlock\` until the last node has moved${perNode.acknowledgeUnenforcedPolicies ? ' (acknowledged: perNode.acknowledgeUnenforcedPolicies)' : '; the preflight refuses while NetworkPolicies exist unless perNode.acknowledgeUnenforcedPolicies is set'}.`,
    );
    if (calico.backend === 'bird') {
      items.push(
        '**Calico with BGP (BIRD) is untested upstream** with this migration (acknowledged: perNode.acknowledgeCalicoBGP). Try it on a copy of the cluster; keep the per-node rollback below at hand.',
      );
    }
    items.push(
      `**Calico's custom resources go with its CRDs in step 600.** Deleting the CRDs destroys every Calico IP pool, IPAM block and Calico policy; the configured ones are kept first in namespace \`cilium-cutover-inventory\`, and \`npx cilium-cutover restore\` brings them back after Calico is applied again (${DOCS.calico}).`,
      "**Calico's address detection.** Cilium's `cilium_host` interface can be picked by Calico's default `first-found` detection when calico-node restarts; the preflight requires `IP_AUTODETECTION_METHOD` to be set otherwise.",
    );
  } else {
    items.push(
      `**Full outage** (acknowledged: \`perNode.acknowledgeSwitchOutage\`). When its node's agent restarts with ${finalCilium.routingMode} routing and \`ipam: ${finalCilium.ipamMode}\` in step 200, a pod on \`${perNode.podCIDR}\` loses its endpoint: the agent cannot re-allocate that address from the node's podCIDR and does not restore it (cilium/cilium \`daemon/cmd/endpoint_restore.go\`). Every pod is without network until step 250 re-creates it${config.run.deleteBrokenPods ? '' : '; a pod whose budget refuses the eviction of its broken pods holds step 250 until its timeout unless `run.deleteBrokenPods` is set'}. Plan a maintenance window, and apply from outside the cluster: an engine in it loses its network too.`,
    );
    if (finalCilium.kubeProxyReplacementEnabled) {
      items.push(
        `**Between the k3s rollout and step 200**, Services run on the rules kube-proxy left behind, which no longer follow endpoint changes: sync right after the rollout (${DOCS.cilium}).`,
      );
    }
  }
  items.push(failedJobRisk(config));
  return ['## Risks for this config', '', ...items.map((i) => `- ${i}`), ''];
}

/** The Markdown plan for the rendered steps. */
export function renderPlan(
  config: ResolvedConfig,
  steps: readonly RenderedStep[],
  warnings: readonly string[],
  origin: OutputOrigin,
): string {
  const { cluster } = config;
  const sections = [
    `# Migration plan: ${cluster.name}`,
    '',
    `Calico ${config.calico.version} → Cilium ${config.cilium.version.version} on k3s ${cluster.kubernetesVersion}, profile \`${cluster.profile}\`, ${count(cluster.nodes.length, 'node')}.`,
    `Generated by cilium-cutover from the cluster config: do not edit, change the config and run \`${synthCommandOf(origin)}\`.`,
    '',
    ...(warnings.length > 0 ? ['## Warnings', '', ...warnings.map((w) => `- ${w}`), ''] : []),
    ...beforeTheWindow(config, steps, origin),
    ...stepGraph(config, steps),
    '## Cluster',
    '',
    table(
      ['node', 'role', 'InternalIP'],
      cluster.nodes.map((n) => [`\`${n.name}\``, n.role, n.internalIP]),
    ),
    '',
    `Pod CIDR \`${cluster.podCIDR}\`, service CIDR \`${cluster.serviceCIDR}\`${cluster.network?.ipRange ? `, provider network \`${cluster.network.ipRange}\`` : ''}${cluster.network?.vSwitchSubnet ? `, vSwitch subnet \`${cluster.network.vSwitchSubnet}\`` : ''}.`,
    '',
    '## Cilium settings that matter',
    '',
    settings(config),
    '',
    '## Before step 000: k3s server settings',
    '',
    k3sFlags(config),
    '',
    ...networkSection(config),
    ...accessSection(config),
    ...perNodePhases(config),
    ...risks(config, steps),
    ...maintenanceSection(config, origin),
    '## Steps',
    '',
    ...stepsIntro(config),
    '',
    steps.map((s, i) => stepSection(config, i + 1, s)).join('\n\n'),
    '',
    ...applying(config, steps, origin),
    ...abortSection(config, steps, outDirOf(origin)),
    ...handOver(config),
    ...engineDeletes(config),
    ...graduation(config),
    ...retrying(config),
  ];
  return sections.join('\n');
}
