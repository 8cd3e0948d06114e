/**
 * Step 100-calico-delete: a Job that deletes, by name, every object the Calico manifest created,
 * after keeping the custom resources that go with the CRDs in the Calico inventory (ConfigMaps in
 * a namespace of its own, which no step deletes).
 */
import { Duration } from 'cdk8s';
import * as k8s from 'cdk8s-plus-28/lib/imports/k8s.js';
import { deletedCrds, deletionSet, KINDS, type CalicoObject } from '../lib/versions/calico-deletion-sets.ts';
import type { ResolvedConfig } from '../lib/config/resolve.ts';
import { objectPath } from '../lib/incluster/shared/api-client.ts';
import type { DeletionSpec } from '../lib/incluster/calico-delete.ts';
import { ScopedServiceAccount, type AccessRule } from '../lib/constructs/scoped-service-account.ts';
import { ScriptJob } from '../lib/constructs/script-job.ts';
import { RETRY, type AbortGuide, type Step, type StepChart } from '../lib/step.ts';
import { INVENTORY_NAMESPACE, LABEL_INVENTORY, PROTECTED_ANNOTATIONS, TOOL } from '../lib/labels.ts';

/** Labels of the pods of Calico's workloads (`k8s-app` in the manifests). */
const POD_LABELS: Readonly<Record<string, string>> = {
  'calico-node': 'k8s-app=calico-node',
  'calico-kube-controllers': 'k8s-app=calico-kube-controllers',
  'calico-typha': 'k8s-app=calico-typha',
};

/** Pause between two looks at the Calico pods while they terminate. */
const POD_POLL_SECONDS = 5;

/** The objects this config deletes, in order. */
export function calicoObjects(config: ResolvedConfig): CalicoObject[] {
  return deletionSet(config.calico.version, { variant: config.calico.manifest, includeForeign: config.calico.deleteNetworkPolicyAPICRDs });
}

/** The deletion Job's spec. */
export function deletionSpec(config: ResolvedConfig): DeletionSpec {
  const objects = calicoObjects(config);
  return {
    calicoVersion: config.calico.version,
    targets: objects.map((o) => {
      const kind = KINDS[o.kind];
      return {
        kind: o.kind,
        ...(o.namespace ? { namespace: o.namespace } : {}),
        name: o.name,
        phase: o.phase,
        path: objectPath(kind.group, kind.version, kind.resource, o.namespace, o.name),
        ...(o.optional ? { optional: true } : {}),
      };
    }),
    inventory: deletedCrds(objects),
    podSelectors: objects.filter((o) => o.kind === 'DaemonSet' || o.kind === 'Deployment').map((o) => POD_LABELS[o.name]!),
    podWaitSeconds: 300,
    podPollSeconds: POD_POLL_SECONDS,
    crdWaitSeconds: 120,
    crdPollSeconds: 2,
    nodes: config.cluster.nodes.map((n) => n.name),
    skipNodes: config.run.skipNodes,
    ...(config.strategy === 'per-node' ? { migrationCIDR: config.perNode.podCIDR } : {}),
  };
}

/**
 * Exactly the permissions the Job uses: delete by name, list only what the inventory and the pod
 * wait read, and create the inventory's ConfigMaps (named after their content, so not nameable
 * here; list finds one an earlier run created) in the inventory's namespace only.
 */
export function deletionRules(config: ResolvedConfig): AccessRule[] {
  const objects = calicoObjects(config);
  const byResource = new Map<string, { kind: CalicoObject['kind']; namespace: string | undefined; names: string[] }>();
  for (const o of objects) {
    const key = `${o.kind}/${o.namespace ?? ''}`;
    const entry = byResource.get(key) ?? { kind: o.kind, namespace: o.namespace, names: [] };
    entry.names.push(o.name);
    byResource.set(key, entry);
  }
  const deletes: AccessRule[] = [...byResource.values()].map((e) => ({
    apiGroup: KINDS[e.kind].group,
    resource: KINDS[e.kind].resource,
    // A CRD is read back until it is gone (its custom resources go first).
    verbs: e.kind === 'CustomResourceDefinition' ? ['delete', 'get'] : ['delete'],
    names: e.names,
    ...(e.namespace ? { namespace: e.namespace } : {}),
  }));
  return [
    ...deletes,
    // Inventory: every custom resource of the CRDs it deletes (all of them, so no resourceNames).
    ...deletedCrds(objects).map((c): AccessRule => ({ apiGroup: c.group, resource: c.plural, verbs: ['list'] })),
    { apiGroup: '', resource: 'configmaps', verbs: ['create', 'list'], namespace: INVENTORY_NAMESPACE },
    // Waiting for Calico's pods to go; per-node: first, no pod anywhere left on a Calico address.
    config.strategy === 'per-node'
      ? { apiGroup: '', resource: 'pods', verbs: ['list'] }
      : { apiGroup: '', resource: 'pods', verbs: ['list'], namespace: 'kube-system' },
    // Whether a node is Ready (its Calico pods are awaited), and its NetworkUnavailable.
    { apiGroup: '', resource: 'nodes', verbs: ['get'], names: config.cluster.nodes.map((n) => n.name) },
  ];
}

