/**
 * The Cilium version table: the only place in the code that knows Cilium versions.
 *
 * Images are those pinned by the official packaged Cilium Helm charts (github.com/cilium/charts at
 * 009b5e95, 2026-08-03), as rendered by `helm template`. Key rules follow the cilium-config
 * option parsing of each release line (see docs/cilium-versions.md "Supported releases").
 */
import type { CiliumLine } from './cilium-config.ts';
import type { PinnedImage } from './images.ts';

/** What differs between release lines, as the agent and the chart of each line behave. */
export interface LineRules {
  /** The debug CLI in the agent image: `cilium-dbg` from 1.15 (`cilium` before, not supported here). */
  readonly cli: 'cilium-dbg';
  /** Values `kube-proxy-replacement` accepts; 1.16 removed strict/partial/disabled (the agent then fails). */
  readonly kubeProxyReplacementValues: readonly string[];
  /** The `tunnel` key: removed in 1.15 (an unknown key is ignored silently, leaving tunnel mode on). */
  readonly acceptsTunnelKey: boolean;
  /** The chart renders `tunnel-protocol`/`tunnel-source-port-range` even in native mode. */
  readonly rendersTunnelProtocol: boolean;
  /** `unmanaged-pod-watcher-interval`: seconds as a number until 1.18, a duration from 1.19. */
  readonly watcherInterval: 'seconds' | 'duration';
  /** Envoy runs as its own DaemonSet by default from 1.16; before, it is embedded in the agent. */
  readonly envoy: 'daemonset' | 'embedded';
  /** Up to 1.17 the chart's operator tolerates every taint; from 1.18 only a narrow list. */
  readonly operatorTolerations: 'all' | 'narrow';
  /** `direct-routing-skip-unreachable` exists (1.16+). */
  readonly directRoutingSkipUnreachable: boolean;
  /**
   * apiVersion of CiliumNodeConfig: v2alpha1 since 1.13, v2 served from 1.16 (cilium/cilium#31721);
   * v2alpha1 is deprecated and due to go (cilium/cilium#40110).
   */
  readonly nodeConfigApiVersion: 'cilium.io/v2alpha1' | 'cilium.io/v2';
  /** How the chart shapes the agent and operator pods on this line. */
  readonly pods: PodRules;
}

/** Per-line details of the agent DaemonSet and operator Deployment. */
export interface PodRules {
  /** AppArmor `Unconfined` as the pod's `appArmorProfile` field (1.16+ charts, on Kubernetes 1.30+); else as annotations. */
  readonly appArmorField: boolean;
  /** The agent pod's `kubectl.kubernetes.io/default-container` annotation (1.18+). */
  readonly defaultContainerAnnotation: boolean;
  /** The agent mounts the host's `/var/run/netns` (1.16+). */
  readonly netnsMount: boolean;
  /** The `config` init container gets NET_ADMIN (1.19+) and an empty `--k8s-api-server-urls` (1.20+). */
  readonly configInit: { readonly netAdmin: boolean; readonly apiServerUrlsFlag: boolean };
  /** Shell of the mount-cgroup and apply-sysctl-overwrites init containers. */
  readonly initShell: 'sh' | 'bash';
  /** install-cni-binaries has limits (1.19+), not only requests. */
  readonly installCniLimits: boolean;
  /** The agent's capabilities include SYSLOG (1.19+). */
  readonly syslogCapability: boolean;
  /** KUBE_CLIENT_BACKOFF_BASE/DURATION on the agent (1.18+). */
  readonly kubeClientBackoff: boolean;
  /** The operator pod has a RuntimeDefault seccomp profile and a locked-down container (1.18+). */
  readonly operatorHardened: boolean;
  /** Namespace cilium-secrets with its TLS-interception Roles (1.17+). */
  readonly secretsNamespace: boolean;
  /** Role cilium-operator-ztunnel (1.19+); from 1.20 it also reads ServiceAccounts. */
  readonly ztunnelRole: boolean;
  readonly ztunnelReadsServiceAccounts: boolean;
  /** Probes name the health port (1.19+; the operator then declares it); before, they use its number. */
  readonly namedHealthPorts: boolean;
  /** failureThreshold of the agent's startup probe (105 until 1.17, 300 from 1.18). */
  readonly startupFailureThreshold: number;
  /** The clustermesh Secrets volume also projects the local clustermesh-apiserver certificate (1.16+). */
  readonly clustermeshLocalCert: boolean;
  /** The liveness probe's `require-k8s-connectivity` header: absent on 1.15, true on 1.16, false from 1.18. */
  readonly livenessRequiresK8s: boolean | undefined;
}

