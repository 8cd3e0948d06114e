/**
 * Reads the facts of one Cilium release off its chart's renders: the `cilium-config` defaults, the
 * RBAC, the images, and the switches that say how the chart shapes the pods. A render of a shape
 * these readers do not know is refused, so a new release never slips in half-read.
 */
import type {
  ConfigChanges,
  EnvoyFacts,
  PodSwitches,
  ReleaseFacts,
  RoleFacts,
  Rule,
  Script,
  Strategy,
} from '../../lib/versions/cilium-releases.ts';
import { changesBetween } from '../../lib/versions/cilium-releases.ts';
import type { PinnedImage } from '../../lib/versions/images.ts';
import { VALUE_KEYS } from '../../lib/constructs/cilium/config-data.ts';

// Parsed YAML of a render.
type Any = any;

/** A release's facts with its rules and scripts inline, before the table shares them. */
export interface Extracted extends Omit<ReleaseFacts, 'roles' | 'initScripts' | 'envoy'> {
  readonly roles: readonly (Omit<RoleFacts, 'rules' | 'rulesWithoutPodRestart'> & {
    readonly rules: readonly Rule[];
    readonly rulesWithoutPodRestart?: readonly Rule[];
  })[];
  readonly initScripts: Readonly<Record<string, Script>>;
  readonly envoy: Omit<EnvoyFacts, 'bootstrap'> & { readonly bootstrap: string };
}

/** The renders one release's facts are read from. */
export interface Renders {
  /** The reference values: Envoy embedded, Hubble off, two operator replicas. */
  readonly base: readonly Any[];
  /** The same with one operator replica. */
  readonly oneReplica: readonly Any[];
  /** The same with Envoy as its own DaemonSet. */
  readonly envoy: readonly Any[];
  /** The same without kube-proxy replacement. */
  readonly kubeProxyKept: readonly Any[];
  /** The same in tunnel mode. */
  readonly tunnel: readonly Any[];
  /** The same with the operator not restarting unmanaged pods. */
  readonly noPodRestart: readonly Any[];
}

/** The init containers whose program is a script of the chart's. */
export const SCRIPTED_INITS = ['mount-cgroup', 'apply-sysctl-overwrites', 'mount-bpf-fs'];

function fail(version: string, what: string): never {
  throw new Error(`Cilium ${version}: ${what}; the constructs do not know this shape (see docs/cilium-versions.md "Adding a release")`);
}

function find(objects: readonly Any[], kind: string, name: string): Any {
  return objects.find((o) => o.kind === kind && o.metadata?.name === name);
}

/** `repository:tag@digest` → its parts. */
export function pinned(version: string, ref: string): PinnedImage {
  const m = /^(?<repository>[^@]+):(?<tag>[^:@]+)@(?<digest>sha256:[0-9a-f]{64})$/.exec(ref);
  if (m === null) {
    fail(version, `image ${ref} is not pinned by tag and digest`);
  }
  return { repository: m.groups!.repository!, tag: m.groups!.tag!, digest: m.groups!.digest! };
}

function strategy(version: string, objects: readonly Any[]): Strategy {
  const s = find(objects, 'Deployment', 'cilium-operator')?.spec?.strategy;
  if (s === undefined) {
    fail(version, 'the operator Deployment has no strategy');
  }
  return s as Strategy;
}

function operatorTolerations(version: string, tolerations: readonly Any[]): 'all' | string[] {
  if (tolerations.length === 1 && tolerations[0].operator === 'Exists' && Object.keys(tolerations[0]).length === 1) {
    return 'all';
  }
  for (const t of tolerations) {
    if (typeof t.key !== 'string' || t.operator !== 'Exists' || Object.keys(t).length !== 2) {
      fail(version, `operator toleration ${JSON.stringify(t)}`);
    }
  }
  return tolerations.map((t) => t.key as string);
}

