/**
 * The files a Job runs (scripts and their inputs), as an immutable ConfigMap named by the hash of
 * its content. Several Jobs (one per node) can share one.
 */
import { Construct } from 'constructs';
import * as k8s from 'cdk8s-plus-28/lib/imports/k8s.js';
import { hashedName, shortHash } from '../content-hash.ts';
import { setFileName } from './file-name.ts';
import { LABEL_COMPONENT } from '../labels.ts';

export interface JobFilesProps {
  /** Readable name: the object is `<name>-<hash>`, the file `configmap-<name>.yaml`. */
  readonly name: string;
  readonly namespace: string;
  /** Value of `app.kubernetes.io/component`. */
  readonly component: string;
  /** File name → content. */
  readonly files: Readonly<Record<string, string>>;
}

export class JobFiles extends Construct {
  /** Object name, with the hash of the files. */
  public readonly configMapName: string;
  public readonly namespace: string;
  private readonly _files: Readonly<Record<string, string>>;

  public constructor(scope: Construct, id: string, props: JobFilesProps) {
    super(scope, id);
    const names = Object.keys(props.files);
    if (names.length === 0) {
      throw new Error(`JobFiles '${props.name}': 'files' must not be empty`);
    }
    const bad = names.find((n) => !/^[A-Za-z0-9._-]+$/.test(n));
    if (bad !== undefined) {
      throw new Error(`JobFiles '${props.name}': file name '${bad}' must be letters, digits, '.', '_' and '-'`);
    }
    this._files = { ...props.files };
    this.namespace = props.namespace;
    this.configMapName = hashedName(props.name, shortHash({ files: this._files }));
    const configMap = new k8s.KubeConfigMap(this, 'Resource', {
      metadata: { name: this.configMapName, namespace: props.namespace, labels: { [LABEL_COMPONENT]: props.component } },
      data: { ...this._files },
      immutable: true,
    });
    setFileName(configMap, `configmap-${props.name}`);
  }

  /** The files (a copy). */
  public get files(): Record<string, string> {
    return { ...this._files };
  }
}