export function buildCalicoDelete(chart: StepChart, config: ResolvedConfig): void {
  const namespace = config.run.namespace;
  // The inventory outlives the migration: neither engine prunes or deletes its namespace, and
  // Argo CD does not count it OutOfSync once the steady output no longer has it (argo-cd
  // docs/user-guide/compare-options.md, IgnoreExtraneous); graduation keeps it by its label.
  new k8s.KubeNamespace(chart, 'Inventory', {
    metadata: {
      name: INVENTORY_NAMESPACE,
      labels: {
        [LABEL_INVENTORY]: 'calico',
        // Nothing runs there.
        'pod-security.kubernetes.io/enforce': 'restricted',
      },
      annotations: { ...PROTECTED_ANNOTATIONS, 'argocd.argoproj.io/compare-options': 'IgnoreExtraneous' },
    },
  });
  const account = new ScopedServiceAccount(chart, 'Access', { name: `${TOOL}-calico-delete`, namespace, rules: deletionRules(config) });
  new ScriptJob(chart, 'Delete', config, {
    name: 'calico-delete',
    entry: 'calico-delete-main',
    spec: deletionSpec(config),
    account,
    // Waiting for the pods takes up to 5 minutes; the deletes themselves take seconds.
    activeDeadline: Duration.minutes(15),
  });
}

/** PLAN.md notes: what goes, in which order, and what cannot be undone. */
export function calicoDeletePlan(config: ResolvedConfig): string[] {
  const objects = calicoObjects(config);
  const phase = (p: CalicoObject['phase']) =>
    objects
      .filter((o) => o.phase === p)
      .map((o) => `${o.kind} \`${o.namespace ? `${o.namespace}/` : ''}${o.name}\`${o.optional ? ' (if present)' : ''}`)
      .join(', ');
  const line = config.calico.manifest === 'calico-typha' ? '`calico-typha.yaml`' : '`calico.yaml`';
  const foreign = deletionSet(config.calico.version, { variant: config.calico.manifest, includeForeign: true }).filter((o) => o.foreign);
  return [
    `Calico ${config.calico.version} was applied by hand from ${line}, so no GitOps prune can remove it: the Job deletes its ${objects.length} objects by name, in this order (each delete ignores "not found", so a re-run reports them ABSENT):`,
    '',
    `1. workloads: ${phase('workloads')}; then it waits until their pods are gone (5 minutes at most, else it stops before the CRDs). A pod on a node that is not Ready or is in \`run.skipNodes\` cannot go while the node is down: it is listed as SKIPPED, with the command that removes it once the node is gone for good, and not awaited;`,
    `2. CRDs: ${phase('crds')}; each is reported DELETED once it is gone, or after 2 minutes TERMINATING with the custom resource and finalizer that hold it (the Job then fails);`,
    `3. access: ${phase('access')};`,
    `4. configuration: ${phase('config')}.`,
    '',
    `**Irreversible:** deleting the CRDs deletes every Calico custom resource with them. Before deleting anything the Job keeps every one a person configured (policies, tiers, network sets, host endpoints, IP pools and reservations, BGP, Felix, kube-controllers and IPAM configuration) in full, in ConfigMaps \`calico-<id>-<n>-of-<count>\` in namespace \`${INVENTORY_NAMESPACE}\`, which no step and no engine deletes and graduation keeps; if it cannot keep all of them it deletes nothing. IPAM blocks, handles and affinities and ClusterInformation are counted, not kept: Calico rebuilds them. Kubernetes NetworkPolicy objects stay (Cilium enforces them).`,
    '',
    `\`npx cilium-cutover inventory --kubeconfig <file>\` lists what was kept; \`npx cilium-cutover inventory --kubeconfig <file> --out calico-inventory.yaml\` saves a copy to keep off the cluster.`,
    ...(foreign.length > 0 && !config.calico.deleteNetworkPolicyAPICRDs
      ? [
          '',
          `Not deleted: ${foreign.map((o) => `\`${o.name}\``).join(', ')} (the Kubernetes network-policy API's CRDs, which other software may use; \`calico.deleteNetworkPolicyAPICRDs: true\` deletes them).`,
        ]
      : []),
    '',
    "After calico-node is gone, nodes may carry `NetworkUnavailable=True` (reason `CalicoIsDown`) and the `node.kubernetes.io/network-unavailable` taint until the Cilium operator clears them; the Job prints each node's condition.",
  ];
}

export function calicoDeleteAbort(config: ResolvedConfig): AbortGuide {
  return {
    after:
      config.strategy === 'per-node'
        ? 'Calico is gone; every node already runs its pods on Cilium, so no pod loses its network. The Calico custom resources (pools, IPAM, policies) are destroyed.'
        : 'Calico is gone: no pod has working networking until step 200, and the Calico custom resources (pools, IPAM, policies) are destroyed.',
    failure: `the Job is Failed; its log has a FAILED line per object it could not delete, or the pods on Ready nodes that did not go away (a finalizer, a stuck container).`,
    action: `${RETRY}: every delete is idempotent, so the Job resumes where it stopped, and a new inventory never replaces the one kept before. To back out, apply the same \`calico.yaml\` (${config.calico.version}) again, wait for its CRDs (\`kubectl wait --for condition=established crd/ippools.crd.projectcalico.org\`), then \`npx cilium-cutover restore --kubeconfig <file> --dry-run\` and without \`--dry-run\`: it creates every kept custom resource again, and replaces with the kept one what calico-node made on start (its default pool, FelixConfiguration and tiers). A pool calico-node made that the inventory does not have (another name than yours) stays: delete it before pods take addresses from it.`,
  };
}

export const calicoDeleteStep: Step = {
  definition: {
    kind: 'calico-delete',
    dir: '100-calico-delete',
    wave: 100,
    title: 'Delete Calico',
    impact: 'irreversible',
    summary: 'Deletes every object the Calico manifest created, by name.',
    timeout: '15m',
  },
  build: buildCalicoDelete,
  plan: calicoDeletePlan,
  abort: calicoDeleteAbort,
};
