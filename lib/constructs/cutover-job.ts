/**
 * The Jobs of the migration: by default built to work while the pod network is down (host network,
 * the API at its direct address, no cluster DNS), every taint tolerated, their files from a
 * JobFiles ConfigMap. Verification Jobs run on the pod network instead, because that is what they
 * test. The object name carries a content hash, because a Job's pod template is immutable and a
 * changed Job must be a new Job.
 */
import { Duration } from 'cdk8s';
import { Construct } from 'constructs';
import * as k8s from 'cdk8s-plus-28/lib/imports/k8s.js';
import { hashedName, shortHash } from '../content-hash.ts';
import type { JobFiles } from './job-files.ts';
import { setFileName } from './file-name.ts';
import { PlainApiObject } from './plain-api-object.ts';
import { LABEL_COMPONENT } from '../labels.ts';
import { imageRef, type PinnedImage } from '../versions/images.ts';

/** Where the Job's files are mounted. */
export const FILES_DIR = '/etc/cilium-cutover';
const SA_CA = '/var/run/secrets/kubernetes.io/serviceaccount/ca.crt';

/** How much of the host a Job gets. */
export type HostAccess =
  /** Nothing of the host: the pod network and cluster DNS (what the verification Jobs test). */
  | 'none'
  /** Host network only; non-root, no capabilities, read-only root file system. */
  | 'network'
  /** Host network as root without capabilities: to reach a root-owned socket under a read-only host path. */
  | 'network-root'
  /** Host network and PID namespace, privileged, root: to enter the host's namespaces with nsenter. */
  | 'privileged';

/** How a Job reaches the API. */
export interface JobApiAccess {
  readonly serviceAccountName: string;
  /**
   * The API address, set as KUBERNETES_SERVICE_HOST/PORT (a host-network Job uses the direct address).
   * @default - the kubernetes Service, as the kubelet sets it (pod-network Jobs)
   */
  readonly server?: { readonly host: string; readonly port: number };
}

export interface CutoverJobProps {
  /** Readable name: the object name is `<name>-<hash>`, the file name `job-<name>.yaml`. */
  readonly name: string;
  readonly namespace: string;
  /** Value of `app.kubernetes.io/component` on the Job and its pods (also the container name). */
  readonly component: string;
  /** Its step's attempt (`run.retries`): part of the hash, so a retry renames (re-runs) the Job. */
  readonly attempt: number;
  readonly image: PinnedImage;
  /** Command and arguments; files are under FILES_DIR. */
  readonly command: readonly string[];
  /** The files mounted read-only under FILES_DIR. */
  readonly files: JobFiles;
  /**
   * API access: the ServiceAccount whose token is mounted, and the API server address reachable
   * from the host network (set as KUBERNETES_SERVICE_HOST/PORT, instead of the kubernetes Service).
   * @default - no token and no API address: the Job does not talk to the API
   */
  readonly api?: JobApiAccess;
  /**
   * Environment variables (besides the API address), rendered in key order.
   * @default {}
   */
  readonly env?: Readonly<Record<string, string>>;
  /**
   * Environment variables from the pod's own fields (name → fieldPath, e.g. `spec.nodeName`).
   * @default {}
   * @see https://kubernetes.io/docs/concepts/workloads/pods/downward-api/
   */
  readonly fieldEnv?: Readonly<Record<string, string>>;
  /**
   * Host directories mounted read-only (under the same path below `/host`).
   * @default - none
   */
  readonly readOnlyHostPaths?: readonly string[];
  /**
   * Containers run before the main one, for example to pull an image onto the node ahead of time.
   * They get the same resources and security context as the main container.
   * @default - none
   */
  readonly initContainers?: readonly { readonly name: string; readonly image: PinnedImage; readonly command: readonly string[] }[];
  /**
   * Node to run on.
   * @default - any node the scheduler picks
   * @see https://kubernetes.io/docs/concepts/scheduling-eviction/assign-pod-node/#nodename
   */
  readonly nodeName?: string;
  /** Labels the pod's node must carry (nodeSelector): the pod waits for such a node. @default - none */
  readonly nodeLabels?: Readonly<Record<string, string>>;
  /**
   * A node the pod must not run on: the node the Job drains.
   * @default - none
   * @see https://kubernetes.io/docs/concepts/scheduling-eviction/assign-pod-node/#node-affinity
   */
  readonly avoidNode?: string;
  /**
   * How much of the host the pod gets.
   * @default 'network'
   */
  readonly hostAccess?: HostAccess;
  /**
   * Retries of a failed pod before the Job is Failed.
   * @default 1
   * @see https://kubernetes.io/docs/concepts/workloads/controllers/job/#pod-backoff-failure-policy
   */
  readonly backoffLimit?: number;
  /**
   * Time after which the Job is stopped and marked Failed.
   * @default Duration.minutes(10)
   */
  readonly activeDeadline?: Duration;
}

