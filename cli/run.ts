/**
 * The command line: `synth`, `validate`, `plan`, `diff`, `check`, `discover`, `apply`, `--help`,
 * `--version`, one file per command.
 *
 * Exit codes: 0 done, 2 bad input (config or options; one line on stderr, output untouched),
 * 1 a failed step of `apply` (named), differences found by `diff --exit-code`, or an unexpected
 * failure; 130 `apply` interrupted by Ctrl-C.
 */
import { Command, CommanderError } from 'commander';
import { ForeignNamespace, NotThisCluster, PreflightNotPassed } from '../lib/apply/gate.ts';
import { GraduationRefused } from '../lib/apply/graduate.ts';
import { RestoreRefused } from '../lib/apply/restore.ts';
import { Interrupted, StepFailed } from '../lib/apply/run.ts';
import { InputError } from '../lib/input-error.ts';
import { applyCommand } from './apply.ts';
import { checkCommand } from './check.ts';
import { diffCommand } from './diff.ts';
import { discoverCommand } from './discover.ts';
import { inventoryCommand } from './inventory.ts';
import { AlreadyReported, defaultIo, version, type CliIo } from './io.ts';
import { planCommand } from './plan.ts';
import { restoreCommand } from './restore.ts';
import { synthCommand } from './synth.ts';
import { validateCommand } from './validate.ts';

function program(io: CliIo): Command {
  const cli = new Command('cilium-cutover')
    .description('Synthesizes an ordered Calico → Cilium migration for k3s as GitOps manifests.')
    .version(version())
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.stdout(s.trimEnd()), writeErr: (s) => io.stderr(s.trimEnd()) });
  for (const add of [
    synthCommand,
    validateCommand,
    planCommand,
    discoverCommand,
    checkCommand,
    diffCommand,
    applyCommand,
    inventoryCommand,
    restoreCommand,
  ]) {
    add(cli, io);
  }
  return cli;
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
    if (
      err instanceof StepFailed ||
      err instanceof PreflightNotPassed ||
      err instanceof NotThisCluster ||
      err instanceof GraduationRefused ||
      err instanceof RestoreRefused ||
      err instanceof ForeignNamespace
    ) {
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
