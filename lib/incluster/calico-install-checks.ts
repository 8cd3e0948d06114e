/**
 * Which kind of Calico install this is, and the kinds the tool refuses: the tigera-operator, the
 * Calico API server add-on, v3.32's native projectcalico.org/v3 CRDs, the etcd datastore, the eBPF
 * dataplane, and a manifest install a GitOps engine or Helm would bring back during the outage.
 * Plain functions over API objects (the preflight runner fetches each by name).
 *
 * Facts: object names from the manifests of projectcalico/calico v3.26.0–v3.32.1
 * (`apiserver.yaml`, `calico-etcd.yaml`, `calico-v3-crds.yaml`; test/fixtures/calico-objects).
 *
 * Dependency-free: bundled into the preflight Job's script and imported by the tests.
 */
import type { CalicoNodeDaemonSet } from './per-node-checks.ts';
import type { CheckResult } from './shared/report.ts';

/** The CRD the tigera-operator creates; alone (a leftover) it does not make an operator install. */
export const TIGERA_OPERATOR_CRD = 'installations.operator.tigera.io';
/** A CRD only v3.32's `calico-v3-crds.yaml` creates (the API server add-on serves this group instead). */
export const CALICO_V3_CRD = 'ippools.projectcalico.org';
/** The Calico API server add-on's APIService and namespace (`apiserver.yaml`). */
export const CALICO_API_SERVICE = 'v3.projectcalico.org';
export const CALICO_APISERVER_NAMESPACE = 'calico-apiserver';
/** The add-on's cluster-scoped objects (the same at every tag v3.26.0–v3.32.1). */
const APISERVER_CLUSTER_ROLES = ['calico-crds', 'calico-extension-apiserver-auth-access', 'calico-webhook-reader'];
const APISERVER_CLUSTER_ROLE_BINDINGS = [
  'calico-apiserver-access-crds',
  'calico-apiserver-delegate-auth',
  'calico-apiserver-webhook-reader',
  'calico-extension-apiserver-auth-access',
];

interface Meta {
  readonly metadata?: { readonly labels?: Readonly<Record<string, string>>; readonly annotations?: Readonly<Record<string, string>> };
}

/** The parts of the calico-node DaemonSet these checks read: its container's env, and its metadata. */
export type CalicoNodeObject = CalicoNodeDaemonSet & Meta;

/** What the preflight read, each by name; undefined where it does not exist. */
export interface CalicoInstallFacts {
  readonly calicoNode: CalicoNodeObject | undefined;
  readonly operatorCrd: unknown;
  readonly operatorDeployment: unknown;
  readonly installation: unknown;
  readonly calicoSystemNode: unknown;
  /** APIService v3.projectcalico.org: the add-on's points to its Service; the API server makes a local one for v3 CRDs. */
  readonly apiService: { readonly spec?: { readonly service?: unknown } } | undefined;
  readonly apiserverNamespace: unknown;
  readonly v3Crd: unknown;
  readonly felixConfiguration: { readonly spec?: { readonly bpfEnabled?: boolean } } | undefined;
}

const fail = (check: string, subject: string, detail: string): CheckResult => ({ outcome: 'FAIL', check, subject, detail });
const pass = (check: string, subject: string, detail: string): CheckResult => ({ outcome: 'PASS', check, subject, detail });

function env(node: CalicoNodeObject | undefined): Map<string, string> {
  const container = node?.spec?.template?.spec?.containers?.find((c) => c.name === 'calico-node');
  return new Map((container?.env ?? []).map((e) => [e.name, e.value ?? '']));
}

/** The tigera-operator runs Calico: its Deployment, its Installation or its calico-system DaemonSet. */
export function checkNotOperatorManaged(facts: CalicoInstallFacts): CheckResult {
  const found = [
    facts.operatorDeployment !== undefined && 'Deployment tigera-operator/tigera-operator',
    facts.installation !== undefined && 'Installation default',
    facts.calicoSystemNode !== undefined && 'DaemonSet calico-system/calico-node',
  ].filter((f): f is string => typeof f === 'string');
  if (found.length > 0) {
    return fail(
      'calico-manifest',
      'tigera-operator',
      `${found.join(', ')} exist: Calico is managed by the tigera-operator, which this tool does not remove (other objects, finalizers); uninstall it with the operator's procedure first`,
    );
  }
  return pass(
    'calico-manifest',
    'tigera-operator',
    facts.operatorCrd === undefined
      ? 'absent: a manifest install'
      : `only a leftover ${TIGERA_OPERATOR_CRD} CRD (no operator, no Installation): a manifest install`,
  );
}

/** The Calico API server add-on: once the CRDs go its APIService stays unavailable and blocks namespace deletion. */
export function checkNoApiServerAddOn(facts: CalicoInstallFacts): CheckResult {
  // The API server registers a local APIService (no service) for every CRD group: v3.32's v3 CRDs.
  const addOnService = facts.apiService?.spec?.service !== undefined && facts.apiService.spec.service !== null;
  if (!addOnService && facts.apiserverNamespace === undefined) {
    return pass('calico-apiserver', CALICO_API_SERVICE, 'absent: no Calico API server add-on');
  }
  return fail(
    'calico-apiserver',
    CALICO_API_SERVICE,
    'the Calico API server add-on (apiserver.yaml) is installed: once the Calico CRDs are deleted its APIService stays unavailable, and every namespace deletion (Argo CD and Flux prunes included) hangs on it. ' +
      `Remove it first, APIService before the rest: kubectl delete apiservice ${CALICO_API_SERVICE}; kubectl delete namespace ${CALICO_APISERVER_NAMESPACE}; ` +
      `kubectl delete clusterrolebinding ${APISERVER_CLUSTER_ROLE_BINDINGS.join(' ')}; kubectl delete clusterrole ${APISERVER_CLUSTER_ROLES.join(' ')}`,
  );
}