/** Resources of our Jobs' containers, set explicitly so no library default lands in Git. */
const RESOURCES: k8s.ResourceRequirements = {
  requests: { cpu: k8s.Quantity.fromString('50m'), memory: k8s.Quantity.fromString('64Mi') },
  limits: { memory: k8s.Quantity.fromString('256Mi') },
};

/** The security context of every container that needs nothing from the host (also the echo backend's). */
export const UNPRIVILEGED: k8s.SecurityContext = {
  runAsNonRoot: true,
  // The `node` user of the node image.
  runAsUser: 1000,
  runAsGroup: 1000,
  allowPrivilegeEscalation: false,
  readOnlyRootFilesystem: true,
  capabilities: { drop: ['ALL'] },
};

const SECURITY: Readonly<Record<HostAccess, k8s.SecurityContext>> = {
  none: UNPRIVILEGED,
  network: UNPRIVILEGED,
  'network-root': {
    runAsNonRoot: false,
    runAsUser: 0,
    runAsGroup: 0,
    // On an SELinux-enforcing node a container_t process may not connect to the agent's socket;
    // spc_t (as the Cilium chart gives its agent) may.
    seLinuxOptions: { type: 'spc_t', level: 's0' },
    allowPrivilegeEscalation: false,
    readOnlyRootFilesystem: true,
    capabilities: { drop: ['ALL'] },
  },
  // nsenter into PID 1's namespaces needs a privileged root container in the host PID namespace.
  privileged: { privileged: true, runAsUser: 0, readOnlyRootFilesystem: true },
};

function apiEnv(api: JobApiAccess): k8s.EnvVar[] {
  return [
    { name: 'NODE_EXTRA_CA_CERTS', value: SA_CA },
    ...(api.server
      ? [
          { name: 'KUBERNETES_SERVICE_HOST', value: api.server.host },
          { name: 'KUBERNETES_SERVICE_PORT', value: String(api.server.port) },
        ]
      : []),
  ];
}

/** Keeps a pod off one node; `metadata.name` is matched as a field, so no node label is assumed. */
function avoidNodeAffinity(node: string): k8s.Affinity {
  return {
    nodeAffinity: {
      requiredDuringSchedulingIgnoredDuringExecution: {
        nodeSelectorTerms: [{ matchFields: [{ key: 'metadata.name', operator: 'NotIn', values: [node] }] }],
      },
    },
  };
}

/**
 * The API JSON of a Job spec built here: what cdk8s's KubeJob would render, for the fields this
 * construct sets (quantities as their strings; `hostPid` is the API's `hostPID`).
 * test/cutover-job.test.ts compares both for a Job with every option set.
 */
export function jobSpecJson(spec: k8s.JobSpec): Record<string, unknown> {
  return apiJson(spec) as Record<string, unknown>;
}

function apiJson(value: unknown): unknown {
  if (value instanceof k8s.Quantity) {
    return value.value;
  }
  if (Array.isArray(value)) {
    return value.map(apiJson);
  }
  if (value === null || typeof value !== 'object') {
    return value;
  }
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value)) {
    const v = (value as Record<string, unknown>)[key];
    if (v !== undefined) {
      out[key === 'hostPid' ? 'hostPID' : key] = apiJson(v);
    }
  }
  return out;
}

export class CutoverJob extends Construct {
  /** The Job's object name, with its hash. */
  public readonly jobName: string;
  public readonly hostAccess: HostAccess;
  public readonly backoffLimit: number;
  public readonly activeDeadline: Duration;
  /** The typed spec the name's hash covers (the manifest holds its JSON, see jobSpecJson). */
  public readonly spec: k8s.JobSpec;

