/**
 * A Job that works while the pod network is down: host network, the API at its direct address,
 * every taint tolerated, no cluster DNS, files from a ConfigMap. Object names carry a content
 * hash, because a Job's pod template is immutable and a changed Job must be a new Job.
 */
import { Duration } from 'cdk8s';
import { Construct } from 'constructs';
import * as k8s from 'cdk8s-plus-28/lib/imports/k8s.js';
import { hashedName, shortHash } from './content-hash.ts';
import { setFileName } from './output/file-name.ts';
import { LABEL_COMPONENT } from './steps.ts';
import { imageRef, type PinnedImage } from './versions/images.ts';

/** Where the Job's files are mounted. */
export const FILES_DIR = '/etc/cilium-cutover';
const SA_CA = '/var/run/secrets/kubernetes.io/serviceaccount/ca.crt';

export interface HostNetworkJobProps {
  /** Readable name: the object names are `<name>-<hash>`, the file names `job-<name>.yaml`. */
  readonly name: string;
  readonly namespace: string;
  /** Value of `app.kubernetes.io/component` on the Job and its pods. */
  readonly component: string;
  /** The ServiceAccount the pod runs as (its token is mounted). */
  readonly serviceAccountName: string;
  /** The API server address reachable from the host network. */
  readonly apiServer: { readonly host: string; readonly port: number };
  /** `run.attempt`: part of the hash, so bumping it renames (re-runs) the Job. */
  readonly attempt: number;
  readonly image: PinnedImage;
  /** Command and arguments; files are under FILES_DIR. */
  readonly command: readonly string[];
  /** Files mounted read-only under FILES_DIR, from a ConfigMap named like the Job. */
  readonly files: Readonly<Record<string, string>>;
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

/** ConfigMap + Job, named `<name>-<content hash>`. */
export class HostNetworkJob extends Construct {
  /** The Job's object name, with its hash. */
  public readonly jobName: string;
  /** The files ConfigMap's object name, with the hash of the files. */
  public readonly configMapName: string;
  public readonly backoffLimit: number;
  public readonly activeDeadline: Duration;

  public constructor(scope: Construct, id: string, props: HostNetworkJobProps) {
    super(scope, id);
    this.backoffLimit = props.backoffLimit ?? 1;
    this.activeDeadline = props.activeDeadline ?? Duration.minutes(10);
    if (!Number.isInteger(this.backoffLimit) || this.backoffLimit < 0) {
      throw new Error(`'backoffLimit' must be a non-negative integer, got '${this.backoffLimit}'`);
    }
    const labels = { [LABEL_COMPONENT]: props.component };
    const jobSpec = (configMapName: string): k8s.JobSpec => ({
      backoffLimit: this.backoffLimit,
      activeDeadlineSeconds: this.activeDeadline.toSeconds(),
      template: {
        metadata: { labels },
        spec: {
          restartPolicy: 'Never',
          serviceAccountName: props.serviceAccountName,
          automountServiceAccountToken: true,
          enableServiceLinks: false,
          hostNetwork: true,
          // The node's resolver: cluster DNS may be down while these Jobs run.
          dnsPolicy: 'Default',
          // Runs on nodes whatever their taints (not-ready, network-unavailable, CriticalAddonsOnly…).
          tolerations: [{ operator: 'Exists' }],
          securityContext: { seccompProfile: { type: 'RuntimeDefault' } },
          containers: [
            {
              name: props.component,
              image: imageRef(props.image),
              imagePullPolicy: 'IfNotPresent',
              command: [...props.command],
              env: [
                { name: 'NODE_EXTRA_CA_CERTS', value: SA_CA },
                { name: 'KUBERNETES_SERVICE_HOST', value: props.apiServer.host },
                { name: 'KUBERNETES_SERVICE_PORT', value: String(props.apiServer.port) },
              ],
              resources: RESOURCES,
              securityContext: {
                runAsNonRoot: true,
                // The `node` user of the node image.
                runAsUser: 1000,
                runAsGroup: 1000,
                allowPrivilegeEscalation: false,
                readOnlyRootFilesystem: true,
                capabilities: { drop: ['ALL'] },
              },
              volumeMounts: [{ name: 'files', mountPath: FILES_DIR, readOnly: true }],
            },
          ],
          volumes: [{ name: 'files', configMap: { name: configMapName, defaultMode: 0o444 } }],
        },
      },
    });

    // The ConfigMap is named by its content; the Job by everything it runs (the ConfigMap's name
    // stands for the files) plus the attempt, so bumping `run.attempt` renames only Jobs.
    this.configMapName = hashedName(props.name, shortHash({ files: props.files }));
    const spec = jobSpec(this.configMapName);
    this.jobName = hashedName(props.name, shortHash({ namespace: props.namespace, spec, attempt: props.attempt }));

    const configMap = new k8s.KubeConfigMap(this, 'Files', {
      metadata: { name: this.configMapName, namespace: props.namespace, labels },
      data: { ...props.files },
      immutable: true,
    });
    setFileName(configMap, `configmap-${props.name}`);
    const job = new k8s.KubeJob(this, 'Resource', {
      metadata: { name: this.jobName, namespace: props.namespace, labels },
      spec,
    });
    setFileName(job, `job-${props.name}`);
  }
}
