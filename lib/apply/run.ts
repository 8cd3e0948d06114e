/**
 * The `apply` run: each step in order, its objects server-side applied, then awaited until done.
 * Independent of how the cluster is reached (see cluster.ts), so ordering, resume and fail-fast
 * are tested against a fake as well as a real API server.
 */
import type { DistStep, ManifestObject } from './dist.ts';
import { dryRunPlacement } from './dry-run.ts';
import type { ClusterIdentity } from './identity.ts';
import { AWAITED_KINDS, type LiveObject, readiness } from './readiness.ts';
import { count } from '../words.ts';

/** What `apply` needs from a cluster. */
export interface Cluster {
  /**
   * Server-side apply with the tool's field manager; returns the object as the server has it.
   * `force` takes over fields another manager owns instead of failing with a conflict.
   */
  apply(obj: ManifestObject, dryRun: boolean, force?: boolean): Promise<LiveObject>;
  /** The live object, or undefined when it does not exist. */
  read(obj: ManifestObject): Promise<LiveObject | undefined>;
  /** Deletes (dependents in the background); resolves once the delete is accepted. */
  remove(obj: ManifestObject, dryRun?: boolean): Promise<void>;
  /** The objects of a kind, in every namespace, that match a label selector; undefined when the API does not serve the kind. */
  list(apiVersion: string, kind: string, labelSelector: string): Promise<ManifestObject[] | undefined>;
  /** The cluster's Nodes: name and InternalIP. */
  identity(): Promise<ClusterIdentity>;
  /** The last lines of the newest pod of a Job, or one line saying why there are none. */
  jobLogs(job: ManifestObject, lines: number): Promise<string[]>;
}

/** Where progress goes: whole lines always; a transient status line only on a terminal. */
export interface ApplyOutput {
  line(text: string): void;
  status?(text: string): void;
}

export interface ApplyOptions {
  readonly steps: readonly DistStep[];
  readonly cluster: Cluster;
  readonly output: ApplyOutput;
  readonly dryRun?: boolean;
  /** Run Jobs again that completed in an earlier run. */
  readonly rerun?: boolean;
  /** Take over fields that another field manager (a GitOps engine) owns. */
  readonly forceConflicts?: boolean;
  /** Overrides every step's own timeout. */
  readonly timeoutMs?: number;
  /** Ctrl-C: stops between API calls. */
  readonly signal?: AbortSignal;
  readonly pollMs?: number;
  /** How often a waiting step prints a line when there is no terminal (CI logs). */
  readonly plainEveryMs?: number;
  readonly now?: () => number;
}

/** The run stopped at a step: the step and why. */
export class StepFailed extends Error {
  public constructor(
    public readonly step: string,
    detail: string,
  ) {
    super(`step ${step} failed: ${detail}`);
    this.name = 'StepFailed';
  }
}

/** Ctrl-C: the run stopped between two API calls. */
export class Interrupted extends Error {
  public constructor(public readonly step: string) {
    super(
      `interrupted during step ${step}, between two API calls; run apply again to resume (applied objects stay, completed Jobs are not run again)`,
    );
    this.name = 'Interrupted';
  }
}

/** `Kind/namespace/name` as the progress and errors show it. */
export function refOf(obj: ManifestObject): string {
  const { name, namespace } = obj.metadata;
  return `${obj.kind.toLowerCase()}/${namespace ? `${namespace}/` : ''}${name}`;
}

