/**
 * The ordered migration steps: directory, sync wave, and what each does. Adding a step is one
 * entry here plus its chart builder in charts/index.ts.
 */
import { hashedName, shortHash } from './content-hash.ts';

/** The annotation on a step's kustomization.yaml that bounds how long `apply` waits for the step. */
export const STEP_TIMEOUT_ANNOTATION = 'cilium-cutover.io/timeout';

/** What a step does: picks its chart builder in charts/index.ts. */
export type StepKind =
  | 'preflight'
  | 'pause'
  | 'calico-delete'
  | 'node-cleanup'
  | 'cilium'
  | 'kube-proxy-cleanup'
  | 'verify-workloads'
  | 'verify-checks'
  | 'resume'
  | 'complete'
  | 'move-node'
  | 'readdress-pods';

/** One ordered step of the migration. */
export interface StepDefinition {
  readonly kind: StepKind;
  /** Directory under `manifests/`, also the Flux Kustomization suffix: `<NNN>-<name>`. */
  readonly dir: string;
  /** Argo CD sync wave; equals the directory's number. */
  readonly wave: number;
  readonly title: string;
  /** One sentence for PLAN.md and the README. */
  readonly summary: string;
  /** How long Flux waits for the step's objects to become ready (Go duration). */
  readonly timeout: string;
  /**
   * Kept after the migration (`phase: steady`).
   * @default false
   */
  readonly steady?: boolean;
  /**
   * The node a `move-node` step moves.
   * @default - none: the step is not about one node
   */
  readonly node?: string;
}

/** Every step in order. A step without objects for a config is left out of the output. */
export const STEPS: readonly StepDefinition[] = [
  {
    kind: 'preflight',
    dir: '000-preflight',
    wave: 0,
    title: 'Preflight',
    summary: 'Checks that refuse to go on: nodes Ready, k3s server flags, the installed Calico version.',
    timeout: '10m',
  },
  {
    kind: 'pause',
    dir: '050-pause',
    wave: 50,
    title: 'Pause applications',
    summary: 'Maintenance window: pauses the listed applications.',
    timeout: '10m',
  },
  {
    kind: 'calico-delete',
    dir: '100-calico-delete',
    wave: 100,
    title: 'Delete Calico',
    summary: 'Deletes every object the Calico manifest created, by name.',
    timeout: '15m',
  },
  {
    kind: 'node-cleanup',
    dir: '110-node-cleanup',
    wave: 110,
    title: 'Node cleanup',
    summary: "Removes Calico's leftovers on every node.",
    timeout: '15m',
  },
  {
    kind: 'cilium',
    dir: '200-cilium',
    wave: 200,
    title: 'Install Cilium',
    summary: 'Installs Cilium with native routing and kube-proxy replacement.',
    timeout: '20m',
    steady: true,
  },
  {
    kind: 'kube-proxy-cleanup',
    dir: '210-kube-proxy-cleanup',
    wave: 210,
    title: 'kube-proxy cleanup',
    summary: "Removes the embedded kube-proxy's iptables rules on every node.",
    timeout: '15m',
  },
  {
    kind: 'verify-workloads',
    dir: '300-verify-workloads',
    wave: 300,
    title: 'Verification workloads',
    summary: 'Test namespace, echo backend, Service and Ingress.',
    timeout: '10m',
  },
  {
    kind: 'verify-checks',
    dir: '310-verify-checks',
    wave: 310,
    title: 'Verification checks',
    summary: 'Jobs that prove DNS, Services, pod-to-pod, Ingress and external traffic work.',
    timeout: '15m',
  },
  {
    kind: 'resume',
    dir: '800-resume',
    wave: 800,
    title: 'Resume applications',
    summary: 'Resumes the applications paused in 050-pause.',
    timeout: '10m',
  },
  {
    kind: 'complete',
    dir: '900-complete',
    wave: 900,
    title: 'Complete',
    summary: 'Records the finished migration in a status ConfigMap; the gate after verification.',
    timeout: '5m',
  },
];

/** The first sync wave of strategy per-node's node steps; one wave per node after it. */
export const FIRST_NODE_WAVE = 400;
/** Longest `<NNN>-node-<name>` directory: it ends up in Flux Kustomization names (a label value). */
const MAX_NODE_DIR = 32;