const PODS_1_15: PodRules = {
  appArmorField: false,
  defaultContainerAnnotation: false,
  netnsMount: false,
  configInit: { netAdmin: false, apiServerUrlsFlag: false },
  initShell: 'sh',
  installCniLimits: false,
  syslogCapability: false,
  kubeClientBackoff: false,
  operatorHardened: false,
  secretsNamespace: false,
  ztunnelRole: false,
  ztunnelReadsServiceAccounts: false,
  namedHealthPorts: false,
  startupFailureThreshold: 105,
  clustermeshLocalCert: false,
  livenessRequiresK8s: undefined,
};
const PODS_1_16: PodRules = { ...PODS_1_15, appArmorField: true, netnsMount: true, clustermeshLocalCert: true, livenessRequiresK8s: true };
const PODS_1_17: PodRules = { ...PODS_1_16, secretsNamespace: true };
const PODS_1_18: PodRules = {
  ...PODS_1_17,
  defaultContainerAnnotation: true,
  kubeClientBackoff: true,
  operatorHardened: true,
  startupFailureThreshold: 300,
  livenessRequiresK8s: false,
};
const PODS_1_19: PodRules = {
  ...PODS_1_18,
  configInit: { netAdmin: true, apiServerUrlsFlag: false },
  initShell: 'bash',
  installCniLimits: true,
  syslogCapability: true,
  ztunnelRole: true,
  namedHealthPorts: true,
};
const PODS_1_20: PodRules = { ...PODS_1_19, configInit: { netAdmin: true, apiServerUrlsFlag: true }, ztunnelReadsServiceAccounts: true };

const LEGACY_KPR = ['true', 'false', 'strict', 'partial', 'disabled'];
const BOOLEAN_KPR = ['true', 'false'];

/** The rules of each line. */
export const LINE_RULES: Readonly<Record<CiliumLine, LineRules>> = {
  '1.15': {
    cli: 'cilium-dbg',
    kubeProxyReplacementValues: LEGACY_KPR,
    acceptsTunnelKey: false,
    rendersTunnelProtocol: false,
    watcherInterval: 'seconds',
    envoy: 'embedded',
    operatorTolerations: 'all',
    directRoutingSkipUnreachable: false,
    nodeConfigApiVersion: 'cilium.io/v2alpha1',
    pods: PODS_1_15,
  },
  '1.16': {
    cli: 'cilium-dbg',
    kubeProxyReplacementValues: BOOLEAN_KPR,
    acceptsTunnelKey: false,
    rendersTunnelProtocol: false,
    watcherInterval: 'seconds',
    envoy: 'daemonset',
    operatorTolerations: 'all',
    directRoutingSkipUnreachable: true,
    nodeConfigApiVersion: 'cilium.io/v2',
    pods: PODS_1_16,
  },
  '1.17': {
    cli: 'cilium-dbg',
    kubeProxyReplacementValues: BOOLEAN_KPR,
    acceptsTunnelKey: false,
    rendersTunnelProtocol: true,
    watcherInterval: 'seconds',
    envoy: 'daemonset',
    operatorTolerations: 'all',
    directRoutingSkipUnreachable: true,
    nodeConfigApiVersion: 'cilium.io/v2',
    pods: PODS_1_17,
  },
  '1.18': {
    cli: 'cilium-dbg',
    kubeProxyReplacementValues: BOOLEAN_KPR,
    acceptsTunnelKey: false,
    rendersTunnelProtocol: true,
    watcherInterval: 'seconds',
    envoy: 'daemonset',
    operatorTolerations: 'narrow',
    directRoutingSkipUnreachable: true,
    nodeConfigApiVersion: 'cilium.io/v2',
    pods: PODS_1_18,
  },
  '1.19': {
    cli: 'cilium-dbg',
    kubeProxyReplacementValues: BOOLEAN_KPR,
    acceptsTunnelKey: false,
    rendersTunnelProtocol: true,
    watcherInterval: 'duration',
    envoy: 'daemonset',
    operatorTolerations: 'narrow',
    directRoutingSkipUnreachable: true,
    nodeConfigApiVersion: 'cilium.io/v2',
    pods: PODS_1_19,
  },
  '1.20': {
    cli: 'cilium-dbg',
    kubeProxyReplacementValues: BOOLEAN_KPR,
    acceptsTunnelKey: false,
    rendersTunnelProtocol: true,
    watcherInterval: 'duration',
    envoy: 'daemonset',
    operatorTolerations: 'narrow',
    directRoutingSkipUnreachable: true,
    nodeConfigApiVersion: 'cilium.io/v2',
    pods: PODS_1_20,
  },
};

/** What this tool needs to know about one Cilium release. */
export interface CiliumVersion {
  readonly version: string;
  readonly line: CiliumLine;
  /** Out of upstream maintenance: still generated, with a warning. */
  readonly endOfLife: boolean;
  /** A render of the official chart for the example's values is in the test fixtures. */
  readonly referenceRender: boolean;
  readonly rules: LineRules;
  readonly images: {
    readonly agent: PinnedImage;
    readonly operator: PinnedImage;
    /** Present where the version runs Envoy as its own DaemonSet by default. */
    readonly envoy?: PinnedImage;
  };
}

/** The version used when the config names none: the newest release, and the first without cilium/cilium#44730 (lib/versions/cilium-known-bugs.ts). */
export const DEFAULT_CILIUM_VERSION = '1.20.0';