function formatElapsed(ms: number): string {
  const s = Math.floor(ms / 1000);
  return s < 60 ? `${s}s` : `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
}

const LOG_LINES = 20;
/** How far back a finished Job's log is read for WARN lines (a preflight prints a few per node). */
const WARN_LINES = 1000;

/** Applies and awaits the steps; throws StepFailed or Interrupted. */
export async function runApply(options: ApplyOptions): Promise<void> {
  const { cluster, output, signal } = options;
  const pollMs = options.pollMs ?? 2000;
  const now = options.now ?? Date.now;
  const total = options.steps.length;
  const placeDryRun = dryRunPlacement(
    options.steps,
    async (name) => (await cluster.read({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } })) !== undefined,
  );

  for (const [index, step] of options.steps.entries()) {
    const started = now();
    const checkpoint = (): void => {
      if (signal?.aborted) {
        throw new Interrupted(step.dir);
      }
    };
    const say = (text: string): void => output.line(`[${step.dir}] ${text}`);
    const fail = (detail: string): never => {
      throw new StepFailed(step.dir, detail);
    };
    output.line(
      `step ${index + 1}/${total}: ${step.dir} (${count(step.objects.length, 'object')}${options.dryRun ? ', server-side dry-run' : ''})`,
    );

    const awaited: ManifestObject[] = [];
    for (const obj of step.objects) {
      checkpoint();
      const ref = refOf(obj);
      if (obj.kind === 'Job' && !options.dryRun) {
        const live = await call(() => cluster.read(obj), `reading ${ref}`, fail);
        const state = live && readiness(live).state;
        if (state === 'done' && !options.rerun) {
          say(`${ref} completed in an earlier run; not run again (--rerun runs it again)`);
          continue;
        }
        if (state === 'done' || state === 'failed') {
          // A Job's pod template cannot be changed, and a finished Job never starts again: run it
          // again means delete and create.
          say(`${ref} ${state === 'done' ? 'completed' : 'failed'} in an earlier run; deleting it to run it again`);
          checkpoint();
          await call(() => cluster.remove(obj), `deleting ${ref}`, fail);
          await waitGone(obj, cluster, pollMs, signal, () => checkpoint(), fail);
        }
      }
      checkpoint();
      const target = options.dryRun ? await placeDryRun(obj) : { obj };
      await call(() => cluster.apply(target.obj, options.dryRun ?? false, options.forceConflicts), `applying ${ref}`, fail);
      say(`${ref} ${options.dryRun ? `accepted (dry-run${target.note ? `; ${target.note}` : ''})` : 'applied'}`);
      if (AWAITED_KINDS.has(obj.kind)) {
        awaited.push(obj);
      }
    }
    if (!options.dryRun) {
      await waitForStep(step, awaited, options, started, checkpoint, fail);
    }
    say(`done in ${formatElapsed(now() - started)}`);
  }
}

/** Polls the awaited objects until all are done; fails fast on a failed one or at the timeout. */
async function waitForStep(
  step: DistStep,
  awaited: readonly ManifestObject[],
  options: ApplyOptions,
  started: number,
  checkpoint: () => void,
  fail: (detail: string) => never,
): Promise<void> {
  const { cluster, output, signal } = options;
  const pollMs = options.pollMs ?? 2000;
  const plainEveryMs = options.plainEveryMs ?? 30_000;
  const now = options.now ?? Date.now;
  const say = (text: string): void => output.line(`[${step.dir}] ${text}`);

  const timeoutMs = options.timeoutMs ?? step.timeoutMs;
  const last = new Map<string, string>();
  let lastPlain = now();
  let pending = awaited;
  while (pending.length > 0) {
    const still: ManifestObject[] = [];
    for (const obj of pending) {
      checkpoint();
      const ref = refOf(obj);
      const live = await call(() => cluster.read(obj), `reading ${ref}`, fail);
      if (!live) {
        fail(`${ref} disappeared while waiting for it (deleted by someone else?)`);
      }
      const r = readiness(live!);
      const shown = `${r.state === 'waiting' ? 'waiting' : r.state}: ${r.detail}`;
      if (last.get(ref) !== shown) {
        last.set(ref, shown);
        say(`${ref} ${shown} (${formatElapsed(now() - started)})`);
      }
      if (r.state === 'failed') {
        if (obj.kind === 'Job') {
          const logs = await cluster.jobLogs(obj, LOG_LINES).catch((err: Error) => [`(no logs: ${err.message})`]);
          output.line(`--- last lines of ${ref} ---`);
          logs.forEach((l) => output.line(l));
          output.line('---');
        }
        fail(`${ref} ${r.detail}`);
      }
      if (r.state === 'done' && obj.kind === 'Job') {
        // A check that passed may still have warned: shown here, or nobody reads it.
        const logs = await cluster.jobLogs(obj, WARN_LINES).catch(() => []);
        logs.filter((l) => l.startsWith('WARN ')).forEach((l) => say(l));
      }
      if (r.state === 'waiting') {
        still.push(obj);
      }
    }
    pending = still;
    if (pending.length === 0) {
      break;
    }
    const elapsed = now() - started;
    if (elapsed > timeoutMs) {
      fail(`timed out after ${formatElapsed(timeoutMs)} waiting for ${pending.map(refOf).join(', ')} (--timeout sets a longer wait)`);
    }
    const waitingFor = `[${step.dir}] waiting for ${pending.length} object(s): ${pending.map((o) => o.metadata.name).join(', ')} (${formatElapsed(elapsed)})`;
    if (output.status) {
      output.status(waitingFor);
    } else if (now() - lastPlain >= plainEveryMs) {
      lastPlain = now();
      output.line(waitingFor);
    }
    await sleep(pollMs, signal);
  }
}

export async function call<T>(fn: () => Promise<T>, what: string, fail: (detail: string) => never): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    const message = (err as Error).message;
    const hint = message.startsWith('HTTP 409: Apply failed')
      ? ' (another field manager, usually a GitOps engine, owns these fields now: let it apply the step, or pass --force-conflicts to take them back)'
      : '';
    return fail(`${what}: ${message}${hint}`);
  }
}

async function waitGone(
  obj: ManifestObject,
  cluster: Cluster,
  pollMs: number,
  signal: AbortSignal | undefined,
  checkpoint: () => void,
  fail: (detail: string) => never,
): Promise<void> {
  for (let attempt = 0; attempt < 60; attempt++) {
    checkpoint();
    if ((await call(() => cluster.read(obj), `reading ${refOf(obj)}`, fail)) === undefined) {
      return;
    }
    await sleep(pollMs, signal);
  }
  fail(`${refOf(obj)} was not deleted within ${60} polls; delete it by hand and run again`);
}

/** Sleeps, waking early on abort (the caller's next checkpoint then stops the run). */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) {
      resolve();
      return;
    }
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
