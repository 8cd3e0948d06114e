/**
 * Steps 110-node-cleanup and 210-kube-proxy-cleanup: one privileged Job per node that runs a
 * reviewed shell script on the host. No ServiceAccount token: these Jobs do not talk to the API.
 */
import { Duration } from 'cdk8s';
import type { ResolvedConfig } from '../lib/config/resolve.ts';
import { FILES_DIR, HostNetworkJob } from '../lib/host-network-job.ts';
import { JobFiles } from '../lib/job-files.ts';
import { enterHostScript, nodeScript, type NodeScript } from '../lib/node-scripts.ts';
import type { StepChart } from '../lib/step-chart.ts';
import { UTILITY_IMAGES } from '../lib/versions/images.ts';

interface NodeJobsOptions {
  /** Readable prefix of Job names: `<prefix>-<node>`. */
  readonly prefix: string;
  readonly script: NodeScript;
  readonly env: Readonly<Record<string, string>>;
  readonly activeDeadline: Duration;
}

function buildNodeJobs(chart: StepChart, config: ResolvedConfig, options: NodeJobsOptions): void {
  const namespace = config.run.namespace;
  const files = new JobFiles(chart, 'Files', {
    name: options.script,
    namespace,
    component: options.script,
    files: { 'enter-host.sh': enterHostScript(), [`${options.script}.sh`]: nodeScript(options.script) },
  });
  for (const node of config.cluster.nodes) {
    new HostNetworkJob(chart, `Node-${node.name}`, {
      name: `${options.prefix}-${node.name}`,
      namespace,
      component: options.script,
      attempt: config.run.attempt,
      image: UTILITY_IMAGES.busybox,
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
    env: { FLUSH_BIRD_ROUTES: String(config.cleanup.birdRoutes) },
    activeDeadline: Duration.minutes(10),
  });
}

export function buildKubeProxyCleanup(chart: StepChart, config: ResolvedConfig): void {
  if (!config.cilium.kubeProxyReplacementEnabled || !config.cleanup.kubeProxy) {
    return;
  }
  buildNodeJobs(chart, config, {
    prefix: 'kube-proxy-cleanup',
    script: 'kube-proxy-cleanup',
    env: { KUBE_ROUTER_POLICY: String(config.cleanup.kubeRouterPolicy), WAIT_FOR_CILIUM_AGENT: 'true' },
    // Up to 5 minutes waiting for the agent, then seconds of work.
    activeDeadline: Duration.minutes(15),
  });
}
