/**
 * Step 110-node-cleanup, and the node Jobs it shares with 210-kube-proxy-cleanup: one privileged
 * Job per node that runs a reviewed shell script on the host. No ServiceAccount token: these Jobs
 * do not talk to the API.
 */
import { Duration } from 'cdk8s';
import { calicoPoolsOverNodes, type ResolvedConfig } from '../lib/config/resolve.ts';
import { FILES_DIR, CutoverJob } from '../lib/constructs/cutover-job.ts';
import { JobFiles } from '../lib/constructs/job-files.ts';
import { enterHostScript, nodeScript, type NodeScript } from '../lib/shell/scripts.ts';
import { RETRY, type AbortGuide, type Step, type StepChart } from '../lib/step.ts';
import { buildNetworkCondition } from './move-node.ts';

export interface NodeJobsOptions {
  /** Readable prefix of Job names: `<prefix>-<node>`. */
  readonly prefix: string;
  readonly script: NodeScript;
  readonly env: Readonly<Record<string, string>>;
  readonly activeDeadline: Duration;
}

/** One Job per node (but those in run.skipNodes) running a node script on the host. */
export function buildNodeJobs(chart: StepChart, config: ResolvedConfig, options: NodeJobsOptions): void {
  const namespace = config.run.namespace;
  const files = new JobFiles(chart, 'Files', {
    name: options.script,
    namespace,
    component: options.script,
    files: { 'enter-host.sh': enterHostScript(), [`${options.script}.sh`]: nodeScript(options.script) },
  });
  // A node listed in run.skipNodes is down: a Job pinned to it would never finish.
  for (const node of config.cluster.nodes.filter((n) => !config.run.skipNodes.includes(n.name))) {
    new CutoverJob(chart, `Node-${node.name}`, {
      name: `${options.prefix}-${node.name}`,
      namespace,
      component: options.script,
      attempt: chart.attempt,
      image: config.images.busybox,
      command: ['sh', `${FILES_DIR}/enter-host.sh`, `${options.script}.sh`],
      files,
      nodeName: node.name,
      hostAccess: 'privileged',
      env: { ...options.env, NODE_NAME: node.name, DRY_RUN: String(config.cleanup.dryRun) },
      activeDeadline: options.activeDeadline,
    });
  }
}

export function buildNodeCleanup(chart: StepChart, config: ResolvedConfig): void {
  buildNodeJobs(chart, config, {
    prefix: 'cleanup-node',
    script: 'calico-cleanup',
    env: { FLUSH_CALICO_ROUTES: String(config.cleanup.birdRoutes), CALICO_VERSION: config.calico.version },
    activeDeadline: Duration.minutes(10),
  });
  if (config.strategy === 'per-node') {
    buildNetworkCondition(chart, config);
  }
}

/** PLAN.md notes for the Calico node cleanup, with the reboot alternative. */
export function nodeCleanupPlan(config: ResolvedConfig): string[] {
  return [
    `One privileged Job per node runs \`calico-cleanup.sh\` on the host${config.cleanup.dryRun ? ' **in dry-run mode: it only prints what it would remove** (`cleanup.dryRun`)' : ''}, in this order:`,
    '',
    "- Calico's CNI config (`/etc/cni/net.d/10-calico.conflist`, its `.cilium_bak` copy, `calico-kubeconfig`) and plugins (`/opt/cni/bin/calico`, `calico-ipam`; the generic plugins stay);",
    "- Felix's chains (`cali-*` and the prefixes of older releases), the jumps into them and its rules in built-in chains (its `cali:` hash comment), in iptables-legacy and iptables-nft, IPv4 and IPv6; then the `cali4*`/`cali6*` ipsets; the nftables dataplane's tables `ip calico`, `ip6 calico` and `arp calico-arp` (a backend in use whose tools neither the host nor k3s has fails the Job; it is never reported clean);",
    config.cleanup.birdRoutes
      ? "- Calico's routes, IPv4 and IPv6: BIRD's (`proto bird`) and Felix's (protocol 80), blackholes included: they would drop traffic to new pods when Calico's pool overlaps the pod CIDR;"
      : "- not Calico's routes (`cleanup.birdRoutes: false`; no Calico pool overlaps the pod CIDR);",
    ...calicoPoolsOverNodes(config).map(
      (line) => `- **${line}: the route cleanup must stay on** (\`cleanup.birdRoutes\`), or Calico's routes stay in the node network;`,
    ),
    '- `vxlan.calico`, `vxlan-v6.calico`, `wireguard.cali`, `wg-v6.cali` deleted; `tunl0` flushed and set down (it disappears at the next reboot); `/run/calico/cgroup` unmounted, then `/run/calico` and `/var/lib/calico` removed.',
    '',
    'It never touches `/sys/fs/bpf`, `/run/xtables.lock` or anything of another owner, and prints REMOVED, ABSENT, KEPT, WARN or FAILED for each item.',
    '',
    '**Rolling reboot instead, or as well:** `host/rolling-reboot.sh` drains, reboots and uncordons one node at a time (servers first, for etcd quorum). A reboot clears everything Calico and kube-proxy left, including what no script can remove (the `tunl0` device), and is what the Cilium and k3s documentation prescribe. Prefer it when you can drain every node in turn; prefer the scripted cleanup when workloads cannot be moved, when the pod network must come back before anything is rebooted, or to keep the migration inside one GitOps sync. Run the reboot after step `200-cilium` is healthy.',
  ];
}

export function nodeCleanupAbort(config: ResolvedConfig): AbortGuide {
  return {
    after: "Calico's leftovers are gone from every node (CNI files, rules, ipsets, routes, state directories).",
    failure: `a node's Job is Failed (a FAILED line: a refused iptables batch, a route flush) or stays Pending (the node is down); \`kubectl logs -n ${config.run.namespace} -l app.kubernetes.io/component=calico-cleanup --prefix\`.`,
    action: `${RETRY}, or reboot that node instead (\`host/rolling-reboot.sh --from <node>\`) and list it in \`run.skipNodes\`. Nothing here needs restoring: it only removes leftovers.`,
  };
}

export const nodeCleanupStep: Step = {
  definition: {
    kind: 'node-cleanup',
    dir: '110-node-cleanup',
    wave: 110,
    title: 'Node cleanup',
    impact: 'irreversible',
    summary: "Removes Calico's leftovers on every node.",
    timeout: '15m',
  },
  build: buildNodeCleanup,
  plan: nodeCleanupPlan,
  abort: nodeCleanupAbort,
};
