/**
 * The command line: `synth`, `validate`, `plan`, `diff`, `check`, `discover`, `apply`, `--help`,
 * `--version`.
 *
 * Exit codes: 0 done, 2 bad input (config or options; one line on stderr, output untouched),
 * 1 a failed step of `apply` (named), differences found by `diff --exit-code`, or an unexpected
 * failure; 130 `apply` interrupted by Ctrl-C.
 */
import { Command, CommanderError, Option } from 'commander';
import { join } from 'node:path';
import { parseDuration, readDist, selectSteps } from '../lib/apply/dist.ts';
import { type Cluster, Interrupted, releaseOwnership, runApply, StepFailed } from '../lib/apply/run.ts';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { rootPath } from '../lib/paths.ts';
import { loadConfigFile, type LoadedConfig } from '../lib/config/load.ts';
import { InputError } from '../lib/input-error.ts';
import { render } from '../lib/output/render.ts';
import { diffTrees, formatDiff } from '../lib/output/diff.ts';
import { MARKER_FILE, readTree, writeOutput } from '../lib/output/writer.ts';

/** The config file read when `--config` is not given and it exists in the working directory. */
export const DEFAULT_CONFIG_FILE = 'cilium-cutover.yaml';
/** The built-in example: used when there is no config file at all. */
export const EXAMPLE_CONFIG = rootPath('examples', 'hetzner-3-servers.yaml');

/** Where the CLI writes; tests pass their own. */
export interface CliIo {
  readonly stdout: (line: string) => void;
  readonly stderr: (line: string) => void;
  readonly cwd: string;
  /** A transient status line; only where stdout is a terminal. */
  readonly status?: (text: string) => void;
  /** Stops `apply` between API calls (Ctrl-C). */
  readonly signal?: AbortSignal;
  /** The cluster `apply` talks to; tests pass a fake, otherwise it comes from the kubeconfig. */
  readonly cluster?: Cluster;
  /** Poll interval of `apply`'s waits, in milliseconds. */
  readonly pollMs?: number;
}

const tty = process.stdout.isTTY === true;
const defaultIo: CliIo = {
  // On a terminal a line first clears the status line it replaces.
  stdout: (line) => process.stdout.write(`${tty ? '\r\x1b[K' : ''}${line}\n`),
  stderr: (line) => process.stderr.write(`${tty ? '\r\x1b[K' : ''}${line}\n`),
  cwd: process.cwd(),
  status: tty ? (text) => process.stdout.write(`\r\x1b[K${text.slice(0, (process.stdout.columns || 120) - 1)}`) : undefined,
};

function version(): string {
  const pkg = JSON.parse(readFileSync(rootPath('package.json'), 'utf8')) as { version: string };
  return pkg.version;
}

function loadFor(io: CliIo, configOption: string | undefined): LoadedConfig {
  const file = configOption ?? (existsSync(`${io.cwd}/${DEFAULT_CONFIG_FILE}`) ? `${io.cwd}/${DEFAULT_CONFIG_FILE}` : EXAMPLE_CONFIG);
  const loaded = loadConfigFile(configOption !== undefined && !configOption.startsWith('/') ? `${io.cwd}/${configOption}` : file);
  for (const warning of loaded.warnings) {
    io.stderr(`warning: ${warning}`);
  }
  return {
    ...loaded,
    source: file === EXAMPLE_CONFIG ? 'the built-in example (examples/hetzner-3-servers.yaml)' : (configOption ?? DEFAULT_CONFIG_FILE),
  };
}

