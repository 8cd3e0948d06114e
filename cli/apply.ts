/** `apply`: applies the synthesized steps to a cluster in order, waiting for each. */
import { Option, type Command } from 'commander';
import { join } from 'node:path';
import { outputMarks, readDist, selectSteps } from '../lib/apply/dist.ts';
import { checkIdentity, checkNamespaces, checkPreflight } from '../lib/apply/gate.ts';
import { checkRecord, graduate } from '../lib/apply/graduate.ts';
import { releaseOwnership } from '../lib/apply/release.ts';
import { runApply } from '../lib/apply/run.ts';
import { parseDuration } from '../lib/duration.ts';
import { InputError } from '../lib/input-error.ts';
import { preflightStep } from '../charts/preflight.ts';
import type { CliIo } from './io.ts';

export function applyCommand(cli: Command, io: CliIo): void {
  cli
    .command('apply')
    .description(
      'apply the synthesized steps to a cluster in order, waiting for each (Jobs complete, DaemonSets and Deployments ready); ' +
        'for a cluster whose own Argo CD or Flux cannot run',
    )
    .option('-d, --dir <dir>', 'the synthesized output to apply', 'dist')
    .option('--kubeconfig <file>', 'kubeconfig (default: $KUBECONFIG, then ~/.kube/config)')
    .option('--context <name>', 'kubeconfig context (default: the current one)')
    .option('--from <step>', 'first step to apply: directory (100-calico-delete) or number (100)')
    .option('--to <step>', 'last step to apply')
    .addOption(new Option('--dry-run <mode>', 'validate every object on the API server without changing anything').choices(['server']))
    .option('--rerun', 'run Jobs again that completed in an earlier run')
    .option('--force-conflicts', 'take over fields that another field manager (Argo CD, Flux) owns instead of stopping')
    .option('--timeout <duration>', "wait at most this long for each step (e.g. 30m); default: the step's own timeout")
    .option('--release', "after Argo CD or Flux has synced the same files server-side: give up this tool's field ownership to them")
    .option(
      '--graduate',
      'with the output of phase steady, after the migration completed: apply it, then delete every object of the migration but Cilium, the status record, the node check and the Calico inventory',
    )
    .option('--built-in-example', 'apply output synthesized from the built-in example (a test cluster built to match it)')
    .option(
      '--without-preflight',
      "start after the preflight although this output's preflight has not passed on the cluster (for experts who checked it themselves)",
    )
    .action(
      async (opts: {
        dir: string;
        kubeconfig?: string;
        context?: string;
        from?: string;
        to?: string;
        dryRun?: string;
        rerun?: boolean;
        timeout?: string;
        release?: boolean;
        forceConflicts?: boolean;
        withoutPreflight?: boolean;
        builtInExample?: boolean;
        graduate?: boolean;
      }) => {
        if (opts.release && opts.dryRun) {
          throw new InputError('--release', 'cannot be combined with --dry-run; run it alone once the GitOps engine has synced');
        }
        const timeoutMs = opts.timeout === undefined ? undefined : parseDuration(opts.timeout);
        if (timeoutMs === undefined && opts.timeout !== undefined) {
          throw new InputError('--timeout', `"${opts.timeout}" is not a duration; write it like 30m or 1h`);
        }
        const dir = opts.dir.startsWith('/') ? opts.dir : join(io.cwd, opts.dir);
        const dist = readDist(dir);
        const marks = outputMarks(dir);
        if (marks.builtInExample && !opts.builtInExample) {
          throw new InputError(
            '--dir',
            `${opts.dir} was synthesized from the built-in example, not from your cluster's config; write cilium-cutover.yaml and synth again, or pass --built-in-example to apply it on purpose`,
          );
        }
        if (opts.graduate) {
          checkGraduateOptions(opts, marks.phase);
        }
        const steps = selectSteps(dist, opts.from, opts.to);
        const preflight = dist.find((s) => s.dir === preflightStep.definition.dir);
        // The Kubernetes client loads only here: synth and validate stay offline and fast.
        const { FIELD_MANAGER, kubeCluster, loadKubeConfig } = await import('../lib/apply/cluster.ts');
        const cluster = io.cluster ?? kubeCluster(loadKubeConfig(opts.kubeconfig, opts.context));
        if (opts.release) {
          const kept = await releaseOwnership(steps, cluster, { line: io.stdout }, FIELD_MANAGER);
          io.stdout(kept.length === 0 ? 'released every object' : `released; ${kept.length} object(s) kept, listed above`);
          return;
        }
        if (opts.graduate) {
          // The record first: nothing is applied on a cluster where this migration has not completed.
          await checkRecord(steps, cluster);
        }
        await checkIdentity(preflight, cluster);
        await checkNamespaces(steps, cluster);
        await checkPreflight({
          steps,
          cluster,
          output: { line: io.stdout },
          dryRun: opts.dryRun === 'server',
          preflight,
          withoutPreflight: opts.withoutPreflight,
        });
        await runApply({
          steps,
          cluster,
          output: { line: io.stdout, status: io.status },
          dryRun: opts.dryRun === 'server',
          rerun: opts.rerun,
          forceConflicts: opts.forceConflicts,
          timeoutMs,
          signal: io.signal,
          pollMs: io.pollMs,
        });
        io.stdout(`${opts.dryRun ? 'dry-run passed' : 'done'}: ${steps.map((s) => s.dir).join(', ')}`);
        if (opts.graduate) {
          const removed = await graduate({
            steps,
            cluster,
            output: { line: io.stdout },
            dryRun: opts.dryRun === 'server',
            timeoutMs: timeoutMs ?? GRADUATE_TIMEOUT_MS,
            pollMs: io.pollMs,
          });
          const kept = steps.map((s) => `${s.dir} (${s.objects.length})`).join(', ');
          io.stdout(
            `${opts.dryRun ? 'graduation dry-run passed: would delete' : 'graduated: deleted'} ${removed.length} object(s) of the migration; kept: ${kept}`,
          );
        }
      },
    );
}

/** How long graduation waits for the deleted objects (namespaces included) to be gone, unless --timeout says. */
const GRADUATE_TIMEOUT_MS = 5 * 60_000;

/** --graduate applies the whole output of phase steady and nothing else. */
function checkGraduateOptions(
  opts: { dir: string; from?: string; to?: string; release?: boolean; rerun?: boolean },
  phase: string | undefined,
): void {
  if (phase !== 'steady') {
    throw new InputError(
      '--graduate',
      `${opts.dir} is the output of phase ${phase ?? '(unknown)'}, not steady; set phase: steady in the config, synth, review the diff, and run --graduate on that output`,
    );
  }
  const other = (['from', 'to', 'release', 'rerun'] as const).find((o) => opts[o] !== undefined && opts[o] !== false);
  if (other !== undefined) {
    throw new InputError(
      '--graduate',
      `cannot be combined with --${other}; graduation applies the whole steady output, then deletes the rest`,
    );
  }
}
