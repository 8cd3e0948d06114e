/**
 * The facts of every Cilium release this tool generates, as its official chart renders them:
 * `cilium-releases.json`, written only by the maintainer procedure (scripts/add-cilium-release.ts,
 * docs/cilium-versions.md "Adding a release"). Facts, never objects: the `cilium-config` defaults,
 * the RBAC rules, the images with digests, and the switches that say how the chart shapes the pods.
 * The constructs in lib/constructs/cilium build the objects from them.
 *
 * The file stores each release line's config once and every release as its changes to that; this
 * module expands them.
 */
import type { PinnedImage } from './images.ts';
import TABLE from './cilium-releases.json' with { type: 'json' };

/** One PolicyRule. */
export interface Rule {
  readonly apiGroups: readonly string[];
  readonly resources: readonly string[];
  readonly resourceNames?: readonly string[];
  readonly verbs: readonly string[];
}

/** A Role or ClusterRole of the chart, bound (under its own name) to one of Cilium's ServiceAccounts. */
export interface RoleFacts {
  readonly kind: 'ClusterRole' | 'Role';
  /** Empty for a ClusterRole. */
  readonly namespace: string;
  readonly name: string;
  /** The ServiceAccount in kube-system its binding names. */
  readonly account: string;
  /** Key into the rule sets. */
  readonly rules: string;
  /** Where the rules differ when the operator does not restart unmanaged pods (`operator.unmanagedPodWatcher.restart: false`). */
  readonly rulesWithoutPodRestart?: string;
}

/** A Deployment's update strategy as the chart renders it. */
export interface Strategy {
  readonly type: string;
  readonly rollingUpdate?: { readonly maxSurge?: string | number; readonly maxUnavailable?: string | number };
}

/** How the chart shapes the agent and operator pods of a release (each a fact read off its render). */
export interface PodSwitches {
  /** AppArmor as the pod's `appArmorProfile` field (on Kubernetes 1.30+), or as annotations only. */
  readonly appArmor: 'field' | 'annotations';
  /** The agent pod's seccomp profile is `Unconfined`. */
  readonly seccompUnconfined: boolean;
  /** The agent pod's `kubectl.kubernetes.io/default-container` annotation. */
  readonly defaultContainerAnnotation: boolean;
  /** The deprecated `serviceAccount` field beside `serviceAccountName`, in the agent and operator pods. */
  readonly serviceAccountField: boolean;
  /** The agent mounts the host's `/var/run/netns`. */
  readonly netnsMount: boolean;
  /** The `config` init container gets NET_ADMIN. */
  readonly configInitNetAdmin: boolean;
  /** The `config` init container is given an empty `--k8s-api-server-urls`. */
  readonly configInitApiServerUrls: boolean;
  /** install-cni-binaries has limits, not only requests. */
  readonly installCniLimits: boolean;
  /** The agent's capabilities include SYSLOG. */
  readonly syslogCapability: boolean;
  /** KUBE_CLIENT_BACKOFF_BASE/DURATION on the agent. */
  readonly kubeClientBackoff: boolean;
  /** GOMEMLIMIT's resourceFieldRef names a divisor. */
  readonly goMemLimitDivisor: boolean;
  /** The operator pod has a RuntimeDefault seccomp profile and a locked-down container. */
  readonly operatorHardened: boolean;
  /** Probes name the health port (the operator then declares it); else they use its number. */
  readonly namedHealthPorts: boolean;
  /** failureThreshold of the agent's startup probe. */
  readonly startupFailureThreshold: number;
  /** The clustermesh Secrets volume also projects the local clustermesh-apiserver certificate. */
  readonly clustermeshLocalCert: boolean;
  /** The liveness probe's `require-k8s-connectivity` header. */
  readonly livenessRequiresK8s: 'absent' | 'true' | 'false';
  /** The operator's tolerations: every taint, or these keys (each `Exists`). */
  readonly operatorTolerations: 'all' | readonly string[];
  /** The operator's update strategy for one replica and for more. */
  readonly operatorStrategy: { readonly one: Strategy; readonly many: Strategy };
}

/** How the chart shapes Envoy when it runs as its own DaemonSet (`envoy.enabled: true`). */
export interface EnvoyFacts {
  /** Key into the bootstrap documents: the `bootstrap-config.json` the chart writes. */
  readonly bootstrap: string;
  /** The cilium-envoy container's arguments. */
  readonly args: readonly string[];
  /** Host of the health probes. */
  readonly probeHost: string;
  /** The startup probe's timeoutSeconds, where the chart sets one. */
  readonly startupProbeTimeout?: number;
  /** The pod template's Prometheus annotations. */
  readonly prometheusAnnotations: boolean;
  /** Node affinity against `cilium.io/no-schedule` and pod affinity to the agent. */
  readonly agentAffinity: boolean;
  /** The headless metrics Service: none, or one whose targetPort is the port's name or its number. */
  readonly metricsService: 'none' | 'name' | 'number';
}

/** How the chart writes the `cilium-config` keys our settings decide. */
export interface ConfigShape {
  /** `tunnel-protocol` is rendered in native mode too. */
  readonly tunnelProtocolInNative: boolean;
  /** `tunnel-protocol` is rendered in tunnel mode (before 1.17 the chart leaves it to the agent's default, vxlan). */
  readonly tunnelProtocolInTunnel: boolean;
  /** `kube-proxy-replacement-healthz-bind-address` is rendered without kube-proxy replacement too. */
  readonly healthzWithoutReplacement: boolean;
  /** `unmanaged-pod-watcher-interval`: seconds as a number, or a duration. */
  readonly watcherInterval: 'seconds' | 'duration';
  /** `direct-routing-skip-unreachable` exists. */
  readonly directRoutingSkipUnreachable: boolean;
}

