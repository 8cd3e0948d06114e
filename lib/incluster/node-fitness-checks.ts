/**
 * Whether each node can take Cilium: no resource pressure, the configured kubelet minor, a kernel
 * the release runs on, and on hetzner-vswitch an address on the vSwitch. Plain functions over
 * Node objects, called by checkNode (preflight-checks.ts). Dependency-free.
 */
import type { CheckResult } from './shared/report.ts';

/** The parts of a Node the preflight reads. */
export interface NodeObject {
  readonly metadata: { readonly name: string; readonly annotations?: Readonly<Record<string, string>> };
  readonly spec?: { readonly providerID?: string; readonly podCIDR?: string };
  readonly status?: {
    readonly conditions?: readonly {
      readonly type: string;
      readonly status: string;
      readonly reason?: string;
      readonly message?: string;
    }[];
    readonly addresses?: readonly { readonly type: string; readonly address: string }[];
    readonly nodeInfo?: { readonly kernelVersion?: string; readonly osImage?: string; readonly kubeletVersion?: string };
  };
}

function ipNumber(ip: string): number {
  return ip.split('.').reduce((a, p) => a * 256 + Number(p), 0);
}

/** True when the network `inner` lies inside `outer` (both CIDRs). */
export function cidrWithin(inner: string, outer: string): boolean {
  const [ib, ip] = inner.split('/');
  const [ob, op] = outer.split('/');
  const first = ipNumber(ib!);
  const last = first + 2 ** (32 - Number(ip)) - 1;
  const oFirst = ipNumber(ob!);
  return Number(ip) >= Number(op) && first >= oFirst && last <= oFirst + 2 ** (32 - Number(op)) - 1;
}

/** The kernel a Cilium release line needs (lib/versions/cilium.ts LINE_RULES). */
export interface KernelMinimum {
  /** The Cilium release line, `1.20`. */
  readonly ciliumLine: string;
  /** `5.10` or `4.19.57`. */
  readonly version: string;
  /** RHEL-family releases (osImage `<name> <major>.<minor>`) at or above which a 4.18 kernel is enough. */
  readonly rhel?: { readonly major: number; readonly minor: number };
}

/** The conditions under which the kubelet turns away new pods and evicts running ones (eviction manager). */
const PRESSURE = ['DiskPressure', 'MemoryPressure', 'PIDPressure'] as const;

/** No resource pressure: the kubelet would refuse the migration's Jobs there, or evict them. */
export function checkPressure(subject: string, node: NodeObject): CheckResult {
  const under = PRESSURE.filter((type) => node.status?.conditions?.some((c) => c.type === type && c.status === 'True'));
  return under.length === 0
    ? { outcome: 'PASS', check: 'node-pressure', subject, detail: 'no disk, memory or PID pressure' }
    : {
        outcome: 'FAIL',
        check: 'node-pressure',
        subject,
        detail: `${under.join(', ')}: the kubelet turns away the migration's pods there and evicts running ones; free the resource first`,
      };
}

/** `v1.32.5+k3s1` → `v1.32`. */
export function kubeletMinor(version: string | undefined): string | undefined {
  return /^(v\d+\.\d+)\./.exec(version ?? '')?.[1];
}

/** The kubelet runs the configured minor: the agent DaemonSet is rendered for it (AppArmor as a field from v1.30). */
export function checkKubelet(kubernetesVersion: string, subject: string, node: NodeObject): CheckResult {
  const version = node.status?.nodeInfo?.kubeletVersion;
  const minor = kubeletMinor(version);
  return minor === kubernetesVersion
    ? { outcome: 'PASS', check: 'kubelet', subject, detail: version! }
    : {
        outcome: 'FAIL',
        check: 'kubelet',
        subject,
        detail: `runs ${version ?? 'an unknown kubelet version'}, cluster.kubernetesVersion says ${kubernetesVersion}: the Cilium DaemonSets are rendered for that version; set it to what the nodes run, or finish the k3s upgrade first`,
      };
}

