/**
 * The GitOps wiring: `argocd/` and `flux/` charts over the step directories that exist.
 */
import { Chart } from 'cdk8s';
import type { Construct } from 'constructs';
import type { ResolvedConfig } from '../lib/config/resolve.ts';
import { ArgoApplication } from '../lib/constructs/gitops/argo-application.ts';
import { FluxGitRepository, FluxKustomization } from '../lib/constructs/gitops/flux.ts';
import type { StepDefinition } from '../lib/step.ts';
import { gitopsName } from '../lib/labels.ts';

export function buildArgoCd(scope: Construct, config: ResolvedConfig): Chart {
  const chart = new Chart(scope, 'argocd', { disableResourceNameHashes: true });
  const { gitops } = config;
  new ArgoApplication(chart, 'Application', {
    name: gitopsName(config.cluster.name),
    namespace: gitops.argocd.namespace,
    project: gitops.argocd.project,
    repoURL: gitops.repoURL,
    targetRevision: gitops.revision,
    path: `${gitops.path}/manifests`,
    // Required by the config rules whenever an Application is generated.
    destinationServer: gitops.argocd.destinationServer!,
    automated: gitops.argocd.automated,
  });
  return chart;
}

export function buildFlux(scope: Construct, config: ResolvedConfig, steps: readonly StepDefinition[]): Chart {
  const chart = new Chart(scope, 'flux', { disableResourceNameHashes: true });
  const { gitops } = config;
  const name = gitopsName(config.cluster.name);
  const source = new FluxGitRepository(chart, 'GitRepository', {
    name,
    namespace: gitops.flux.namespace,
    url: gitops.repoURL,
    branch: gitops.revision,
    interval: gitops.flux.interval,
  });
  let previous: FluxKustomization | undefined;
  for (const step of steps) {
    previous = new FluxKustomization(chart, step.dir, {
      name: `${name}-${step.dir}`,
      namespace: gitops.flux.namespace,
      source,
      path: `./${gitops.path}/manifests/${step.dir}`,
      interval: gitops.flux.interval,
      timeout: step.timeout,
      dependsOn: previous,
    });
  }
  return chart;
}
