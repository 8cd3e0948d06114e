/**
 * What `apply` checks before it sends anything. The output must be for this cluster (identity.ts).
 * And a run that starts after the preflight needs every Job of the output's preflight step
 * completed on this cluster: the Jobs are named after what they check (the cluster's nodes, the
 * Calico version, the API address), so a completed one is this output's preflight having passed
 * here, as Argo CD and Flux see it too.
 */
import { isPruneProtected, LABEL_MANAGED_BY, TOOL } from '../labels.ts';
import { readiness } from './readiness.ts';
import { identityProblems, outputIdentity } from './identity.ts';
import { call, refOf, StepFailed, type ApplyOptions, type Cluster } from './run.ts';
import type { DistStep } from './dist.ts';

/** The run did not start: the output is not for this cluster. */
export class NotThisCluster extends Error {
  public constructor(problems: readonly string[]) {
    super(
      `refused: this output is not for this cluster: ${problems.join('; ')}; synthesize from this cluster's config (synth --config FILE), or check --kubeconfig and --context`,
    );
    this.name = 'NotThisCluster';
  }
}

/** Stops the run when the output's nodes are not the cluster's. */
export async function checkIdentity(preflight: DistStep | undefined, cluster: Cluster): Promise<void> {
  const output = outputIdentity(preflight);
  if (!output) {
    return;
  }
  const nodes = await call(
    () => cluster.identity(),
    'reading the Nodes',
    (detail) => {
      throw new StepFailed('identity check', detail);
    },
  );
  const problems = identityProblems(output, nodes);
  if (problems.length > 0) {
    throw new NotThisCluster(problems);
  }
}

/** What the gate looks at: the run's steps, the output's preflight step, and whether to hold. */
export interface GateOptions extends Pick<ApplyOptions, 'steps' | 'cluster' | 'output' | 'dryRun'> {
  /** The output's preflight step; undefined when the output has none (phase steady). */
  readonly preflight: DistStep | undefined;
  /** Go on although the preflight has not passed (said loudly). */
  readonly withoutPreflight?: boolean;
}

/** The run did not start: the step would change a cluster on which this output's preflight has not passed. */
export class PreflightNotPassed extends Error {
  public constructor(
    public readonly step: string,
    preflight: string,
    missing: readonly string[],
  ) {
    super(
      `refused to start at ${step}: this output's preflight has not passed on this cluster (${missing.join(', ')}); ` +
        `apply from ${preflight} first (it changes nothing in the cluster but its own namespace), or pass --without-preflight if you have checked the cluster yourself`,
    );
    this.name = 'PreflightNotPassed';
  }
}

/**
 * A run that starts after the preflight: every Job of the output's preflight step must have
 * completed on this cluster. A dry-run changes nothing and is not held.
 */
export async function checkPreflight(options: GateOptions): Promise<void> {
  const { preflight, steps, cluster, output } = options;
  const first = steps[0];
  if (!preflight || !first || options.dryRun || steps.some((s) => s.dir === preflight.dir)) {
    return;
  }
  const missing: string[] = [];
  for (const job of preflight.objects.filter((o) => o.kind === 'Job')) {
    const live = await call(
      () => cluster.read(job),
      `reading ${refOf(job)}`,
      (detail) => {
        throw new StepFailed(first.dir, detail);
      },
    );
    const state = live ? readiness(live).state : undefined;
    if (state !== 'done') {
      missing.push(`${refOf(job)} ${state === undefined ? 'not found' : state === 'failed' ? 'failed' : 'not finished'}`);
    }
  }
  if (missing.length === 0) {
    output.line(`${preflight.dir} passed on this cluster in an earlier run: going on from ${first.dir}`);
    return;
  }
  if (!options.withoutPreflight) {
    throw new PreflightNotPassed(first.dir, preflight.dir, missing);
  }
  output.line(`WARNING: --without-preflight: going on from ${first.dir} although ${missing.join(', ')}`);
}

/** The run did not start: a namespace the output creates exists already and is someone else's. */
export class ForeignNamespace extends Error {
  public constructor(names: readonly string[]) {
    super(
      `refused: ${names.map((n) => `namespace ${n}`).join(' and ')} ${names.length > 1 ? 'exist' : 'exists'} already and ${names.length > 1 ? 'were' : 'was'} not created by cilium-cutover ` +
        `(no ${LABEL_MANAGED_BY}: ${TOOL} label); the tool labels its namespaces Pod Security privileged and deletes them with everything in them at graduation: ` +
        'set run.namespace and verify.namespace to namespaces that do not exist, synth and apply again',
    );
    this.name = 'ForeignNamespace';
  }
}

/**
 * Stops the run, before anything is sent (dry-run included), when a namespace the migration's
 * steps create exists without the tool's label: someone else's, which the tool would adopt and
 * later delete. Cilium's own namespace (protected, kept for good) may exist already.
 */
export async function checkNamespaces(steps: readonly DistStep[], cluster: Cluster): Promise<void> {
  const foreign: string[] = [];
  for (const ns of steps.flatMap((s) => s.objects).filter((o) => o.kind === 'Namespace')) {
    const live = isPruneProtected(ns.metadata.annotations)
      ? undefined
      : await call(
          () => cluster.read(ns),
          `reading ${refOf(ns)}`,
          (detail) => {
            throw new StepFailed(steps[0]!.dir, detail);
          },
        );
    if (live && live.metadata?.labels?.[LABEL_MANAGED_BY] !== TOOL) {
      foreign.push(ns.metadata.name);
    }
  }
  if (foreign.length > 0) {
    throw new ForeignNamespace(foreign);
  }
}
