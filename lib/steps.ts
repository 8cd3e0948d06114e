/**
 * The ordered migration steps: directory, sync wave, and what each does. Adding a step is one
 * entry here plus its chart builder in charts/index.ts.
 */

/** The annotation on a step's kustomization.yaml that bounds how long `apply` waits for the step. */
export const STEP_TIMEOUT_ANNOTATION = 'cilium-cutover.io/timeout';

/** One ordered step of the migration. */
export interface StepDefinition {
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
}

/** Every step in order. A step without objects for a config is left out of the output. */
export const STEPS: readonly StepDefinition[] = [
  {
    dir: '000-preflight',
    wave: 0,
    title: 'Preflight',
    summary: 'Checks that refuse to go on: nodes Ready, k3s server flags, the installed Calico version.',
    timeout: '10m',
  },
  {
    dir: '050-pause',
    wave: 50,
    title: 'Pause applications',
    summary: 'Maintenance window: pauses the listed applications.',
    timeout: '10m',
  },
  {
    dir: '100-calico-delete',
    wave: 100,
    title: 'Delete Calico',
    summary: 'Deletes every object the Calico manifest created, by name.',
    timeout: '15m',
  },
  {
    dir: '110-node-cleanup',
    wave: 110,
    title: 'Node cleanup',
    summary: "Removes Calico's leftovers on every node.",
    timeout: '15m',
  },
  {
    dir: '200-cilium',
    wave: 200,
    title: 'Install Cilium',
    summary: 'Installs Cilium with native routing and kube-proxy replacement.',
    timeout: '20m',
    steady: true,
  },
  {
    dir: '210-kube-proxy-cleanup',
    wave: 210,
    title: 'kube-proxy cleanup',
    summary: "Removes the embedded kube-proxy's iptables rules on every node.",
    timeout: '15m',
  },
  {
    dir: '300-verify-workloads',
    wave: 300,
    title: 'Verification workloads',
    summary: 'Test namespace, echo backend, Service and Ingress.',
    timeout: '10m',
  },
  {
    dir: '310-verify-checks',
    wave: 310,
    title: 'Verification checks',
    summary: 'Jobs that prove DNS, Services, pod-to-pod, Ingress and external traffic work.',
    timeout: '15m',
  },
  {
    dir: '800-resume',
    wave: 800,
    title: 'Resume applications',
    summary: 'Resumes the applications paused in 050-pause.',
    timeout: '10m',
  },
  {
    dir: '900-complete',
    wave: 900,
    title: 'Complete',
    summary: 'Records the finished migration in a status ConfigMap; the gate after verification.',
    timeout: '5m',
  },
];

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