/** Key → value changes to a ConfigMap's data: keys set, keys removed. */
export interface ConfigChanges {
  readonly set?: Readonly<Record<string, string>>;
  readonly unset?: readonly string[];
}

/** One release, expanded. */
export interface ReleaseFacts {
  readonly version: string;
  readonly images: { readonly agent: PinnedImage; readonly operator: PinnedImage; readonly envoy: PinnedImage };
  /** `cilium-config` as the chart renders it, without the keys our settings decide. */
  readonly config: Readonly<Record<string, string>>;
  /** What keeping kube-proxy (`kubeProxyReplacement: false`) changes in `cilium-config`, besides the keys our settings decide. */
  readonly kubeProxyKeptConfig: ConfigChanges;
  /** What running Envoy as its own DaemonSet changes in `cilium-config`. */
  readonly envoyConfig: ConfigChanges;
  readonly envoy: EnvoyFacts;
  readonly configShape: ConfigShape;
  /** Namespaces the chart creates besides the workloads' own. */
  readonly namespaces: readonly string[];
  readonly roles: readonly RoleFacts[];
  readonly pods: PodSwitches;
  /** The scripted init containers (mount-cgroup, apply-sysctl-overwrites, mount-bpf-fs): container → key into the scripts. */
  readonly initScripts: Readonly<Record<string, string>>;
}

/** An init container's program as the chart gives it. */
export interface Script {
  readonly command: readonly string[];
  readonly args?: readonly string[];
}

/** A release as the file stores it: its config as changes to its line's. */
export interface StoredRelease extends Omit<ReleaseFacts, 'version' | 'config'> {
  readonly config?: ConfigChanges;
}

/** The file. */
export interface ReleaseTable {
  readonly source: string;
  /** The rule sets, by key. */
  readonly rules: Readonly<Record<string, readonly Rule[]>>;
  /** The init containers' scripts, by key. */
  readonly scripts: Readonly<Record<string, Script>>;
  /** Envoy's bootstrap documents, by key. */
  readonly bootstraps: Readonly<Record<string, string>>;
  /** Each line's config: that of its oldest release in the table. */
  readonly lines: Readonly<Record<string, Readonly<Record<string, string>>>>;
  readonly releases: Readonly<Record<string, StoredRelease>>;
}

/** `1.18.12` → `1.18`. */
export function lineOf(version: string): string {
  return version.split('.').slice(0, 2).join('.');
}

/** Versions in release order. */
export function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < 3; i++) {
    if (pa[i] !== pb[i]) {
      return pa[i]! - pb[i]!;
    }
  }
  return 0;
}

/** A ConfigMap's data after changes. */
export function applyChanges(base: Readonly<Record<string, string>>, changes: ConfigChanges | undefined): Record<string, string> {
  const next: Record<string, string> = { ...base, ...changes?.set };
  for (const key of changes?.unset ?? []) {
    delete next[key];
  }
  return next;
}

/** The changes that turn `from` into `to`. */
export function changesBetween(from: Readonly<Record<string, string>>, to: Readonly<Record<string, string>>): ConfigChanges {
  const set = Object.fromEntries(
    Object.keys(to)
      .filter((k) => from[k] !== to[k])
      .sort()
      .map((k) => [k, to[k]!]),
  );
  const unset = Object.keys(from)
    .filter((k) => !(k in to))
    .sort();
  return { ...(Object.keys(set).length > 0 ? { set } : {}), ...(unset.length > 0 ? { unset } : {}) };
}

/** Every release of a table, expanded, oldest first. */
export function expandReleases(table: ReleaseTable): ReleaseFacts[] {
  return Object.keys(table.releases)
    .sort(compareVersions)
    .map((version) => {
      const { config, ...stored } = table.releases[version]!;
      const base = table.lines[lineOf(version)];
      if (base === undefined) {
        throw new Error(`cilium-releases.json: no config for line ${lineOf(version)} (release ${version})`);
      }
      return { version, ...stored, config: applyChanges(base, config) };
    });
}

/** The table as the repository has it. */
export const RELEASE_TABLE = TABLE as unknown as ReleaseTable;

/** The rules of one rule-set key. */
export function ruleSet(key: string, table: ReleaseTable = RELEASE_TABLE): readonly Rule[] {
  const rules = table.rules[key];
  if (rules === undefined) {
    throw new Error(`cilium-releases.json: no rule set ${key}`);
  }
  return rules;
}

/** The Envoy bootstrap document of one key. */
export function bootstrap(key: string, table: ReleaseTable = RELEASE_TABLE): string {
  const found = table.bootstraps[key];
  if (found === undefined) {
    throw new Error(`cilium-releases.json: no bootstrap ${key}`);
  }
  return found;
}

/** The script of one script key. */
export function script(key: string, table: ReleaseTable = RELEASE_TABLE): Script {
  const found = table.scripts[key];
  if (found === undefined) {
    throw new Error(`cilium-releases.json: no script ${key}`);
  }
  return found;
}
