/**
 * The namespaces the tool creates (`run.namespace`, `verify.namespace`) must be its own: step 000
 * applies them with the tool's labels and Pod Security `privileged`, and graduation (or
 * `verify.enabled: false`) deletes them with everything in them. So neither may be a namespace
 * that Kubernetes, Calico, Cilium or a GitOps engine uses, nor may they be the same one (the
 * Kustomize root would then hold the Namespace twice), nor the Calico inventory's, which must
 * outlive them. A namespace someone else created is refused on the cluster: by `apply` before it
 * sends anything, and by the preflight's namespace check.
 */
import { INVENTORY_NAMESPACE } from '../labels.ts';
import type { Config } from './schema.ts';
import type { ConfigProblem } from './rule-problem.ts';

/** Namespaces that exist on every k3s cluster, or that Calico or Cilium own. */
const RESERVED: Readonly<Record<string, string>> = {
  default: "Kubernetes' default namespace",
  'kube-system': "Kubernetes' system namespace",
  'kube-public': "Kubernetes' public namespace",
  'kube-node-lease': "the kubelets' lease namespace",
  'calico-system': "Calico's namespace (the operator install), which step 100 deletes",
  'calico-apiserver': "Calico's API server namespace, which step 100 deletes",
  'tigera-operator': "the Tigera operator's namespace, which step 100 deletes",
  'cilium-secrets': "Cilium's own namespace (step 200)",
  [INVENTORY_NAMESPACE]: "the Calico inventory's namespace (step 100), which must outlive the migration",
  argocd: "Argo CD's namespace",
  'flux-system': "Flux's namespace",
};

export function checkNamespaces(config: Config): ConfigProblem[] {
  const engines = new Map<string, string>([
    [config.gitops.argocd.namespace, "the Argo CD Application's namespace (gitops.argocd.namespace)"],
    [config.gitops.flux.namespace, "the Flux objects' namespace (gitops.flux.namespace)"],
    ...config.maintenance.argocd.map((a) => [a.namespace, 'a namespace of Argo CD Applications (maintenance.argocd)'] as const),
    ...config.maintenance.flux.map((f) => [f.namespace, 'a namespace of Flux objects (maintenance.flux)'] as const),
    ...config.maintenance.workloads.map((w) => [w.namespace, 'a namespace of paused workloads (maintenance.workloads)'] as const),
  ]);
  const problems: ConfigProblem[] = [];
  for (const [path, namespace, fallback] of [
    ['run.namespace', config.run.namespace, 'cilium-cutover'],
    ['verify.namespace', config.verify.namespace, 'cilium-cutover-verify'],
  ] as const) {
    const taken = RESERVED[namespace] ?? engines.get(namespace);
    if (taken !== undefined) {
      problems.push({
        path,
        message: `"${namespace}" is ${taken}; the tool creates its namespace, labels it Pod Security privileged and deletes it with everything in it at graduation, so use one of its own, such as ${fallback}`,
      });
    }
  }
  if (config.run.namespace === config.verify.namespace) {
    problems.push({
      path: 'verify.namespace',
      message: `"${config.verify.namespace}" is also run.namespace; the verification workloads need a namespace of their own, such as cilium-cutover-verify`,
    });
  }
  return problems;
}
