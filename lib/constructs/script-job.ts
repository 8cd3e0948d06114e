/**
 * The shape most steps share: one bundled in-cluster script and the JSON spec it reads, in a
 * JobFiles ConfigMap, run by a CutoverJob under a ScopedServiceAccount at the direct API address
 * (the kubernetes Service for a Job on the pod network).
 */
import { Construct } from 'constructs';
import { bundleInCluster, type InClusterEntry } from './bundle.ts';
import type { ResolvedConfig } from '../config/resolve.ts';
import { CutoverJob, FILES_DIR, type CutoverJobProps } from './cutover-job.ts';
import { JobFiles } from './job-files.ts';
import { StepChart } from '../step.ts';
import type { ScopedServiceAccount } from './scoped-service-account.ts';

export interface ScriptJobProps extends Omit<
  CutoverJobProps,
  'name' | 'namespace' | 'component' | 'attempt' | 'image' | 'command' | 'files' | 'api'
> {
  /** Namespace of the Job and its ConfigMap.
   * @default - run.namespace */
  readonly namespace?: string;
  /** Readable name of the Job and its ConfigMap. */
  readonly name: string;
  /** Base name of the two files, `<script>.mjs` and `<script>.json`.
   * @default - the name */
  readonly script?: string;
  /** `app.kubernetes.io/component` of the Job.
   * @default - the name */
  readonly component?: string;
  readonly entry: InClusterEntry;
  /** What the script reads from `<name>.json`. */
  readonly spec: unknown;
  readonly account: ScopedServiceAccount;
}

export class ScriptJob extends Construct {
  public readonly job: CutoverJob;
  public readonly files: JobFiles;

  public constructor(scope: Construct, id: string, config: ResolvedConfig, props: ScriptJobProps) {
    super(scope, id);
    const { name, script = props.name, component = props.name, entry, spec, account, namespace = config.run.namespace, ...job } = props;
    this.files = new JobFiles(this, 'Files', {
      name,
      namespace,
      component,
      files: { [`${script}.mjs`]: bundleInCluster(entry), [`${script}.json`]: `${JSON.stringify(spec, null, 2)}\n` },
    });
    this.job = new CutoverJob(this, 'Job', {
      ...job,
      name,
      namespace,
      component,
      // A pod-network Job reaches the API through the kubernetes Service, as the kubelet sets it.
      api: { serviceAccountName: account.name, server: job.hostAccess === 'none' ? undefined : config.cluster.apiServer },
      attempt: StepChart.attemptOf(this),
      image: config.images.node,
      command: ['node', `${FILES_DIR}/${script}.mjs`, `${FILES_DIR}/${script}.json`],
      files: this.files,
    });
  }
}
