/**
 * Thin helpers over iproute2 and nftables for the simulation's own network namespaces (never the
 * machine's): run `ip`, run a command inside a namespace, load an nftables ruleset there.
 */
import { spawnSync } from 'node:child_process';

/** Runs `ip ARGS`; throws with its error output when it fails. */
export function ip(...args: string[]): void {
  const result = spawnSync('ip', args, { encoding: 'utf8' });
  if (result.status !== 0) {
    throw new Error(`ip ${args.join(' ')}: ${result.stderr.trim()}`);
  }
}

/** Runs a command inside a network namespace; its output, or an error naming it. */
export function inNetns(netns: string, command: string[], input?: string): string {
  const result = spawnSync('ip', ['netns', 'exec', netns, ...command], { encoding: 'utf8', input });
  if (result.status !== 0) {
    throw new Error(`${command.join(' ')} in ${netns}: ${(result.stderr || result.stdout).trim()}`);
  }
  return result.stdout;
}

/** Like `inNetns`, but a failure only returns false (for what may legitimately be absent). */
export function tryInNetns(netns: string, command: string[], input?: string): boolean {
  return spawnSync('ip', ['netns', 'exec', netns, ...command], { encoding: 'utf8', input }).status === 0;
}

/** Sets a sysctl inside a namespace (per-namespace ones only, such as net.ipv4.ip_forward). */
export function sysctl(netns: string, key: string, value: string): void {
  inNetns(netns, ['sysctl', '-q', '-w', `${key}=${value}`]);
}

/** Ends every process in a namespace, then deletes it. */
export function deleteNetns(netns: string): void {
  const pids = spawnSync('ip', ['netns', 'pids', netns], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean);
  pids.forEach((pid) => spawnSync('kill', ['-KILL', pid]));
  spawnSync('ip', ['netns', 'delete', netns]);
}
