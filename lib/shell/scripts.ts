/**
 * The shell scripts that run on nodes: kept as files under lib/shell/node (reviewable, testable
 * with bash), assembled at synth time into one self-contained script each for a ConfigMap.
 */
import { readFileSync } from 'node:fs';
import { rootPath } from '../paths.ts';

export type NodeScript = 'calico-cleanup' | 'kube-proxy-cleanup';

const INCLUDE = '# @include common.sh';

function read(file: string): string {
  return readFileSync(rootPath('lib', 'shell', 'node', file), 'utf8');
}

/** The entry point of every node Job (busybox sh): enters the host and runs a node script. */
export function enterHostScript(): string {
  return read('enter-host.sh');
}

/** The script with its shared functions inlined. */
export function nodeScript(name: NodeScript): string {
  const script = read(`${name}.sh`);
  if (!script.includes(INCLUDE)) {
    throw new Error(`lib/shell/node/${name}.sh must contain '${INCLUDE}'`);
  }
  return script.replace(INCLUDE, read('common.sh').trimEnd());
}