function program(io: CliIo): Command {
  const cli = new Command('cilium-cutover')
    .description('Synthesizes an ordered Calico → Cilium migration for k3s as GitOps manifests.')
    .version(version())
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.stdout(s.trimEnd()), writeErr: (s) => io.stderr(s.trimEnd()) });

  cli
    .command('synth')
    .description(
      `synthesize the migration into the output directory (config: --config, else ./${DEFAULT_CONFIG_FILE}, else the built-in example)`,
    )
    .option('-c, --config <file>', 'cluster config file')
    .option('-o, --out <dir>', 'output directory, replaced as a whole', 'dist')
    .action((opts: { config?: string; out: string }) => {
      const loaded = loadFor(io, opts.config);
      const rendered = render(loaded.config, loaded.warnings);
      const out = opts.out.startsWith('/') ? opts.out : `${io.cwd}/${opts.out}`;
      const changed = writeOutput(out, rendered.files, opts.out);
      io.stdout(`${changed ? 'wrote' : 'unchanged:'} ${rendered.files.size} files in ${opts.out}/ from ${loaded.source}`);
    });

  cli
    .command('validate')
    .description('validate the config and print the resolved settings, without writing anything')
    .option('-c, --config <file>', 'cluster config file')
    .action((opts: { config?: string }) => {
      const { config, source } = loadFor(io, opts.config);
      const c = config.cilium;
      const routing = (r: typeof c) =>
        `routing-mode ${r.routingMode}, kube-proxy-replacement ${r.kubeProxyReplacement}, ` +
        (r.migration
          ? `pods on ${r.migration.podCIDR}, VXLAN port ${r.migration.tunnelPort}`
          : `${r.routingMode === 'native' ? `native CIDR ${r.ipv4NativeRoutingCIDR}, ` : ''}MTU ${r.mtu ?? 'auto'}`);
      io.stdout(
        `${source}: valid. Cluster ${config.cluster.name}: ${config.cluster.nodes.length} node(s), Calico ${config.calico.version} → Cilium ${c.version.version}, ${routing(c)}`,
      );
      if (config.strategy === 'per-node' && config.phase !== 'steady') {
        io.stdout(
          `strategy per-node, phase ${config.phase}: nodes move in this order: ${config.migrationOrder.map((n) => n.name).join(', ')}; from phase switch on: ${routing(config.finalCilium)}`,
        );
      }
    });

  cli
    .command('plan')
    .description('print the migration plan for review (the text of PLAN.md in the output), without writing anything')
    .option('-c, --config <file>', 'cluster config file')
    .action((opts: { config?: string }) => {
      const loaded = loadFor(io, opts.config);
      io.stdout(render(loaded.config, loaded.warnings).files.get('PLAN.md')!.trimEnd());
    });

  cli
    .command('discover')
    .description('read a live k3s + Calico cluster (read-only) and print a config for it; review its CHECK comments')
    .option('--kubeconfig <file>', 'kubeconfig (default: $KUBECONFIG, then ~/.kube/config)')
    .option('--context <name>', 'kubeconfig context (default: the current one)')
    .action(async (opts: { kubeconfig?: string; context?: string }) => {
      const { loadKubeConfig } = await import('../lib/apply/cluster.ts');
      const { readSnapshot } = await import('../lib/discover/read.ts');
      const { discoverConfig } = await import('../lib/discover/discover.ts');
      const discovered = discoverConfig(await readSnapshot(loadKubeConfig(opts.kubeconfig, opts.context)));
      io.stdout(discovered.text.trimEnd());
      discovered.notes.forEach((n) => io.stderr(`note: ${n}`));
    });

  cli
    .command('check')
    .description('check a synthesized output directory: every object against its schema, every kustomization with kubectl kustomize')
    .option('-d, --dir <dir>', 'the output directory', 'dist')
    .option('--no-kustomize', 'skip the kubectl kustomize builds (for machines without kubectl)')
    .action(async (opts: { dir: string; kustomize: boolean }) => {
      const dir = opts.dir.startsWith('/') ? opts.dir : join(io.cwd, opts.dir);
      if (!existsSync(join(dir, 'manifests'))) {
        throw new InputError('--dir', `${opts.dir} has no manifests/ directory; run synth first or point --dir at its output`);
      }
      const { checkOutput } = await import('../lib/check/schema-check.ts');
      const files = readTree(dir);
      const { problems, checked } = await checkOutput(files, dir, opts.kustomize);
      problems.forEach((p) => io.stdout(`INVALID ${p.file}: ${p.message}`));
      io.stdout(problems.length === 0 ? `valid: ${checked} files in ${opts.dir}/` : `${problems.length} problem(s) in ${opts.dir}/`);
      if (problems.length > 0) {
        throw new AlreadyReported();
      }
    });

  cli
    .command('diff')
    .description('synthesize in memory and show, object by object and field by field, what differs from the committed output')
    .option('-c, --config <file>', 'cluster config file')
    .option('--against <dir|git-ref>', 'compare with this directory, or with the output directory at this git revision', 'dist')
    .option('-o, --out <dir>', 'where the output lives in the repository (for --against <git-ref>)', 'dist')
    .option('--exit-code', 'exit 1 when anything differs (for CI)')
    .action((opts: { config?: string; against: string; out: string; exitCode?: boolean }) => {
      const loaded = loadFor(io, opts.config);
      const rendered = render(loaded.config, loaded.warnings);
      const before = readAgainst(io.cwd, opts.against, opts.out);
      const diffs = diffTrees(before, rendered.files);
      formatDiff(diffs).forEach((line) => io.stdout(line));
      if (opts.exitCode && diffs.length > 0) {
        throw new AlreadyReported();
      }
    });

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
      }) => {
        if (opts.release && opts.dryRun) {
          throw new InputError('--release', 'cannot be combined with --dry-run; run it alone once the GitOps engine has synced');
        }
        const timeoutMs = opts.timeout === undefined ? undefined : parseDuration(opts.timeout);
        if (timeoutMs === undefined && opts.timeout !== undefined) {
          throw new InputError('--timeout', `"${opts.timeout}" is not a duration; write it like 30m or 1h`);
        }
        const steps = selectSteps(readDist(opts.dir.startsWith('/') ? opts.dir : join(io.cwd, opts.dir)), opts.from, opts.to);
        // The Kubernetes client loads only here: synth and validate stay offline and fast.
        const { FIELD_MANAGER, kubeCluster, loadKubeConfig } = await import('../lib/apply/cluster.ts');
        const cluster = io.cluster ?? kubeCluster(loadKubeConfig(opts.kubeconfig, opts.context));
        if (opts.release) {
          const kept = await releaseOwnership(steps, cluster, { line: io.stdout }, FIELD_MANAGER);
          io.stdout(kept.length === 0 ? 'released every object' : `released; ${kept.length} object(s) kept, listed above`);
          return;
        }
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
      },
    );
  return cli;
}

