/**
 * The Cilium agent pod's containers and volumes, as the chart of the chosen release shapes them
 * (its switches in lib/versions/cilium-releases.json); CiliumAgent assembles them into its DaemonSet.
 */
import * as k8s from 'cdk8s-plus-28/lib/imports/k8s.js';
import { imageRef, type PinnedImage } from '../../versions/images.ts';
import type { CiliumVersion } from '../../versions/cilium.ts';
import { script, type PodSwitches } from '../../versions/cilium-releases.ts';

export const CILIUM_CONFIG = 'cilium-config';
/** The agent's health endpoint on every node (the kube-proxy cleanup waits for it). */
export const AGENT_HEALTH_PORT = 9879;

/** What the pod's containers are made from. */
/** What every Cilium workload is made from: the release, its image and the API server's direct address. */
export interface CiliumWorkloadProps {
  readonly version: CiliumVersion;
  /** The workload's image (the release's, possibly from a mirror). */
  readonly image: PinnedImage;
  readonly apiServer: { readonly host: string; readonly port: number };
}

export interface AgentPodProps extends CiliumWorkloadProps {
  /** Envoy runs as its own DaemonSet: the agent shares its sockets directory with it. */
  readonly envoyDaemonSet: boolean;
}

/** The directory through which the agent and a separate Envoy talk. */
export const ENVOY_SOCKETS = '/var/run/cilium/envoy/sockets';

const SPC_T = { level: 's0', type: 'spc_t' };
const FIELD = (fieldPath: string): k8s.EnvVarSource => ({ fieldRef: { apiVersion: 'v1', fieldPath } });
const CONFIG_KEY = (key: string): k8s.EnvVarSource => ({ configMapKeyRef: { name: CILIUM_CONFIG, key, optional: true } });

/** Init containers that need AppArmor unconfined where annotations carry it (the chart's list). */
export const APPARMOR_CONTAINERS = ['cilium-agent', 'clean-cilium-state', 'mount-cgroup', 'apply-sysctl-overwrites'];

const IDENTITY_ENV: readonly k8s.EnvVar[] = [
  { name: 'K8S_NODE_NAME', valueFrom: FIELD('spec.nodeName') },
  { name: 'CILIUM_K8S_NAMESPACE', valueFrom: FIELD('metadata.namespace') },
];
const HOST_TOOL_CAPS: k8s.SecurityContext = {
  seLinuxOptions: SPC_T,
  capabilities: { add: ['SYS_ADMIN', 'SYS_CHROOT', 'SYS_PTRACE'], drop: ['ALL'] },
};
const AGENT_CAPS = [
  'CHOWN',
  'KILL',
  'NET_ADMIN',
  'NET_RAW',
  'IPC_LOCK',
  'SYS_MODULE',
  'SYS_ADMIN',
  'SYS_RESOURCE',
  'DAC_OVERRIDE',
  'FOWNER',
  'SETGID',
  'SETUID',
];

/** Fields every container of the pod shares: the agent image and how it is pulled and reports. */
function containerBase(props: AgentPodProps): Pick<k8s.Container, 'image' | 'imagePullPolicy' | 'terminationMessagePolicy'> {
  return { image: imageRef(props.image), imagePullPolicy: 'IfNotPresent', terminationMessagePolicy: 'FallbackToLogsOnError' };
}

/** The API server address, given directly rather than through the kubernetes Service. */
function apiServerEnv(props: AgentPodProps): k8s.EnvVar[] {
  return [
    { name: 'KUBERNETES_SERVICE_HOST', value: props.apiServer.host },
    { name: 'KUBERNETES_SERVICE_PORT', value: String(props.apiServer.port) },
  ];
}

/** The program of a scripted init container, as the release's chart gives it. */
function scripted(props: AgentPodProps, container: string): Pick<k8s.Container, 'command' | 'args'> {
  const key = props.version.facts.initScripts[container];
  if (key === undefined) {
    throw new Error(`cilium-releases.json: Cilium ${props.version.version} has no script for ${container}`);
  }
  const s = script(key);
  return { command: [...s.command], args: s.args === undefined ? undefined : [...s.args] };
}