const ENVOY_1_34 = {
  repository: 'quay.io/cilium/cilium-envoy',
  tag: 'v1.34.12-1767177245-7935d4d711cb6f8020385a50c996b90896e16a71',
  digest: 'sha256:377175048c79d12c129d29e7a56268e1edaad37c96e649e892465c01bf2b4f8f',
};
const ENVOY_1_36 = {
  repository: 'quay.io/cilium/cilium-envoy',
  tag: 'v1.36.9-1782267392-edeb3f2af56c37c407efa1f63f0b32f595399bbc',
  digest: 'sha256:767101fb8a5e38f055778cb43b7aa8eed80450b37f8121effac3d9de9e06dc99',
};

function agent(tag: string, digest: string): PinnedImage {
  return { repository: 'quay.io/cilium/cilium', tag, digest };
}
function operator(tag: string, digest: string): PinnedImage {
  return { repository: 'quay.io/cilium/operator-generic', tag, digest };
}

/** Every supported version, oldest first. */
export const CILIUM_VERSIONS: readonly CiliumVersion[] = [
  {
    version: '1.15.2',
    endOfLife: true,
    line: '1.15',
    referenceRender: true,
    rules: LINE_RULES['1.15'],
    images: {
      agent: agent('v1.15.2', 'sha256:bfeb3f1034282444ae8c498dca94044df2b9c9c8e7ac678e0b43c849f0b31746'),
      operator: operator('v1.15.2', 'sha256:4dd8f67630f45fcaf58145eb81780b677ef62d57632d7e4442905ad3226a9088'),
    },
  },
  {
    version: '1.15.19',
    endOfLife: true,
    line: '1.15',
    referenceRender: false,
    rules: LINE_RULES['1.15'],
    images: {
      agent: agent('v1.15.19', 'sha256:c50d1580194320508dd24d6544a77039fba2ce85458887698486a34769598539'),
      operator: operator('v1.15.19', 'sha256:391c192af8f11a5733bcdc88cc09e2f3768d2c3aa663bf136208e72e07fa80bc'),
    },
  },
  {
    version: '1.16.19',
    endOfLife: true,
    line: '1.16',
    referenceRender: true,
    rules: LINE_RULES['1.16'],
    images: {
      agent: agent('v1.16.19', 'sha256:f0c260e30ef97ce3e45e833e702ab47efbbb1dadd0a394969c0a65553e98fefb'),
      operator: operator('v1.16.19', 'sha256:8879e792c5566f6349b5f2865e07c0dd690eb32638afc4417b51b0ec574fa5f0'),
      envoy: ENVOY_1_34,
    },
  },
  {
    version: '1.17.18',
    endOfLife: true,
    line: '1.17',
    referenceRender: false,
    rules: LINE_RULES['1.17'],
    images: {
      agent: agent('v1.17.18', 'sha256:2f2c611db8de2f9c4846ee80fa3371617218dcd0cce42cf0d7d40b4d06458a23'),
      operator: operator('v1.17.18', 'sha256:ec68d574d2288f2d8cb0ae50778c1a0b08a6165cfcb6ba5bc5595d99ed3f7bda'),
      envoy: ENVOY_1_36,
    },
  },
  {
    version: '1.18.12',
    endOfLife: false,
    line: '1.18',
    referenceRender: true,
    rules: LINE_RULES['1.18'],
    images: {
      agent: agent('v1.18.12', 'sha256:94149589d9b77fe3a78f900121b36fab51b1ede0c4190924e2328facc37de210'),
      operator: operator('v1.18.12', 'sha256:86899c73438812b2761ac6fa435ea4e65f68e70d1ae54ac806fec8805d1ce011'),
      envoy: ENVOY_1_36,
    },
  },
  {
    version: '1.19.6',
    endOfLife: false,
    line: '1.19',
    referenceRender: true,
    rules: LINE_RULES['1.19'],
    images: {
      agent: agent('v1.19.6', 'sha256:0df5b2750b64c49843aba1d649e9eaf61467cb0645ad3171db6f6962c095ac92'),
      operator: operator('v1.19.6', 'sha256:0db4ca4e06969d8904ee036617795d0e9c3228cf7b8d902ba74fc2bb98d2d665'),
      envoy: ENVOY_1_36,
    },
  },
  {
    version: '1.20.0',
    endOfLife: false,
    line: '1.20',
    referenceRender: true,
    rules: LINE_RULES['1.20'],
    images: {
      agent: agent('v1.20.0', 'sha256:383968cd5e8873f7976fa76aa6196045643558f4cc9518a207b9335cb24a0e93'),
      operator: operator('v1.20.0', 'sha256:80744a8cc7c91c2f9e6347629406844eb35d79b30a732c6d41c15b17232a74f3'),
      envoy: {
        repository: 'quay.io/cilium/cilium-envoy',
        tag: 'v1.37.5-1782911245-7cffc778c923f68a77954a53b1a98d6b5353f004',
        digest: 'sha256:583057dd4f7d54cd41efff3c413aa0b148ac201f522e2c3336851fa89c78b039',
      },
    },
  },
];

/** The table entry for a version string, or undefined when it is not supported. */
export function findCiliumVersion(version: string): CiliumVersion | undefined {
  return CILIUM_VERSIONS.find((v) => v.version === version);
}
