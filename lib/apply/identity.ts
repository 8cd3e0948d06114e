/**
 * Whether an output belongs to the cluster `apply` talks to: the nodes its preflight checks (names
 * and InternalIPs, from the preflight's own input in the output) against the cluster's Nodes. A
 * mismatch stops `apply` before it sends anything, dry-run included. The Calico version is left to
 * the preflight, which refuses a wrong one before anything changes on every path (Argo CD and Flux
 * too), and the gate holds the later steps until it passed; the configured API address is each
 * node's own (127.0.0.1:6444), not comparable with the kubeconfig's.
 */
import type { DistStep } from './dist.ts';

/** What the output says about its cluster. */
export interface OutputIdentity {
  readonly nodes: readonly { readonly name: string; readonly internalIP: string }[];
  /** `run.skipNodes`: nodes that may be gone (their Node deleted). */
  readonly skipNodes: readonly string[];
}

/** What the cluster says about itself. */
export interface ClusterIdentity {
  readonly nodes: readonly { readonly name: string; readonly internalIP?: string }[];
}

/** The output's identity, from the preflight's input (`preflight.json` in its ConfigMap); undefined without a preflight. */
export function outputIdentity(preflight: DistStep | undefined): OutputIdentity | undefined {
  for (const obj of preflight?.objects ?? []) {
    const text = obj.kind === 'ConfigMap' ? (obj.data as Record<string, string> | undefined)?.['preflight.json'] : undefined;
    if (text !== undefined) {
      const spec = JSON.parse(text) as OutputIdentity;
      return { nodes: spec.nodes.map((n) => ({ name: n.name, internalIP: n.internalIP })), skipNodes: spec.skipNodes };
    }
  }
  return undefined;
}

/** What differs between the output and the cluster, one phrase each; empty when they match. */
export function identityProblems(output: OutputIdentity, cluster: ClusterIdentity): string[] {
  const problems: string[] = [];
  for (const want of output.nodes) {
    const live = cluster.nodes.find((n) => n.name === want.name);
    if (!live) {
      if (output.skipNodes.includes(want.name)) {
        continue;
      }
      problems.push(`node ${want.name} (${want.internalIP}) is not in the cluster`);
    } else if (live.internalIP !== want.internalIP) {
      problems.push(`node ${want.name} has InternalIP ${live.internalIP ?? 'none'}, the output says ${want.internalIP}`);
    }
  }
  for (const live of cluster.nodes.filter((n) => !output.nodes.some((w) => w.name === n.name))) {
    problems.push(`the cluster's node ${live.name} is not in the output`);
  }
  return problems;
}