/** The init containers, in the chart's order: config, host mounts and sysctls, state cleanup, CNI binaries. */
export function initContainers(props: AgentPodProps): k8s.Container[] {
  const pods = props.version.facts.pods;
  const base = containerBase(props);
  return [
    {
      ...base,
      name: 'config',
      command: [props.version.rules.cli, 'build-config', ...(pods.configInitApiServerUrls ? ['--k8s-api-server-urls='] : [])],
      env: [...IDENTITY_ENV, ...apiServerEnv(props)],
      volumeMounts: [{ name: 'tmp', mountPath: '/tmp' }],
      securityContext: pods.configInitNetAdmin ? { capabilities: { add: ['NET_ADMIN'], drop: ['ALL'] } } : undefined,
    },
    {
      ...base,
      // Mounts the cgroup2 filesystem Cilium attaches to, with the host's own mount tool.
      name: 'mount-cgroup',
      ...scripted(props, 'mount-cgroup'),
      env: [
        { name: 'CGROUP_ROOT', value: '/run/cilium/cgroupv2' },
        { name: 'BIN_PATH', value: '/opt/cni/bin' },
      ],
      volumeMounts: [
        { name: 'hostproc', mountPath: '/hostproc' },
        { name: 'cni-path', mountPath: '/hostbin' },
      ],
      securityContext: HOST_TOOL_CAPS,
    },
    {
      ...base,
      // Writes a sysctl.d override so that systemd does not reset the sysctls Cilium sets (rp_filter).
      name: 'apply-sysctl-overwrites',
      ...scripted(props, 'apply-sysctl-overwrites'),
      env: [{ name: 'BIN_PATH', value: '/opt/cni/bin' }],
      volumeMounts: [
        { name: 'hostproc', mountPath: '/hostproc' },
        { name: 'cni-path', mountPath: '/hostbin' },
      ],
      securityContext: HOST_TOOL_CAPS,
    },
    {
      ...base,
      // Mounts bpffs on the host unless it is mounted already.
      name: 'mount-bpf-fs',
      ...scripted(props, 'mount-bpf-fs'),
      volumeMounts: [{ name: 'bpf-maps', mountPath: '/sys/fs/bpf', mountPropagation: 'Bidirectional' }],
      securityContext: { privileged: true },
    },
    {
      ...base,
      name: 'clean-cilium-state',
      command: ['/init-container.sh'],
      env: [
        { name: 'CILIUM_ALL_STATE', valueFrom: CONFIG_KEY('clean-cilium-state') },
        { name: 'CILIUM_BPF_STATE', valueFrom: CONFIG_KEY('clean-cilium-bpf-state') },
        { name: 'WRITE_CNI_CONF_WHEN_READY', valueFrom: CONFIG_KEY('write-cni-conf-when-ready') },
        ...apiServerEnv(props),
      ],
      volumeMounts: [
        { name: 'bpf-maps', mountPath: '/sys/fs/bpf' },
        { name: 'cilium-cgroup', mountPath: '/run/cilium/cgroupv2', mountPropagation: 'HostToContainer' },
        { name: 'cilium-run', mountPath: '/var/run/cilium' },
      ],
      securityContext: {
        seLinuxOptions: SPC_T,
        capabilities: { add: ['NET_ADMIN', 'SYS_MODULE', 'SYS_ADMIN', 'SYS_RESOURCE'], drop: ['ALL'] },
      },
    },
    {
      ...base,
      name: 'install-cni-binaries',
      command: ['/install-plugin.sh'],
      resources: {
        requests: { cpu: k8s.Quantity.fromString('100m'), memory: k8s.Quantity.fromString('10Mi') },
        limits: pods.installCniLimits ? { cpu: k8s.Quantity.fromString('1'), memory: k8s.Quantity.fromString('1Gi') } : undefined,
      },
      volumeMounts: [{ name: 'cni-path', mountPath: '/host/opt/cni/bin' }],
      securityContext: { seLinuxOptions: SPC_T, capabilities: { drop: ['ALL'] } },
    },
  ];
}

/** An HTTP probe of the agent's local /healthz with the given query headers. */
function healthProbe(pods: PodSwitches, headers: Record<string, string>): k8s.HttpGetAction {
  return {
    host: '127.0.0.1',
    path: '/healthz',
    port: pods.namedHealthPorts ? k8s.IntOrString.fromString('health') : k8s.IntOrString.fromNumber(AGENT_HEALTH_PORT),
    scheme: 'HTTP',
    httpHeaders: Object.entries(headers).map(([name, value]) => ({ name, value })),
  };
}

