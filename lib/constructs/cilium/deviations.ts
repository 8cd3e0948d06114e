/**
 * Where the generated Cilium install deliberately differs from what the official chart renders for
 * the same values: one list, with the reason for each. PLAN.md and docs/cilium-versions.md show it; every entry
 * has a test.
 */

export interface Deviation {
  readonly id: string;
  /** What differs from the render. */
  readonly what: string;
  readonly why: string;
}

export const DEVIATIONS: readonly Deviation[] = [
  {
    id: 'hubble-off',
    what: 'Hubble is off: `enable-hubble: "false"`, no `hubble-*` keys, no Hubble TLS Secrets or volume, no `hubble-peer` Service or peer port.',
    why: 'the chart generates Hubble TLS certificates with random keys at every render, which cannot live in Git; its TLS paths without the certificates would leave Hubble half-configured.',
  },
  {
    id: 'envoy-embedded',
    what: 'Envoy runs inside the agent pod on every version (`external-envoy-proxy: "false"`): from 1.16 on, no `cilium-envoy` DaemonSet, ConfigMap, Service or ServiceAccount, and no envoy socket mount on the agent.',
    why: "one DaemonSet less to roll out and wait for during the outage; the separate DaemonSet needs a generated Envoy bootstrap configuration. Cilium supports both modes; L7 policy then follows the agent's restarts.",
  },
  {
    id: 'operator-tolerations',
    what: 'From 1.18 on, the operator also tolerates `node.kubernetes.io/network-unavailable` and `CriticalAddonsOnly`.',
    why: "Calico's shutdown leaves nodes tainted network-unavailable and only the operator clears that; k3s HA servers often carry CriticalAddonsOnly. With the chart's narrow list the operator stays Pending and the cluster never recovers.",
  },
  {
    id: 'operator-replicas',
    what: 'Operator replicas come from `cilium.operator.replicas` (default 1 up to two nodes, else 2).',
    why: 'one replica cannot move off a node that is drained or rebooted.',
  },
  {
    id: 'config-checksum',
    what: 'The agent and operator pod templates carry `cilium-cutover.io/config-checksum`, the hash of cilium-config.',
    why: 'the agent reads its configuration only at start: a changed setting must roll the pods, and the diff shows it.',
  },
  {
    id: 'no-aws-poststart',
    what: "The agent has no postStart hook (the chart's hook removes AWS VPC CNI iptables rules).",
    why: 'it applies to AWS ENI only, and it rewrites whole iptables tables, which this tool never does.',
  },
];