/** `5.15.0-125-generic` → [5, 15, 0]; `4.19.57` stays. */
function kernelNumbers(version: string): number[] | undefined {
  const match = /^(\d+)\.(\d+)(?:\.(\d+))?/.exec(version);
  return match ? [Number(match[1]), Number(match[2]), Number(match[3] ?? 0)] : undefined;
}

function atLeast(have: readonly number[], want: readonly number[]): boolean {
  for (let i = 0; i < want.length; i++) {
    if ((have[i] ?? 0) !== want[i]) {
      return (have[i] ?? 0) > want[i]!;
    }
  }
  return true;
}

/** The RHEL family: Red Hat Enterprise Linux and its rebuilds, as their os-release PRETTY_NAME starts. */
const RHEL_FAMILY = /^(Red Hat Enterprise Linux|Rocky Linux|AlmaLinux|Oracle Linux Server|CentOS Stream)\D*(\d+)(?:\.(\d+))?/;

/**
 * The node's kernel is one the Cilium release runs on. The agent no longer checks it itself
 * (cilium/cilium#30869), so an older kernel fails only once the agents start, after Calico is gone.
 */
export function checkKernel(min: KernelMinimum, subject: string, node: NodeObject): CheckResult {
  const kernel = node.status?.nodeInfo?.kernelVersion ?? '';
  const os = node.status?.nodeInfo?.osImage ?? '';
  const have = kernelNumbers(kernel);
  const want = kernelNumbers(min.version)!;
  const on = `${kernel || 'an unreported kernel'}${os ? ` (${os})` : ''}`;
  if (have && atLeast(have, want)) {
    return { outcome: 'PASS', check: 'kernel', subject, detail: `${on}, Cilium ${min.ciliumLine} needs ${min.version}` };
  }
  const rhel = RHEL_FAMILY.exec(os);
  if (
    min.rhel &&
    rhel &&
    have &&
    have[0] === 4 &&
    have[1] === 18 &&
    // CentOS Stream names no minor: it runs ahead of the newest RHEL minor of its major.
    atLeast([Number(rhel[2]), rhel[3] === undefined ? Number.MAX_SAFE_INTEGER : Number(rhel[3])], [min.rhel.major, min.rhel.minor])
  ) {
    return {
      outcome: 'PASS',
      check: 'kernel',
      subject,
      detail: `${on}: a RHEL ${min.rhel.major}.${min.rhel.minor}+ kernel, which Cilium ${min.ciliumLine} accepts in place of ${min.version}`,
    };
  }
  return {
    outcome: 'FAIL',
    check: 'kernel',
    subject,
    detail: `${on} is older than ${min.version}, the least Cilium ${min.ciliumLine} runs on${min.rhel ? ` (or 4.18 on RHEL ${min.rhel.major}.${min.rhel.minor}+)` : ''}: its agents would fail only after Calico is deleted; upgrade the kernel, or choose an older cilium.version whose line supports it`,
  };
}

/** hetzner-vswitch: the node's InternalIP is on the vSwitch (or, with cloud servers, may be a cloud server's). */
export function checkVSwitchNode(
  vSwitch: { readonly subnet: string; readonly cloudServers: boolean },
  subject: string,
  internal: readonly string[],
): CheckResult {
  const onSwitch = internal.filter((ip) => cidrWithin(`${ip}/32`, vSwitch.subnet));
  if (onSwitch.length > 0) {
    return {
      outcome: 'PASS',
      check: 'vswitch-node',
      subject,
      detail: `InternalIP ${onSwitch[0]} is in the vSwitch subnet ${vSwitch.subnet}`,
    };
  }
  if (vSwitch.cloudServers) {
    return {
      outcome: 'INFO',
      check: 'vswitch-node',
      subject,
      detail: `InternalIP ${internal.join(', ') || 'none'} is outside the vSwitch subnet ${vSwitch.subnet}: a cloud server, reached through the Hetzner network's routes`,
    };
  }
  return {
    outcome: 'FAIL',
    check: 'vswitch-node',
    subject,
    detail: `InternalIP ${internal.join(', ') || 'none'} is outside the vSwitch subnet ${vSwitch.subnet}: Cilium's direct routes would point off the vSwitch; start k3s with --node-ip on the vSwitch interface`,
  };
}