/** The cilium-agent container: probes, environment, capabilities and host mounts. */
export function agentContainer(props: AgentPodProps): k8s.Container {
  const pods = props.version.facts.pods;
  return {
    ...containerBase(props),
    name: 'cilium-agent',
    command: ['cilium-agent'],
    args: ['--config-dir=/tmp/cilium/config-map'],
    startupProbe: {
      httpGet: healthProbe(pods, { brief: 'true' }),
      initialDelaySeconds: 5,
      periodSeconds: 2,
      failureThreshold: pods.startupFailureThreshold,
      successThreshold: 1,
    },
    livenessProbe: {
      httpGet: healthProbe(pods, {
        brief: 'true',
        ...(pods.livenessRequiresK8s === 'absent' ? {} : { 'require-k8s-connectivity': pods.livenessRequiresK8s }),
      }),
      periodSeconds: 30,
      timeoutSeconds: 5,
      failureThreshold: 10,
      successThreshold: 1,
    },
    readinessProbe: {
      httpGet: healthProbe(pods, { brief: 'true' }),
      periodSeconds: 30,
      timeoutSeconds: 5,
      failureThreshold: 3,
      successThreshold: 1,
    },
    env: [
      ...IDENTITY_ENV,
      { name: 'CILIUM_CLUSTERMESH_CONFIG', value: '/var/lib/cilium/clustermesh/' },
      {
        name: 'GOMEMLIMIT',
        valueFrom: {
          resourceFieldRef: { resource: 'limits.memory', divisor: pods.goMemLimitDivisor ? k8s.Quantity.fromString('1') : undefined },
        },
      },
      ...apiServerEnv(props),
      ...(pods.kubeClientBackoff
        ? [
            { name: 'KUBE_CLIENT_BACKOFF_BASE', value: '1' },
            { name: 'KUBE_CLIENT_BACKOFF_DURATION', value: '120' },
          ]
        : []),
    ],
    // Removes the CNI configuration when the agent stops, so no pod starts without Cilium.
    lifecycle: { preStop: { exec: { command: ['/cni-uninstall.sh'] } } },
    // From 1.19 the probes name the health port, so the container declares it.
    ports: pods.namedHealthPorts
      ? [{ name: 'health', containerPort: AGENT_HEALTH_PORT, hostPort: AGENT_HEALTH_PORT, protocol: 'TCP' }]
      : undefined,
    securityContext: {
      seLinuxOptions: SPC_T,
      capabilities: { add: [...AGENT_CAPS, ...(pods.syslogCapability ? ['SYSLOG'] : [])], drop: ['ALL'] },
    },
    volumeMounts: [
      ...(props.envoyDaemonSet ? [{ name: 'envoy-sockets', mountPath: ENVOY_SOCKETS, readOnly: false }] : []),
      { name: 'host-proc-sys-net', mountPath: '/host/proc/sys/net' },
      { name: 'host-proc-sys-kernel', mountPath: '/host/proc/sys/kernel' },
      { name: 'bpf-maps', mountPath: '/sys/fs/bpf', mountPropagation: 'HostToContainer' },
      { name: 'cilium-run', mountPath: '/var/run/cilium' },
      ...(pods.netnsMount ? [{ name: 'cilium-netns', mountPath: '/var/run/cilium/netns', mountPropagation: 'HostToContainer' }] : []),
      { name: 'etc-cni-netd', mountPath: '/host/etc/cni/net.d' },
      { name: 'clustermesh-secrets', mountPath: '/var/lib/cilium/clustermesh', readOnly: true },
      { name: 'lib-modules', mountPath: '/lib/modules', readOnly: true },
      { name: 'xtables-lock', mountPath: '/run/xtables.lock' },
      { name: 'tmp', mountPath: '/tmp' },
    ],
  };
}

/** A hostPath volume. */
export function hostPath(name: string, path: string, type?: string): k8s.Volume {
  return { name, hostPath: { path, type } };
}

/** A projection of a clustermesh etcd client-certificate Secret under the file names the agent expects. */
function etcdCerts(secret: string, prefix: string): k8s.VolumeProjection {
  return {
    secret: {
      name: secret,
      optional: true,
      items: [
        { key: 'tls.key', path: `${prefix}-etcd-client.key` },
        { key: 'tls.crt', path: `${prefix}-etcd-client.crt` },
        { key: 'ca.crt', path: `${prefix}-etcd-client-ca.crt` },
      ],
    },
  };
}

/** The pod's volumes: scratch space, host paths, and the clustermesh secrets. */
export function volumes(pods: PodSwitches, envoyDaemonSet: boolean): k8s.Volume[] {
  return [
    { name: 'tmp', emptyDir: {} },
    hostPath('cilium-run', '/var/run/cilium', 'DirectoryOrCreate'),
    ...(pods.netnsMount ? [hostPath('cilium-netns', '/var/run/netns', 'DirectoryOrCreate')] : []),
    hostPath('bpf-maps', '/sys/fs/bpf', 'DirectoryOrCreate'),
    hostPath('hostproc', '/proc', 'Directory'),
    hostPath('cilium-cgroup', '/run/cilium/cgroupv2', 'DirectoryOrCreate'),
    hostPath('cni-path', '/opt/cni/bin', 'DirectoryOrCreate'),
    hostPath('etc-cni-netd', '/etc/cni/net.d', 'DirectoryOrCreate'),
    hostPath('lib-modules', '/lib/modules'),
    hostPath('xtables-lock', '/run/xtables.lock', 'FileOrCreate'),
    ...(envoyDaemonSet ? [hostPath('envoy-sockets', ENVOY_SOCKETS, 'DirectoryOrCreate')] : []),
    {
      name: 'clustermesh-secrets',
      projected: {
        defaultMode: 0o400,
        sources: [
          { secret: { name: 'cilium-clustermesh', optional: true } },
          etcdCerts('clustermesh-apiserver-remote-cert', 'common'),
          ...(pods.clustermeshLocalCert ? [etcdCerts('clustermesh-apiserver-local-cert', 'local')] : []),
        ],
      },
    },
    hostPath('host-proc-sys-net', '/proc/sys/net', 'Directory'),
    hostPath('host-proc-sys-kernel', '/proc/sys/kernel', 'Directory'),
  ];
}