  public constructor(scope: Construct, id: string, props: CutoverJobProps) {
    super(scope, id);
    this.hostAccess = props.hostAccess ?? 'network';
    this.backoffLimit = props.backoffLimit ?? 1;
    this.activeDeadline = props.activeDeadline ?? Duration.minutes(10);
    if (!Number.isInteger(this.backoffLimit) || this.backoffLimit < 0) {
      throw new Error(`'backoffLimit' must be a non-negative integer, got '${this.backoffLimit}'`);
    }
    if (props.files.namespace !== props.namespace) {
      throw new Error(
        `'files' is in namespace '${props.files.namespace}', the Job in '${props.namespace}'; a pod mounts ConfigMaps of its own namespace only`,
      );
    }
    const labels = { [LABEL_COMPONENT]: props.component };
    const hostPaths = (props.readOnlyHostPaths ?? []).map((path) => ({ path, name: `host${path.replace(/\//g, '-')}` }));
    const env: k8s.EnvVar[] = [
      ...Object.entries(props.env ?? {})
        .sort(([a], [b]) => (a < b ? -1 : 1))
        .map(([name, value]) => ({ name, value })),
      ...Object.entries(props.fieldEnv ?? {})
        .sort(([a], [b]) => (a < b ? -1 : 1))
        .map(([name, fieldPath]) => ({ name, valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath } } })),
    ];
    const spec: k8s.JobSpec = {
      backoffLimit: this.backoffLimit,
      activeDeadlineSeconds: this.activeDeadline.toSeconds(),
      template: {
        metadata: { labels },
        spec: {
          // Fields set to undefined are left out of the manifest. No conditional spreads here: they
          // would hide misspelt field names from the type check.
          restartPolicy: 'Never',
          nodeName: props.nodeName,
          nodeSelector: props.nodeLabels === undefined ? undefined : { ...props.nodeLabels },
          affinity: props.avoidNode === undefined ? undefined : avoidNodeAffinity(props.avoidNode),
          serviceAccountName: props.api?.serviceAccountName,
          automountServiceAccountToken: props.api !== undefined,
          enableServiceLinks: false,
          // Not `false`: the server does not store a false or 0 under omitempty, and such a field
          // makes two server-side appliers of the same file conflict (kubernetes/kubernetes#128924).
          hostNetwork: this.hostAccess !== 'none' ? true : undefined,
          hostPid: this.hostAccess === 'privileged' ? true : undefined,
          // Host-network Jobs use the node's resolver: cluster DNS may be down while they run.
          dnsPolicy: this.hostAccess === 'none' ? 'ClusterFirst' : 'Default',
          // Runs on nodes whatever their taints (not-ready, network-unavailable, CriticalAddonsOnly…).
          tolerations: [{ operator: 'Exists' }],
          securityContext: { seccompProfile: { type: this.hostAccess === 'privileged' ? 'Unconfined' : 'RuntimeDefault' } },
          containers: [
            {
              name: props.component,
              image: imageRef(props.image),
              imagePullPolicy: 'IfNotPresent',
              command: [...props.command],
              env: props.api || env.length > 0 ? [...(props.api ? apiEnv(props.api) : []), ...env] : undefined,
              resources: RESOURCES,
              securityContext: SECURITY[this.hostAccess],
              volumeMounts: [
                { name: 'files', mountPath: FILES_DIR, readOnly: true },
                ...hostPaths.map((h) => ({ name: h.name, mountPath: `/host${h.path}`, readOnly: true })),
              ],
            },
          ],
          initContainers: props.initContainers?.map((c) => ({
            name: c.name,
            image: imageRef(c.image),
            imagePullPolicy: 'IfNotPresent',
            command: [...c.command],
            resources: RESOURCES,
            securityContext: SECURITY[this.hostAccess],
          })),
          volumes: [
            { name: 'files', configMap: { name: props.files.configMapName, defaultMode: 0o444 } },
            ...hostPaths.map((h) => ({ name: h.name, hostPath: { path: h.path, type: 'Directory' } })),
          ],
        },
      },
    };
    this.spec = spec;
    this.jobName = hashedName(props.name, shortHash({ namespace: props.namespace, spec, attempt: props.attempt }));
    // The typed spec above is what the name's hash covers; the manifest is its JSON.
    const job = new PlainApiObject(this, 'Resource', {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name: this.jobName, namespace: props.namespace, labels },
      spec: jobSpecJson(spec),
    });
    setFileName(job, `job-${props.name}`);
  }
}