function podSwitches(version: string, renders: Renders): PodSwitches {
  const ds = find(renders.base, 'DaemonSet', 'cilium');
  const op = find(renders.base, 'Deployment', 'cilium-operator');
  if (ds === undefined || op === undefined) {
    fail(version, 'no cilium DaemonSet or cilium-operator Deployment');
  }
  const pod = ds.spec.template.spec;
  const init = (name: string): Any => pod.initContainers.find((c: Any) => c.name === name) ?? fail(version, `no init container ${name}`);
  const agent = pod.containers[0];
  const env = (name: string): Any => agent.env.find((e: Any) => e.name === name);
  const header = agent.livenessProbe.httpGet.httpHeaders?.find((h: Any) => h.name === 'require-k8s-connectivity')?.value;
  const port = agent.startupProbe.httpGet.port;
  const opPod = op.spec.template.spec;
  return {
    appArmor: pod.securityContext?.appArmorProfile?.type === 'Unconfined' ? 'field' : 'annotations',
    seccompUnconfined: pod.securityContext?.seccompProfile?.type === 'Unconfined',
    defaultContainerAnnotation: ds.spec.template.metadata.annotations?.['kubectl.kubernetes.io/default-container'] === 'cilium-agent',
    serviceAccountField: pod.serviceAccount !== undefined && opPod.serviceAccount !== undefined,
    netnsMount: pod.volumes.some((v: Any) => v.name === 'cilium-netns'),
    configInitNetAdmin: (init('config').securityContext?.capabilities?.add ?? []).includes('NET_ADMIN'),
    configInitApiServerUrls: init('config').command.includes('--k8s-api-server-urls='),
    installCniLimits: init('install-cni-binaries').resources?.limits !== undefined,
    syslogCapability: agent.securityContext.capabilities.add.includes('SYSLOG'),
    kubeClientBackoff: env('KUBE_CLIENT_BACKOFF_BASE') !== undefined,
    goMemLimitDivisor: env('GOMEMLIMIT')?.valueFrom?.resourceFieldRef?.divisor !== undefined,
    operatorHardened: opPod.securityContext?.seccompProfile?.type === 'RuntimeDefault',
    namedHealthPorts: port === 'health' ? true : port === 9879 ? false : fail(version, `agent health port ${port}`),
    startupFailureThreshold: agent.startupProbe.failureThreshold,
    clustermeshLocalCert: pod.volumes
      .find((v: Any) => v.name === 'clustermesh-secrets')
      .projected.sources.some((s: Any) => s.secret?.name === 'clustermesh-apiserver-local-cert'),
    livenessRequiresK8s:
      header === undefined ? 'absent' : header === 'true' || header === 'false' ? header : fail(version, `liveness header ${header}`),
    operatorTolerations: operatorTolerations(version, opPod.tolerations),
    operatorStrategy: { one: strategy(version, renders.oneReplica), many: strategy(version, renders.base) },
  };
}

function envoyFacts(version: string, objects: readonly Any[]): Extracted['envoy'] {
  const ds = find(objects, 'DaemonSet', 'cilium-envoy') ?? fail(version, 'the Envoy render has no cilium-envoy DaemonSet');
  const cm = find(objects, 'ConfigMap', 'cilium-envoy-config') ?? fail(version, 'the Envoy render has no cilium-envoy-config');
  const service = find(objects, 'Service', 'cilium-envoy');
  const pod = ds.spec.template.spec;
  const c = pod.containers[0];
  const hosts = new Set(['startupProbe', 'livenessProbe', 'readinessProbe'].map((p) => c[p].httpGet.host));
  if (hosts.size !== 1) {
    fail(version, `the Envoy probes use different hosts: ${[...hosts].join(', ')}`);
  }
  const annotations = ds.spec.template.metadata.annotations ?? {};
  const targetPort = service?.spec.ports[0].targetPort;
  return {
    bootstrap: cm.data['bootstrap-config.json'] ?? fail(version, 'cilium-envoy-config has no bootstrap-config.json'),
    args: c.args,
    probeHost: [...hosts][0],
    ...(c.startupProbe.timeoutSeconds === undefined ? {} : { startupProbeTimeout: c.startupProbe.timeoutSeconds }),
    prometheusAnnotations: annotations['prometheus.io/scrape'] === 'true',
    agentAffinity: pod.affinity?.podAffinity !== undefined,
    metricsService: service === undefined ? 'none' : typeof targetPort === 'string' ? 'name' : 'number',
  };
}

function roles(version: string, objects: readonly Any[]): Extracted['roles'] {
  return objects
    .filter((o) => o.kind === 'ClusterRole' || o.kind === 'Role')
    .map((role) => {
      const binding = objects.find(
        (o) =>
          o.kind === `${role.kind}Binding` && o.roleRef?.name === role.metadata.name && o.metadata.namespace === role.metadata.namespace,
      );
      const subjects = binding?.subjects ?? [];
      if (binding?.metadata.name !== role.metadata.name || subjects.length !== 1 || subjects[0].namespace !== 'kube-system') {
        fail(version, `${role.kind} ${role.metadata.name} is not bound under its own name to one ServiceAccount in kube-system`);
      }
      return {
        kind: role.kind,
        namespace: role.metadata.namespace ?? '',
        name: role.metadata.name,
        account: subjects[0].name,
        rules: role.rules.map((r: Any) => Object.fromEntries(Object.entries(r).filter(([, v]) => v !== undefined))),
      };
    });
}

