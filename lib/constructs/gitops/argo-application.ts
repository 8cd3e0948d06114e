/**
 * The Argo CD Application that applies `manifests/` in sync-wave order.
 */
import { ApiObject } from 'cdk8s';
import { Construct } from 'constructs';
import type { IApplication } from '@kubernetes-models/argo-cd/argoproj.io/v1alpha1/Application';
import { setFileName } from '../file-name.ts';

export interface ArgoApplicationProps {
  readonly name: string;
  readonly namespace: string;
  readonly project: string;
  readonly repoURL: string;
  readonly targetRevision: string;
  /** Path of the Kustomize root (`<gitops.path>/manifests`) in the repository. */
  readonly path: string;
  /** API server of the migrated cluster, as Argo CD knows it. */
  readonly destinationServer: string;
  /**
   * Sync on every commit (with prune), instead of when an operator syncs.
   * @default false
   * @see https://argo-cd.readthedocs.io/en/stable/user-guide/auto_sync/
   */
  readonly automated?: boolean;
}

/** Sync options every migration needs; see docs/applying.md "Applying the steps". */
export const ARGO_SYNC_OPTIONS = [
  // Objects whose CRD the Cilium operator creates at runtime must not fail the up-front dry-run.
  'SkipDryRunOnMissingResource=true',
  // Old content-hashed Jobs are pruned only after every wave is healthy.
  'PruneLast=true',
  // Namespaces come from the manifests themselves.
  'CreateNamespace=false',
] as const;

/**
 * An Application over the explicit Kustomize root `manifests/kustomization.yaml`. No
 * resources-finalizer: deleting the Application must never cascade into deleting Cilium.
 */
export class ArgoApplication extends Construct {
  public readonly automated: boolean;

  public constructor(scope: Construct, id: string, props: ArgoApplicationProps) {
    super(scope, id);
    this.automated = props.automated ?? false;
    // Typed with the CRD's own schema types, so a misspelt field fails the type check.
    const spec: IApplication['spec'] = {
      project: props.project,
      source: { repoURL: props.repoURL, targetRevision: props.targetRevision, path: props.path },
      destination: { server: props.destinationServer },
      syncPolicy: {
        ...(this.automated ? { automated: { prune: true, selfHeal: false } } : {}),
        syncOptions: [...ARGO_SYNC_OPTIONS],
        // A wave whose CRD is not registered yet is retried with backoff instead of failing the sync.
        retry: { limit: 10, backoff: { duration: '10s', factor: 2, maxDuration: '5m' } },
      },
    };
    const obj = new ApiObject(this, 'Resource', {
      apiVersion: 'argoproj.io/v1alpha1',
      kind: 'Application',
      metadata: { name: props.name, namespace: props.namespace },
      spec,
    });
    setFileName(obj, `application-${props.name}`);
  }
}
