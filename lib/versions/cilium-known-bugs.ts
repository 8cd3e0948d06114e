/**
 * Cilium bugs that break a k3s cluster this tool migrates, by the releases they affect. The
 * preflight refuses an affected release where the bug's trigger is on the cluster.
 */

/** What the preflight says about a known bug: upstream issue and fix, and the releases with the fix. */
export interface KnownBug {
  readonly issue: string;
  readonly fix: string;
  readonly fixedIn: string;
}

/**
 * k3s ServiceLB gives a LoadBalancer Service the node's own address, and its svclb pods hold the
 * Service's port as a hostPort on every node address: Cilium's load balancer files both under one
 * BPF key, and the hostPort entry overwrites the LoadBalancer one (Ingress through ServiceLB
 * breaks; on 1.19, SSH to the node was lost). Reported on 1.18.1 (cilium/cilium#44730); fixed by
 * cilium/cilium#45314, merged into main before the v1.20 branch (so in 1.20.0) and backported to
 * 1.19.7 (its release notes: backport PR cilium/cilium#47414); not backported to 1.18 (absent from
 * the 1.18.13 and 1.18.14 notes). Lines before 1.18 ran the older load-balancer code, for which no
 * such report exists.
 */
export function serviceLbCollision(version: string): KnownBug | undefined {
  const [major, minor, patch] = version.split('.').map(Number) as [number, number, number];
  const affected = major === 1 && (minor === 18 || (minor === 19 && patch < 7));
  return affected ? { issue: 'cilium/cilium#44730', fix: 'cilium/cilium#45314', fixedIn: '1.19.7 and 1.20.0' } : undefined;
}
