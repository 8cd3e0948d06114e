/**
 * What every command shares: where output goes (CliIo), which config it reads, and how a command
 * says "already reported, exit 1".
 */
import { existsSync, readFileSync } from 'node:fs';
import { normalize } from 'node:path';
import { loadConfigFile, type LoadedConfig } from '../lib/config/load.ts';
import { rootPath } from '../lib/paths.ts';
import type { Cluster } from '../lib/apply/run.ts';
import type { OutputOrigin } from '../lib/output/rendered.ts';

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
export const defaultIo: CliIo = {
  // On a terminal a line first clears the status line it replaces.
  stdout: (line) => process.stdout.write(`${tty ? '\r\x1b[K' : ''}${line}\n`),
  stderr: (line) => process.stderr.write(`${tty ? '\r\x1b[K' : ''}${line}\n`),
  cwd: process.cwd(),
  status: tty ? (text) => process.stdout.write(`\r\x1b[K${text.slice(0, (process.stdout.columns || 120) - 1)}`) : undefined,
};

/** `diff --exit-code` found differences, or `check` found problems: exit 1, already printed. */
export class AlreadyReported extends Error {}

/** The tool's version, from package.json. */
export function version(): string {
  const pkg = JSON.parse(readFileSync(rootPath('package.json'), 'utf8')) as { version: string };
  return pkg.version;
}

/**
 * Loads `--config`, else ./cilium-cutover.yaml, else the built-in example; prints its warnings.
 * Output from the built-in example says so in PLAN.md and its root kustomization.yaml, and
 * `apply` refuses it unless asked by name.
 */
export function loadFor(io: CliIo, configOption: string | undefined): LoadedConfig & { readonly builtInExample: boolean } {
  const file = configOption ?? (existsSync(`${io.cwd}/${DEFAULT_CONFIG_FILE}`) ? `${io.cwd}/${DEFAULT_CONFIG_FILE}` : EXAMPLE_CONFIG);
  const loaded = loadConfigFile(configOption !== undefined && !configOption.startsWith('/') ? `${io.cwd}/${configOption}` : file);
  for (const warning of loaded.warnings) {
    io.stderr(`warning: ${warning}`);
  }
  const builtInExample = configOption === undefined && file === EXAMPLE_CONFIG;
  return {
    ...loaded,
    warnings: builtInExample
      ? [
          ...loaded.warnings,
          'this output is the built-in example (examples/hetzner-3-servers.yaml), not your cluster: `apply` refuses it unless given --built-in-example; write your cluster into cilium-cutover.yaml and synth again',
        ]
      : loaded.warnings,
    source: builtInExample ? 'the built-in example (examples/hetzner-3-servers.yaml)' : (configOption ?? DEFAULT_CONFIG_FILE),
    builtInExample,
  };
}

/**
 * How an output is made, for the commands PLAN.md names: the config and output directory as given,
 * written the same way however they were spelled (`./dist/` is `dist`), and left out where they
 * are the defaults, so a synth that names them and one that does not write the same PLAN.md.
 */
export function originOf(loaded: { readonly builtInExample: boolean }, configOption: string | undefined, out: string): OutputOrigin {
  const tidy = (path: string) => normalize(path).replace(/\/+$/, '');
  const configFile = configOption === undefined || tidy(configOption) === DEFAULT_CONFIG_FILE ? undefined : tidy(configOption);
  return { builtInExample: loaded.builtInExample, ...(configFile ? { configFile } : {}), out: tidy(out) };
}
