/**
 * Looks up the OpenAPI model of an object: Kubernetes objects from `kubernetes-models` (the
 * OpenAPI of Kubernetes 1.33, see README "Validation"), Argo CD and Flux objects from their CRD
 * schemas in `@kubernetes-models/argo-cd` and `@kubernetes-models/flux-cd`.
 */
type Model = new (data: unknown) => { validate(): void };

const CRD_PACKAGES: Readonly<Record<string, string>> = {
  'argoproj.io': '@kubernetes-models/argo-cd',
  'source.toolkit.fluxcd.io': '@kubernetes-models/flux-cd',
  'kustomize.toolkit.fluxcd.io': '@kubernetes-models/flux-cd',
};

/** The model class for an apiVersion and kind; throws when there is none. */
export async function modelFor(apiVersion: string, kind: string): Promise<Model> {
  const [group, version] = apiVersion.includes('/') ? apiVersion.split('/') : ['', apiVersion];
  const crdPackage = CRD_PACKAGES[group!];
  const module = crdPackage
    ? await import(`${crdPackage}/${group}/${version}`)
    : await import(group ? `kubernetes-models/${group}/${version}` : `kubernetes-models/${version}`);
  const model = (module as Record<string, Model | undefined>)[kind];
  if (!model) {
    throw new Error(`no schema for ${apiVersion} ${kind}`);
  }
  return model;
}

/** Validates an object against its schema; throws with the schema's message when it is invalid. */
export async function validateObject(obj: { apiVersion: string; kind: string }): Promise<void> {
  const Model = await modelFor(obj.apiVersion, obj.kind);
  new Model(obj).validate();
}
