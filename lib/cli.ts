/**
 * The command line: `synth`, `validate`, `--help`, `--version`.
 *
 * Exit codes: 0 done, 2 bad input (config or options; one line on stderr, output untouched),
 * 1 an unexpected failure.
 */
import { Command, CommanderError } from 'commander';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadConfigFile, type LoadedConfig } from './config/load.ts';
import { InputError } from './input-error.ts';
import { render } from './output/render.ts';
import { writeOutput } from './output/writer.ts';

/** The config file read when `--config` is not given and it exists in the working directory. */
export const DEFAULT_CONFIG_FILE = 'cilium-cutover.yaml';
/** The built-in example: used when there is no config file at all. */
export const EXAMPLE_CONFIG = fileURLToPath(new URL('../examples/hetzner-3-servers.yaml', import.meta.url));

/** Where the CLI writes; tests pass their own. */
export interface CliIo {
  readonly stdout: (line: string) => void;
  readonly stderr: (line: string) => void;
  readonly cwd: string;
}

const defaultIo: CliIo = {
  stdout: (line) => process.stdout.write(`${line}\n`),
  stderr: (line) => process.stderr.write(`${line}\n`),
  cwd: process.cwd(),
};

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
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
      io.stdout(
        `${source}: valid. Cluster ${config.cluster.name}: ${config.cluster.nodes.length} node(s), Calico ${config.calico.version} → Cilium ${c.version.version}, ` +
          `routing-mode ${c.routingMode}, kube-proxy-replacement ${c.kubeProxyReplacement}, native CIDR ${c.ipv4NativeRoutingCIDR}, MTU ${c.mtu ?? 'auto'}`,
      );
    });
  return cli;
}

/** Runs the CLI; returns the exit code instead of exiting, so tests can call it. */
export async function runCli(argv: readonly string[], io: CliIo = defaultIo): Promise<number> {
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
    io.stderr(`internal error: ${(err as Error).stack ?? String(err)}`);
    return 1;
  }
}
