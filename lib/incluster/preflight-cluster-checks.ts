/**
 * The preflight's cluster-wide decisions (etcd snapshot, Calico policies, the cloud controller,
 * the installed Calico), as plain functions over API objects: the runner fetches, these judge.
 *
 * Dependency-free: bundled into the preflight Job's script and imported by the tests.
 */
import type { DaemonSetObject, PreflightSpec } from './preflight-checks.ts';
import type { CheckResult } from './shared/report.ts';

/** The parts of an ETCDSnapshotFile (k3s.cattle.io/v1) the preflight reads. */
export interface SnapshotObject {
  readonly metadata: { readonly name: string; readonly creationTimestamp?: string };
  readonly spec?: { readonly snapshotName?: string; readonly nodeName?: string };
  readonly status?: { readonly creationTime?: string; readonly readyToUse?: boolean };
}

const SNAPSHOT_HINT = 'take one on a server with `k3s etcd-snapshot save`, or set safety.acknowledgeNoSnapshot';

/**
 * A recent etcd snapshot exists before Calico is deleted (there is nothing left to protect once
 * Calico is gone, so a re-sync after the migration passes).
 */
export function checkSnapshot(
  spec: PreflightSpec,
  calicoPresent: boolean,
  snapshots: readonly SnapshotObject[] | undefined,
  now: Date,
): CheckResult {
  const subject = 'etcd';
  if (!calicoPresent) {
    return { outcome: 'PASS', check: 'snapshot', subject, detail: 'Calico is already removed: nothing left to protect' };
  }
  const usable = (snapshots ?? []).filter((s) => s.status?.readyToUse !== false);
  const times = usable
    .map((s) => ({ s, t: Date.parse(s.status?.creationTime ?? s.metadata.creationTimestamp ?? '') }))
    .filter((x) => !Number.isNaN(x.t));
  const newest = times.sort((a, b) => b.t - a.t)[0];
  const ack = spec.snapshot.acknowledged;
  if (!newest) {
    const why = snapshots === undefined ? 'no ETCDSnapshotFile API (k3s without embedded etcd?)' : 'no etcd snapshot in the cluster';
    return ack
      ? { outcome: 'PASS', check: 'snapshot', subject, detail: `${why}; going on without one (safety.acknowledgeNoSnapshot)` }
      : { outcome: 'FAIL', check: 'snapshot', subject, detail: `${why}; ${SNAPSHOT_HINT}` };
  }
  const ageSeconds = Math.round((now.getTime() - newest.t) / 1000);
  const name = newest.s.spec?.snapshotName ?? newest.s.metadata.name;
  const age = ageSeconds < 3600 ? `${Math.round(ageSeconds / 60)}m` : `${(ageSeconds / 3600).toFixed(1)}h`;
  if (ageSeconds <= spec.snapshot.maxAgeSeconds) {
    return { outcome: 'PASS', check: 'snapshot', subject, detail: `${name} is ${age} old` };
  }
  return ack
    ? {
        outcome: 'PASS',
        check: 'snapshot',
        subject,
        detail: `newest snapshot ${name} is ${age} old; going on (safety.acknowledgeNoSnapshot)`,
      }
    : {
        outcome: 'FAIL',
        check: 'snapshot',
        subject,
        detail: `newest snapshot ${name} is ${age} old, more than safety.maxSnapshotAge; ${SNAPSHOT_HINT}`,
      };
}

interface NamedList {
  readonly kind?: string;
  readonly items?: readonly { readonly metadata: { readonly name: string; readonly namespace?: string } }[];
}

/** Calico policies that deleting the CRDs destroys: refused unless acknowledged; listed either way. */
export function checkPolicies(spec: PreflightSpec, lists: readonly (NamedList | undefined)[]): CheckResult {
  const subject = 'crd.projectcalico.org';
  const found = lists.flatMap((l) =>
    (l?.items ?? []).map(
      (i) => `${(l?.kind ?? '').replace(/List$/, '')} ${i.metadata.namespace ? `${i.metadata.namespace}/` : ''}${i.metadata.name}`,
    ),
  );
  if (found.length === 0) {
    return { outcome: 'PASS', check: 'calico-policies', subject, detail: 'no Calico policies, host endpoints or network sets to lose' };
  }
  const shown = found.length > 20 ? `${found.slice(0, 20).join(', ')} and ${found.length - 20} more` : found.join(', ');
  return spec.policies.acknowledged
    ? {
        outcome: 'PASS',
        check: 'calico-policies',
        subject,
        detail: `${found.length} will be destroyed (safety.acknowledgeDroppedPolicies): ${shown}`,
      }
    : {
        outcome: 'FAIL',
        check: 'calico-policies',
        subject,
        detail: `${found.length} would be destroyed with the Calico CRDs: ${shown}; recreate what you need as Kubernetes or Cilium policies, then set safety.acknowledgeDroppedPolicies`,
      };
}