/** v3.32's native v3 CRDs: other objects, webhooks, admission policies and finalizers. */
export function checkNoV3Crds(facts: CalicoInstallFacts): CheckResult {
  return facts.v3Crd === undefined
    ? pass('calico-crds', CALICO_V3_CRD, 'absent: Calico stores its resources in crd.projectcalico.org')
    : fail(
        'calico-crds',
        CALICO_V3_CRD,
        "exists: Calico runs with native projectcalico.org/v3 CRDs (calico-v3-crds.yaml, v3.32+), which this tool does not remove (its own CRDs, webhooks and admission policies, finalizers kube-controllers puts on IPPools and Tiers); remove Calico with that manifest's procedure, or reinstall it from calico.yaml first",
      );
}

/** The etcd datastore: policies live in etcd, nothing of it is a Kubernetes object to delete. */
export function checkDatastore(facts: CalicoInstallFacts): CheckResult {
  const vars = env(facts.calicoNode);
  const type = vars.get('DATASTORE_TYPE');
  if (type === 'etcdv3' || vars.has('ETCD_ENDPOINTS')) {
    return fail(
      'calico-datastore',
      'kube-system/calico-node',
      `Calico uses the etcd datastore (calico-etcd.yaml: ${type === 'etcdv3' ? 'DATASTORE_TYPE etcdv3' : 'ETCD_ENDPOINTS set'}): its policies and IPAM live in etcd and are not removed or listed by this tool; only the Kubernetes datastore (calico.yaml) is supported`,
    );
  }
  return pass('calico-datastore', 'kube-system/calico-node', `Kubernetes datastore (DATASTORE_TYPE ${type ?? 'kubernetes'})`);
}

/** The eBPF dataplane leaves programs and pinned maps on the devices Cilium attaches to. */
export function checkDataplane(facts: CalicoInstallFacts): CheckResult {
  const byEnv = /^true$/i.test(env(facts.calicoNode).get('FELIX_BPFENABLED') ?? '');
  const byConfig = facts.felixConfiguration?.spec?.bpfEnabled === true;
  if (byEnv || byConfig) {
    return fail(
      'calico-dataplane',
      'kube-system/calico-node',
      `Calico runs the eBPF dataplane (${byEnv ? 'FELIX_BPFENABLED=true' : 'FelixConfiguration default bpfEnabled: true'}): its tc and XDP programs and pinned maps stay on the devices Cilium attaches to, and the node cleanup does not remove them. Switch Calico back to the iptables dataplane first (bpfEnabled false, kube-proxy back on, per Calico's documentation), wait until calico-node is Ready everywhere, then run again`,
    );
  }
  return pass('calico-dataplane', 'kube-system/calico-node', 'iptables or nftables dataplane (not eBPF)');
}

/** Tracking metadata of the engines that would re-create Calico during the outage. */
export function checkNotManagedByGitOps(facts: CalicoInstallFacts): CheckResult {
  const labels = facts.calicoNode?.metadata?.labels ?? {};
  const annotations = facts.calicoNode?.metadata?.annotations ?? {};
  const owners: string[] = [];
  const argo = annotations['argocd.argoproj.io/tracking-id'] ?? labels['app.kubernetes.io/instance'];
  if (argo !== undefined) {
    owners.push(
      `Argo CD (${annotations['argocd.argoproj.io/tracking-id'] ? `tracking-id ${argo}` : `app.kubernetes.io/instance ${argo}`}): remove Calico from that Application without deleting it (annotate its objects argocd.argoproj.io/sync-options: Prune=false,Delete=false, or delete the Application with argocd app delete --cascade=false) and turn off its self-heal`,
    );
  }
  const flux = labels['kustomize.toolkit.fluxcd.io/name'];
  if (flux !== undefined) {
    const ns = labels['kustomize.toolkit.fluxcd.io/namespace'] ?? 'flux-system';
    owners.push(
      `Flux Kustomization ${ns}/${flux}: run flux suspend kustomization ${flux} -n ${ns}, then remove Calico from its path with spec.prune false (or annotate the objects kustomize.toolkit.fluxcd.io/prune: disabled)`,
    );
  }
  const helm = annotations['meta.helm.sh/release-name'] ?? labels['helm.toolkit.fluxcd.io/name'];
  if (helm !== undefined || labels['app.kubernetes.io/managed-by'] === 'Helm') {
    owners.push(
      `Helm release ${helm ?? '(managed-by Helm)'}: an upgrade or a Flux HelmRelease would re-create it; suspend the HelmRelease, and take Calico out of the release without uninstalling it (helm uninstall deletes the objects while the network depends on them)`,
    );
  }
  if (owners.length === 0) {
    return pass('calico-gitops', 'kube-system/calico-node', 'no Argo CD, Flux or Helm tracking: applied by hand');
  }
  return fail(
    'calico-gitops',
    'kube-system/calico-node',
    `Calico is applied by ${owners.join('; and by ')}. Otherwise it comes back during the migration`,
  );
}

/** Every install-kind check, in the order the preflight prints them; nothing to judge once Calico is gone. */
export function checkCalicoInstall(facts: CalicoInstallFacts): CheckResult[] {
  const results = [checkNotOperatorManaged(facts), checkNoApiServerAddOn(facts), checkNoV3Crds(facts)];
  if (facts.calicoNode === undefined) {
    return results;
  }
  return [...results, checkDatastore(facts), checkDataplane(facts), checkNotManagedByGitOps(facts)];
}
