/**
 * Flux objects: the GitRepository and one Kustomization per step, chained with `dependsOn`.
 */
import { ApiObject } from 'cdk8s';
import { Construct } from 'constructs';
import type { IKustomization } from '@kubernetes-models/flux-cd/kustomize.toolkit.fluxcd.io/v1/Kustomization';
import type { IGitRepository } from '@kubernetes-models/flux-cd/source.toolkit.fluxcd.io/v1/GitRepository';
import { setFileName } from '../file-name.ts';

export interface FluxGitRepositoryProps {
  readonly name: string;
  readonly namespace: string;
  readonly url: string;
  readonly branch: string;
  readonly interval: string;
}

/** @see https://fluxcd.io/flux/components/source/gitrepositories/ */
export class FluxGitRepository extends Construct {
  public readonly name: string;

  public constructor(scope: Construct, id: string, props: FluxGitRepositoryProps) {
    super(scope, id);
    this.name = props.name;
    const obj = new ApiObject(this, 'Resource', {
      apiVersion: 'source.toolkit.fluxcd.io/v1',
      kind: 'GitRepository',
      metadata: { name: props.name, namespace: props.namespace },
      spec: { interval: props.interval, url: props.url, ref: { branch: props.branch } } satisfies IGitRepository['spec'],
    });
    setFileName(obj, `gitrepository-${props.name}`);
  }
}

export interface FluxKustomizationProps {
  readonly name: string;
  readonly namespace: string;
  readonly source: FluxGitRepository;
  /** Path of the step directory in the repository, `./`-prefixed. */
  readonly path: string;
  readonly interval: string;
  /** How long to wait for the step's objects (Jobs complete, DaemonSets ready). */
  readonly timeout: string;
  /**
   * The Kustomization of the previous step.
   * @default - none: the first step
   */
  readonly dependsOn?: FluxKustomization;
}

/**
 * One step: applied after the previous one is Ready, and Ready itself only when all its objects
 * are (`wait: true`). No `force`: it would recreate DaemonSets on any immutable change.
 * @see https://fluxcd.io/flux/components/kustomize/kustomizations/
 */
export class FluxKustomization extends Construct {
  public readonly name: string;

  public constructor(scope: Construct, id: string, props: FluxKustomizationProps) {
    super(scope, id);
    this.name = props.name;
    const obj = new ApiObject(this, 'Resource', {
      apiVersion: 'kustomize.toolkit.fluxcd.io/v1',
      kind: 'Kustomization',
      metadata: { name: props.name, namespace: props.namespace },
      spec: {
        interval: props.interval,
        retryInterval: '1m',
        timeout: props.timeout,
        path: props.path,
        prune: true,
        wait: true,
        sourceRef: { kind: 'GitRepository', name: props.source.name },
        ...(props.dependsOn ? { dependsOn: [{ name: props.dependsOn.name }] } : {}),
      } satisfies IKustomization['spec'],
    });
    setFileName(obj, `kustomization-${props.name}`);
  }
}