/**
 * AdminNetworkPolicy, BaselineAdminNetworkPolicy and ClusterNetworkPolicy objects the installed
 * Calico enforces: their CRDs are another project's and stay, and so do they, but no Cilium release
 * this tool installs enforces them (1.20 reads ClusterNetworkPolicy only behind a flag it leaves
 * off). Refused unless acknowledged with the Calico policies; listed either way.
 */
export function checkUnenforcedPolicies(spec: PreflightSpec, lists: readonly (NamedList | undefined)[]): CheckResult | undefined {
  if (spec.unenforcedKinds.length === 0) {
    return undefined;
  }
  const subject = 'policy.networking.k8s.io';
  const kinds = spec.unenforcedKinds.map((k) => k.kind).join(', ');
  const found = lists.flatMap((l, i) => (l?.items ?? []).map((item) => `${spec.unenforcedKinds[i]!.kind} ${item.metadata.name}`));
  if (found.length === 0) {
    return {
      outcome: 'PASS',
      check: 'unenforced-policies',
      subject,
      detail: `no ${kinds} objects, which Calico ${spec.calicoVersion} enforces and Cilium will not`,
    };
  }
  const shown = found.length > 20 ? `${found.slice(0, 20).join(', ')} and ${found.length - 20} more` : found.join(', ');
  const what = `${found.length} enforced by Calico ${spec.calicoVersion} stay in the cluster but nothing enforces them once Cilium runs (it implements none of ${kinds} as installed here)`;
  return spec.policies.acknowledged
    ? { outcome: 'PASS', check: 'unenforced-policies', subject, detail: `${what}; going on (safety.acknowledgeDroppedPolicies): ${shown}` }
    : {
        outcome: 'FAIL',
        check: 'unenforced-policies',
        subject,
        detail: `${what}: ${shown}; recreate them as CiliumClusterwideNetworkPolicy or Kubernetes NetworkPolicy, then set safety.acknowledgeDroppedPolicies`,
      };
}

/** The label k3s ServiceLB puts on each of its DaemonSets (k3s pkg/cloudprovider/servicelb.go). */
export const SERVICELB_LABEL = 'svccontroller.k3s.cattle.io/svcname';

/**
 * k3s ServiceLB with a Cilium release that mixes up its addresses: FAIL naming the DaemonSets and
 * the ways out; undefined when the release is not affected.
 */
export function checkServiceLb(
  spec: PreflightSpec,
  daemonSets: readonly { readonly metadata: { readonly name: string; readonly namespace?: string } }[] | undefined,
): CheckResult | undefined {
  const bug = spec.serviceLbBug;
  if (!bug) {
    return undefined;
  }
  const found = (daemonSets ?? []).map((d) => `${d.metadata.namespace ?? ''}/${d.metadata.name}`);
  if (found.length === 0) {
    return {
      outcome: 'PASS',
      check: 'servicelb',
      subject: 'k3s',
      detail: `ServiceLB runs no DaemonSet, so Cilium ${bug.ciliumVersion} is not exposed to ${bug.issue}`,
    };
  }
  const shown = found.length > 5 ? `${found.slice(0, 5).join(', ')} and ${found.length - 5} more` : found.join(', ');
  return {
    outcome: 'FAIL',
    check: 'servicelb',
    subject: 'k3s',
    detail:
      `ServiceLB runs ${shown}: Cilium ${bug.ciliumVersion} files a LoadBalancer on the node's own address and the svclb pods' hostPort under one key, and the hostPort wins ` +
      `(${bug.issue}: traffic through ServiceLB breaks, SSH to the node can be lost); set cilium.version to a release with ${bug.fix} (${bug.fixedIn}), ` +
      'or disable ServiceLB (k3s --disable servicelb) and give LoadBalancer Services their addresses another way',
  };
}

/** The tag of an image reference (`repo:tag@digest` → `tag`), or undefined. */
export function imageTag(image: string): string | undefined {
  const withoutDigest = image.split('@')[0]!;
  const lastSlash = withoutDigest.lastIndexOf('/');
  const colon = withoutDigest.indexOf(':', lastSlash + 1);
  return colon >= 0 ? withoutDigest.slice(colon + 1) : undefined;
}