function step(kind: StepKind): StepDefinition {
  return STEPS.find((s) => s.kind === kind)!;
}

/** A step moved to another wave: the directory number follows. */
function atWave(definition: StepDefinition, wave: number): StepDefinition {
  const name = definition.dir.slice(definition.dir.indexOf('-') + 1);
  return { ...definition, wave, dir: `${String(wave).padStart(3, '0')}-${name}` };
}

/** What strategy and phase decide about the step list. */
export interface StepPlanInput {
  readonly strategy: 'cutover' | 'per-node';
  readonly phase: 'migrate' | 'switch' | 'steady';
  /** strategy per-node: the nodes in the order they move. */
  readonly nodes: readonly string[];
  /** Go duration a node step may take (Flux timeout and `apply`). */
  readonly nodeTimeout: string;
}

/** The directory of a node's step: `<wave>-node-<name>`, cut with a hash when the name is long. */
export function nodeStepDir(wave: number, node: string): string {
  const full = `${wave}-node-${node}`;
  if (full.length <= MAX_NODE_DIR) {
    return full;
  }
  return hashedName(full, shortHash(node).slice(0, 6), MAX_NODE_DIR);
}

/**
 * The steps of a config, in order. `cutover`: STEPS. `per-node`, phase migrate: Cilium beside
 * Calico (200), one step per node (400 on), then Calico's removal (600/610) and verification
 * (700/710). Phase switch: Cilium with its final settings (200), kube-proxy cleanup (210), pods
 * moved off the migration range (250), verification (700/710).
 */
export function stepsFor(input: StepPlanInput): StepDefinition[] {
  if (input.strategy === 'cutover' || input.phase === 'steady') {
    return [...STEPS];
  }
  const cilium: StepDefinition =
    input.phase === 'switch'
      ? { ...step('cilium'), summary: 'Moves Cilium from its migration settings to the final ones (a rolling restart of the agents).' }
      : { ...step('cilium'), summary: 'Installs Cilium beside Calico: VXLAN on its own port, its own pod range, no node switched yet.' };
  const start = [step('preflight'), step('pause'), cilium];
  const end = [atWave(step('verify-workloads'), 700), atWave(step('verify-checks'), 710), step('resume'), step('complete')];
  if (input.phase === 'switch') {
    const readdress: StepDefinition = {
      kind: 'readdress-pods',
      dir: '250-readdress-pods',
      wave: 250,
      title: 'Re-address pods',
      summary: "Evicts every pod that still has an address from the migration range, so it comes back on its node's podCIDR.",
      timeout: '30m',
    };
    return [...start, step('kube-proxy-cleanup'), readdress, ...end];
  }
  const nodes = input.nodes.map((node, i): StepDefinition => {
    const wave = FIRST_NODE_WAVE + i;
    return {
      kind: 'move-node',
      dir: nodeStepDir(wave, node),
      wave,
      title: `Move ${node}`,
      summary: `Drains ${node}, switches it to Cilium's CNI and waits until its pods run on Cilium.`,
      timeout: input.nodeTimeout,
      node,
    };
  });
  return [...start, ...nodes, atWave(step('calico-delete'), 600), atWave(step('node-cleanup'), 610), ...end];
}

/** Labels and annotations every object of a step carries. */
export const LABEL_STEP = 'cilium-cutover.io/step';
export const LABEL_MANAGED_BY = 'app.kubernetes.io/managed-by';
export const LABEL_PART_OF = 'app.kubernetes.io/part-of';
export const LABEL_COMPONENT = 'app.kubernetes.io/component';
export const ANNOTATION_SYNC_WAVE = 'argocd.argoproj.io/sync-wave';
/** In `phase: steady`, on every object: neither engine ever prunes it. */
export const STEADY_ANNOTATIONS = {
  'argocd.argoproj.io/sync-options': 'Prune=false',
  'kustomize.toolkit.fluxcd.io/prune': 'disabled',
} as const;
/** The tool's name: label value, field manager and ConfigMap prefix. */
export const TOOL = 'cilium-cutover';