/** `diff --exit-code` found differences, or `check` found problems: exit 1, already printed. */
class AlreadyReported extends Error {}

/** The contents `git cat-file --batch` printed: per object a `<id> <type> <size>` line, the bytes and a newline. */
export function parseCatFileBatch(output: Buffer): string[] {
  const contents: string[] = [];
  let at = 0;
  while (at < output.length) {
    const end = output.indexOf(10, at);
    const header = output.subarray(at, end).toString('utf8').split(' ');
    const size = Number(header[2]);
    if (header[1] === 'missing' || !Number.isInteger(size)) {
      throw new Error(`git cat-file: ${header.join(' ')}`);
    }
    contents.push(output.subarray(end + 1, end + 1 + size).toString('utf8'));
    at = end + 1 + size + 1;
  }
  return contents;
}

/** The output to compare with: a directory, else the output directory at a git revision. */
function readAgainst(cwd: string, against: string, out: string): Map<string, string> {
  const dir = against.startsWith('/') ? against : join(cwd, against);
  if (existsSync(dir) && statSync(dir).isDirectory()) {
    const files = readTree(dir);
    files.delete(MARKER_FILE);
    return files;
  }
  const git = (args: string[]) => spawnSync('git', args, { cwd, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  if (git(['rev-parse', '--verify', '--quiet', `${against}^{commit}`]).status !== 0) {
    throw new InputError(
      '--against',
      `"${against}" is neither a directory nor a git revision here; give a directory or a commit, branch or tag`,
    );
  }
  const listed = git(['ls-tree', '-r', '--name-only', against, '--', `${out}/`]);
  const paths = listed.stdout.split('\n').filter((p) => p && !p.endsWith(`/${MARKER_FILE}`));
  // One `git cat-file --batch` for every file: a large output has thousands.
  const batch = spawnSync('git', ['cat-file', '--batch'], {
    cwd,
    input: paths.map((p) => `${against}:./${p}\n`).join(''),
    maxBuffer: 1024 * 1024 * 1024,
  });
  const contents = parseCatFileBatch(batch.stdout);
  const files = new Map<string, string>();
  paths.forEach((path, i) => {
    files.set(path.slice(out.replace(/\/$/, '').length + 1), contents[i] ?? '');
  });
  if (files.size === 0) {
    throw new InputError('--against', `${against} has no ${out}/ directory; pass --out with where the output lives in the repository`);
  }
  return files;
}

/** Runs the CLI; returns the exit code instead of exiting, so tests can call it. */
export async function runCli(argv: readonly string[], overrides: Partial<CliIo> = {}): Promise<number> {
  const io: CliIo = { ...defaultIo, ...overrides };
  try {
    await program(io).parseAsync([...argv], { from: 'user' });
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version end here with code 0; usage errors were printed by commander.
      return err.exitCode === 0 ? 0 : 2;
    }
    if (err instanceof InputError) {
      io.stderr(`error: ${err.message}`);
      return 2;
    }
    if (err instanceof AlreadyReported) {
      return 1;
    }
    if (err instanceof StepFailed) {
      io.stderr(`error: ${err.message}`);
      return 1;
    }
    if (err instanceof Interrupted) {
      io.stderr(err.message);
      return 130;
    }
    io.stderr(`internal error: ${(err as Error).stack ?? String(err)}`);
    return 1;
  }
}
