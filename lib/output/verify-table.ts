/**
 * What each verification check proves when it passes, and what it does not: PLAN.md's table for
 * step 310 (710 under per-node) and docs/steps.md's, from one list. The check names are the
 * ones the Jobs print (lib/incluster/verify-*.ts).
 */

export interface VerifyCheckRow {
  /** The check name in the result lines (`PASS <check> <subject>: …`). */
  readonly check: string;
  /** The Job that prints it: `verify-cluster`, or per node `verify-pods-<node>` / `verify-host-<node>`. */
  readonly job: 'cluster' | 'pods' | 'host';
  readonly proves: string;
  readonly doesNot: string;
}

export const VERIFY_CHECKS: readonly VerifyCheckRow[] = [
  {
    check: 'coredns',
    job: 'cluster',
    proves: 'every live CoreDNS pod is Running and Ready (finished and terminating pods are not counted)',
    doesNot: 'that it answers; the `dns` check asks it',
  },
  {
    check: 'cilium-agent',
    job: 'cluster',
    proves: 'the agent DaemonSet has rolled out its latest spec: every pod updated, ready and available',
    doesNot: "that an agent's data path works; `agent` and `health` ask each agent",
  },
  {
    check: 'cilium-operator',
    job: 'cluster',
    proves: 'the operator Deployment has rolled out its latest spec (observed generation, updated and available replicas)',
    doesNot: 'that it has done its work (CRDs, node conditions)',
  },
  {
    check: 'agent-pod',
    job: 'cluster',
    proves: "each checked node has a Ready agent pod that did not restart during the check's window",
    doesNot: 'that it did not crash before the window',
  },
  {
    check: 'network-available',
    job: 'cluster',
    proves: "the node's NetworkUnavailable condition is False; the reason is printed",
    doesNot:
      "that Cilium set it: on hetzner-cloud the cloud controller's route controller sets it False (RouteCreated) whatever Cilium's state",
  },
  {
    check: 'pods-managed',
    job: 'cluster',
    proves: 'every running pod on the pod network has an address in the pod CIDR and a CiliumEndpoint in state ready with that address',
    doesNot: 'that the pod is reachable',
  },
  {
    check: 'pods-started',
    job: 'cluster',
    proves:
      'no pod on the pod network of a checked node has a FailedCreatePodSandBox event (a failing CNI ADD) after two minutes without its sandbox; one that waits without it is a WARN',
    doesNot: 'why one waits: `kubectl describe pod` shows FailedCreatePodSandBox',
  },
  {
    check: 'pod-to-pod',
    job: 'pods',
    proves:
      "a pod on this node reaches each checked node's echo pod by its pod IP, and that pod answers (routing between every pair of nodes, both directions over the run of all the Jobs)",
    doesNot: 'pod network policy (the echo has none)',
  },
  {
    check: 'pod-large-payload',
    job: 'pods',
    proves:
      "a request and an answer of verify.limits.payloadBytes each cross between this node and each node's echo pod (full-size packets: an MTU mismatch drops them)",
    doesNot: 'the MTU of paths outside the cluster',
  },
  {
    check: 'pod-clusterip',
    job: 'pods',
    proves: 'every request in a round from a pod on this node to the echo ClusterIP was answered (Cilium serves Services)',
    doesNot: 'Services of other protocols than TCP',
  },
  {
    check: 'pod-clusterip-backends',
    job: 'pods',
    proves: "every checked node's echo pod has answered through the ClusterIP from this node",
    doesNot: 'session affinity or topology-aware routing',
  },
  {
    check: 'pod-nodeport',
    job: 'pods',
    proves: "a pod on this node reaches the echo NodePort on each checked node's InternalIP",
    doesNot: 'that a client outside the cluster does (its path enters through the NIC); nor `externalTrafficPolicy: Local`',
  },
  {
    check: 'dns',
    job: 'pods',
    proves:
      "cluster DNS from this node resolves kubernetes.default, the echo Service to its ClusterIP, and each external URL's host name (CoreDNS forwards)",
    doesNot: 'names of other search domains',
  },
  {
    check: 'egress',
    job: 'pods',
    proves:
      'each verify.externalURLs answers HTTP 200 (over HTTPS with a certificate Node.js trusts) to a pod on this node: egress and masquerading',
    doesNot: 'anything when `egress` is in verify.skip (a SKIP line says so)',
  },
  {
    check: 'ingress',
    job: 'pods',
    proves:
      "the ingress controller routes the test host to the echo backend: through its ClusterIP and each node's NodePort (controller: service), or on each node where its pods run (hostNetwork); a redirect to HTTPS is followed",
    doesNot: "the load balancer in front of the nodes, or the controller's certificate; anything when `ingress` is in verify.skip",
  },
  {
    check: 'agent',
    job: 'host',
    proves:
      'the agent on this node, asked on its own socket as `cilium-dbg status` does: agent and Kubernetes connection Ok, no failing controller, no stale probe, kube-proxy replacement and inter-host routing (Native or Tunnel) as configured',
    doesNot: 'BPF programs or maps beyond what the agent reports',
  },
  {
    check: 'health',
    job: 'host',
    proves:
      "cilium-health's latest probes from this node reached each other node's address and health endpoint (an address in that node's pod CIDR)",
    doesNot: 'the probes of nodes that cilium-health has not yet seen',
  },
  {
    check: 'host-to-pod',
    job: 'host',
    proves: "this node's host network reaches each checked node's echo pod (the path of host-network pods and the kubelet's probes)",
    doesNot: 'other host interfaces than the one the route picks',
  },
  {
    check: 'host-large-payload',
    job: 'host',
    proves: "a request and an answer of verify.limits.payloadBytes each cross between this node's host network and each node's echo pod",
    doesNot: 'the MTU of paths outside the cluster',
  },
  {
    check: 'host-clusterip',
    job: 'host',
    proves:
      'every request from the host network to the echo ClusterIP was answered (the path of host-network pods such as the cloud controller)',
    doesNot: 'Services whose backends are on the host network',
  },
  {
    check: 'host-clusterip-backends',
    job: 'host',
    proves: "every checked node's echo pod has answered through the ClusterIP from this host",
    doesNot: 'session affinity',
  },
  {
    check: 'host-nodeport',
    job: 'host',
    proves: "the host reaches the echo NodePort on each checked node's InternalIP",
    doesNot: '`externalTrafficPolicy: Local`',
  },
  {
    check: 'kube-proxy',
    job: 'host',
    proves: "nothing answers on kube-proxy's health port 10256 on this node (with kube-proxy replacement)",
    doesNot: 'that kube-proxy left no rules (step 210 removes them)',
  },
];

/** The Job that prints a check, as PLAN.md names it. */
export function jobOf(row: VerifyCheckRow): string {
  return row.job === 'cluster' ? '`verify-cluster`' : `\`verify-${row.job}-<node>\``;
}

/** The table's lines. */
export function verifyTable(): string[] {
  return [
    '| check | Job | a PASS proves | it does not prove |',
    '| --- | --- | --- | --- |',
    ...VERIFY_CHECKS.map((r) => `| \`${r.check}\` | ${jobOf(r)} | ${r.proves} | ${r.doesNot} |`),
  ];
}