/** The roles, each with its rules for an operator that does not restart pods where those differ. */
function withoutPodRestart(version: string, base: Extracted['roles'], other: Extracted['roles']): Extracted['roles'] {
  const key = (r: { kind: string; namespace: string; name: string }) => `${r.kind}/${r.namespace}/${r.name}`;
  if (base.map(key).join() !== other.map(key).join()) {
    fail(version, 'not restarting unmanaged pods changes which roles the chart renders');
  }
  return base.map((role, i) => {
    const rules = other[i]!.rules;
    return JSON.stringify(rules) === JSON.stringify(role.rules) ? role : { ...role, rulesWithoutPodRestart: rules };
  });
}

function configData(version: string, objects: readonly Any[]): Record<string, string> {
  const data = find(objects, 'ConfigMap', 'cilium-config')?.data;
  if (data === undefined) {
    fail(version, 'no cilium-config ConfigMap');
  }
  return Object.fromEntries(Object.entries(data as Record<string, unknown>).map(([k, v]) => [k, v === null ? '' : String(v)]));
}

/** The facts of one release from its renders; a render these readers cannot read is refused. */
export function extractRelease(version: string, renders: Renders): Extracted {
  try {
    return readRelease(version, renders);
  } catch (err) {
    if (err instanceof TypeError) {
      fail(version, `a part of the render is missing or shaped differently (${err.message})`);
    }
    throw err;
  }
}

function readRelease(version: string, renders: Renders): Extracted {
  const full = configData(version, renders.base);
  const withoutValueKeys = (data: Record<string, string>) =>
    Object.fromEntries(Object.entries(data).filter(([k]) => !(VALUE_KEYS as readonly string[]).includes(k)));
  const config = withoutValueKeys(full);
  const kubeProxyKept = configData(version, renders.kubeProxyKept);
  const tunnel = configData(version, renders.tunnel);
  const envoyConfig: ConfigChanges = changesBetween(full, configData(version, renders.envoy));
  const ds = find(renders.base, 'DaemonSet', 'cilium');
  const envoyDs = find(renders.envoy, 'DaemonSet', 'cilium-envoy') ?? fail(version, 'the Envoy render has no cilium-envoy DaemonSet');
  const operator = find(renders.base, 'Deployment', 'cilium-operator');
  const watcher = full['unmanaged-pod-watcher-interval'] ?? fail(version, 'no unmanaged-pod-watcher-interval');
  return {
    version,
    images: {
      agent: pinned(version, ds.spec.template.spec.containers[0].image),
      operator: pinned(version, operator.spec.template.spec.containers[0].image),
      envoy: pinned(version, envoyDs.spec.template.spec.containers[0].image),
    },
    config,
    kubeProxyKeptConfig: changesBetween(config, withoutValueKeys(kubeProxyKept)),
    envoyConfig,
    envoy: envoyFacts(version, renders.envoy),
    configShape: {
      tunnelProtocolInNative: 'tunnel-protocol' in full,
      tunnelProtocolInTunnel:
        tunnel['routing-mode'] === 'tunnel' ? 'tunnel-protocol' in tunnel : fail(version, 'the tunnel render is not in tunnel mode'),
      healthzWithoutReplacement: 'kube-proxy-replacement-healthz-bind-address' in kubeProxyKept,
      watcherInterval: /^\d+$/.test(watcher)
        ? 'seconds'
        : /^\d+s$/.test(watcher)
          ? 'duration'
          : fail(version, `watcher interval ${watcher}`),
      directRoutingSkipUnreachable: 'direct-routing-skip-unreachable' in full,
    },
    namespaces: renders.base
      .filter((o) => o.kind === 'Namespace')
      .map((o) => o.metadata.name as string)
      .sort(),
    roles: withoutPodRestart(version, roles(version, renders.base), roles(version, renders.noPodRestart)),
    pods: podSwitches(version, renders),
    initScripts: Object.fromEntries(
      SCRIPTED_INITS.map((name) => {
        const c = ds.spec.template.spec.initContainers.find((i: Any) => i.name === name) ?? fail(version, `no init container ${name}`);
        return [name, { command: c.command, ...(c.args === undefined ? {} : { args: c.args }) }];
      }),
    ),
  };
}
