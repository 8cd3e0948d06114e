/**
 * What the verification checks are told, rendered into their ConfigMap (charts/verify-checks.ts):
 * the echo backend, the nodes to judge, what Cilium must run as, what was acknowledged as not
 * verified, and the timing of the judged window. Dependency-free.
 */

export interface VerifyNode {
  readonly name: string;
  readonly internalIP: string;
}

/**
 * The spec as its ConfigMap holds it: without the nodes, which live in the ConfigMap `nodeList`
 * of a fixed name (its `nodes.json`), read through the API. A node added to the config then adds
 * its own Jobs and renames no other node's.
 */
export type VerifySpecFile = Omit<VerifySpec, 'nodes'> & { readonly nodeList: string };

export interface VerifySpec {
  readonly namespace: string;
  /** The echo backend: one pod per node (a DaemonSet), a ClusterIP Service and a NodePort Service. */
  readonly echo: {
    readonly service: string;
    readonly nodePortService: string;
    readonly selector: string;
    readonly servicePort: number;
    readonly podPort: number;
  };
  /** Every node to judge: cluster.nodes without run.skipNodes (read from `nodeList` when the check starts). */
  readonly nodes: readonly VerifyNode[];
  /** Where Cilium hands out pod addresses now. */
  readonly podCIDR: string;
  readonly clusterDomain: string;
  /** Absent when `ingress` is in verify.skip. */
  readonly ingress?: {
    readonly host: string;
    readonly controller: 'hostNetwork' | 'service';
    readonly port: number;
    readonly service: { readonly namespace: string; readonly name: string };
  };
  /** Must answer HTTP 200 from every node; empty when `egress` is in verify.skip. */
  readonly externalURLs: readonly string[];
  /** Checks acknowledged as not run (verify.skip): printed as SKIP lines. */
  readonly notVerified: readonly string[];
  /** What the agent must report of itself. */
  readonly cilium: {
    /** `cilium-dbg status`'s inter-host routing: Native or Tunnel. */
    readonly routing: 'Native' | 'Tunnel';
    readonly kubeProxyReplacement: boolean;
    /** The agent's and cilium-health's API sockets, as mounted in the host check's pod. */
    readonly agentSocket: string;
    readonly healthSocket: string;
  };
  /** kube-proxy must be gone from every node (its health port 10256 silent). */
  readonly kubeProxyGone: boolean;
  readonly limits: {
    /** How long preconditions may take before the check judges. */
    readonly waitSeconds: number;
    /** How long the judged window lasts at most. */
    readonly windowSeconds: number;
    /** Rounds in a row each subject must pass. */
    readonly consecutive: number;
    readonly roundSeconds: number;
    /** The size of the large request and answer across every pair. */
    readonly payloadBytes: number;
  };
}