/**
 * Calico must run at the configured version, or be gone already: a re-sync after a successful
 * migration finds it absent and passes.
 */
export function checkCalico(spec: PreflightSpec, daemonSet: DaemonSetObject | undefined): CheckResult {
  const subject = 'kube-system/calico-node';
  if (!daemonSet) {
    return { outcome: 'PASS', check: 'calico', subject, detail: 'absent (already removed)' };
  }
  const container = daemonSet.spec?.template?.spec?.containers?.find((c) => c.name === 'calico-node');
  const tag = container?.image ? imageTag(container.image) : undefined;
  const ready = `${daemonSet.status?.numberReady ?? 0}/${daemonSet.status?.desiredNumberScheduled ?? 0} ready`;
  if (tag === spec.calicoVersion) {
    return { outcome: 'PASS', check: 'calico', subject, detail: `runs ${tag} (${ready})` };
  }
  return {
    outcome: 'FAIL',
    check: 'calico',
    subject,
    detail: `runs ${tag ?? 'an image without a tag'}, config says ${spec.calicoVersion}; set calico.version to the installed release so the right objects are deleted`,
  };
}

/** Agents take the server flags only when they start, and their node-args never show them. */
export function agentNote(spec: PreflightSpec): CheckResult[] {
  const agents = spec.nodes.filter((n) => n.role === 'agent');
  if (agents.length === 0) {
    return [];
  }
  return [
    {
      outcome: 'INFO',
      check: 'k3s-flags',
      subject: 'agents',
      detail: `${agents.map((a) => a.name).join(', ')} take the server flags only when restarted; restart every agent after the servers`,
    },
  ];
}

/**
 * The installed manifest is the configured one: calico-typha.yaml adds the calico-typha Deployment
 * (with its Service and PodDisruptionBudget), which only `calico.manifest: calico-typha` deletes.
 */
export function checkTypha(spec: PreflightSpec, calicoPresent: boolean, typha: object | undefined): CheckResult {
  const subject = 'kube-system/calico-typha';
  if (!calicoPresent) {
    return { outcome: 'PASS', check: 'calico-typha', subject, detail: 'Calico is already removed' };
  }
  const runs = typha !== undefined;
  if (runs === (spec.calicoManifest === 'calico-typha')) {
    return {
      outcome: 'PASS',
      check: 'calico-typha',
      subject,
      detail: runs ? 'runs, as calico.manifest calico-typha says' : 'absent, as calico.manifest calico says',
    };
  }
  return {
    outcome: 'FAIL',
    check: 'calico-typha',
    subject,
    detail: runs
      ? 'runs, but calico.manifest is calico: the deletion would leave Typha, its Service and its PodDisruptionBudget behind; set calico.manifest: calico-typha'
      : 'is absent, but calico.manifest is calico-typha: this Calico was installed from calico.yaml; set calico.manifest: calico',
  };
}

/** The parts of an IPPool (crd.projectcalico.org/v1) the preflight reads. */
export interface IpPoolObject {
  readonly metadata: { readonly name: string };
  readonly spec?: { readonly cidr?: string };
}

/** The cluster's IPv4 IPPools are `calico.ipPools`: the route flush and its safety rules are reasoned from them. */
export function checkIpPools(spec: PreflightSpec, calicoPresent: boolean, pools: readonly IpPoolObject[] | undefined): CheckResult {
  const subject = 'ippools.crd.projectcalico.org';
  if (!calicoPresent) {
    return { outcome: 'PASS', check: 'calico-ippools', subject, detail: 'Calico is already removed' };
  }
  const live = [...new Set((pools ?? []).map((p) => p.spec?.cidr ?? '').filter((c) => c !== '' && !c.includes(':')))].sort();
  const want = [...new Set(spec.calicoIpPools)].sort();
  if (live.join(' ') === want.join(' ')) {
    return { outcome: 'PASS', check: 'calico-ippools', subject, detail: live.join(', ') };
  }
  return {
    outcome: 'FAIL',
    check: 'calico-ippools',
    subject,
    detail: `the cluster's IPv4 pools are ${live.join(', ') || 'none'}, calico.ipPools says ${want.join(', ')}: what step 110 flushes and keeps is decided from them; set calico.ipPools to the cluster's`,
  };
}
