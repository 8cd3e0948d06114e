/**
 * Where the generated Cilium install deliberately differs from what the official chart renders for
 * the same values: one list, with the reason for each. PLAN.md and docs/cilium-versions.md show it;
 * every entry has a test (test/charts/cilium.test.ts), and the comparison with the chart's renders
 * (scripts/cilium-release/normalize.ts) leaves out exactly these fields.
 *
 * Not deviations but values, as the chart takes them: Hubble off (`hubble.enabled: false`) and
 * Envoy inside the agent (`envoy.enabled: false`); see docs/cilium-versions.md.
 */

export interface Deviation {
  readonly id: string;
  /** What differs from the render. */
  readonly what: string;
  readonly why: string;
}

export const DEVIATIONS: readonly Deviation[] = [
  {
    id: 'operator-tolerations',
    what: 'Where the chart gives the operator a list of tolerations (1.18 on), it also tolerates `node.kubernetes.io/network-unavailable` and `CriticalAddonsOnly`.',
    why: "Calico's shutdown leaves nodes tainted network-unavailable and only the operator clears that; k3s HA servers often carry CriticalAddonsOnly. With the chart's list the operator stays Pending and the cluster never recovers.",
  },
  {
    id: 'operator-replicas',
    what: "Operator replicas come from `cilium.operator.replicas`, by default 1 up to two nodes and 2 from three (the chart's default is 2); the update strategy follows the chart for that count.",
    why: 'two replicas cannot be scheduled on a one- or two-node cluster with a node drained (each needs a node of its own), and one replica cannot move off a node that is drained.',
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
  {
    id: 'hubble-off-explicit',
    what: '`cilium-config` says `enable-hubble: "false"` on every release; the charts before 1.17.2 leave the key out when Hubble is off.',
    why: 'on 1.17.0 and 1.17.1 a missing key means Hubble on (cilium/cilium#37702, fixed in 1.17.2 by cilium/cilium#37587); on the older lines it means off, so the explicit value changes nothing there.',
  },
  {
    id: 'gitops-metadata',
    what: "Every object carries this tool's labels (`app.kubernetes.io/managed-by`, `cilium-cutover.io/step`, and `app.kubernetes.io/part-of` where the chart sets none) and the GitOps annotations of its step (its place in the order, its protection from prune); none carries the chart's `helm.sh/chart` label.",
    why: 'The engine orders, protects and prunes the objects by them; a Helm label on objects Helm does not manage would mislead Helm-aware tools.',
  },
];
