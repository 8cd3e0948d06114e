/**
 * The one way tests find the command-line tools they need. A test whose tool is missing is
 * skipped with one visible `SKIP` line; with CILIUM_CUTOVER_REQUIRE_TOOLS=1 (set by .ci/run) a
 * missing tool fails the run instead, so CI cannot pass by skipping.
 */
import { spawnSync } from 'node:child_process';

/** Each tool and the arguments that make it print its version. */
const PROBES = {
  busybox: ['true'],
  chroot: ['--version'],
  curl: ['--version'],
  git: ['--version'],
  ip: ['-V'],
  'iptables-legacy-restore': ['--version'],
  'iptables-nft-restore': ['--version'],
  ipset: ['--version'],
  nft: ['--version'],
  wget: ['--version'],
  kubectl: ['version', '--client'],
  openssl: ['version'],
  shellcheck: ['--version'],
  unshare: ['--version'],
} as const;

export type Tool = keyof typeof PROBES;

const found = new Map<Tool, boolean>();

/** True when the tool runs here (probed once per test file). */
export function hasTool(tool: Tool): boolean {
  let ok = found.get(tool);
  if (ok === undefined) {
    ok = spawnSync(tool, [...PROBES[tool]], { encoding: 'utf8' }).status === 0;
    found.set(tool, ok);
  }
  return ok;
}

/**
 * True when the tool runs here. Otherwise prints `SKIP <what>: <tool> is not installed; <without>`
 * and returns false, or throws under CILIUM_CUTOVER_REQUIRE_TOOLS=1.
 *
 * @param what the tests that need the tool
 * @param without what is left unchecked without it
 */
export function requireTool(tool: Tool, what: string, without: string): boolean {
  if (hasTool(tool)) {
    return true;
  }
  const line = `${what}: ${tool} is not installed; ${without}`;
  if (process.env.CILIUM_CUTOVER_REQUIRE_TOOLS === '1') {
    throw new Error(`${line} (CILIUM_CUTOVER_REQUIRE_TOOLS=1: install it)`);
  }
  console.log(`SKIP ${line}`);
  return false;
}
