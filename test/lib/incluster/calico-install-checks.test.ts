/**
 * The kinds of Calico install the preflight refuses, on objects shaped as the upstream manifests
 * make them (projectcalico/calico at v3.27.0 and v3.32.1): calico.yaml sets DATASTORE_TYPE
 * "kubernetes"; calico-etcd.yaml sets ETCD_ENDPOINTS from calico-config; calico-bpf.yaml sets
 * FELIX_BPFENABLED "true"; apiserver.yaml makes APIService v3.projectcalico.org in namespace
 * calico-apiserver; calico-v3-crds.yaml (v3.32+) makes ippools.projectcalico.org.
 */
import { describe, expect, it } from 'vitest';
import { checkCalicoInstall, type CalicoInstallFacts, type CalicoNodeObject } from '../../../lib/incluster/calico-install-checks.ts';
import { formatResult } from '../../../lib/incluster/shared/report.ts';

function calicoNode(
  env: { name: string; value?: string; valueFrom?: unknown }[],
  meta: CalicoNodeObject['metadata'] = {},
): CalicoNodeObject {
  return { metadata: meta, spec: { template: { spec: { containers: [{ name: 'calico-node', env: env as never }] } } } };
}
const MANIFEST = calicoNode([
  { name: 'DATASTORE_TYPE', value: 'kubernetes' },
  { name: 'CALICO_NETWORKING_BACKEND', value: 'bird' },
]);
const facts = (over: Partial<CalicoInstallFacts> = {}): CalicoInstallFacts => ({
  calicoNode: MANIFEST,
  operatorCrd: undefined,
  operatorDeployment: undefined,
  installation: undefined,
  calicoSystemNode: undefined,
  apiService: undefined,
  apiserverNamespace: undefined,
  v3Crd: undefined,
  felixConfiguration: { spec: {} },
  ...over,
});
const failed = (f: CalicoInstallFacts) =>
  checkCalicoInstall(f)
    .filter((r) => r.outcome === 'FAIL')
    .map(formatResult);
const present = { metadata: { name: 'x' } };

describe('checkCalicoInstall', () => {
  it('passes a manifest install with the Kubernetes datastore and the iptables dataplane, applied by hand', () => {
    expect(checkCalicoInstall(facts()).map((r) => `${r.outcome} ${r.check}`)).toEqual([
      'PASS calico-manifest',
      'PASS calico-apiserver',
      'PASS calico-crds',
      'PASS calico-datastore',
      'PASS calico-dataplane',
      'PASS calico-gitops',
    ]);
  });

  it('accepts a manifest install with only a leftover tigera-operator CRD', () => {
    const results = checkCalicoInstall(facts({ operatorCrd: present }));
    expect(results.every((r) => r.outcome === 'PASS')).toBe(true);
    expect(formatResult(results[0]!)).toMatch(/only a leftover installations\.operator\.tigera\.io CRD/);
  });

  it('refuses the tigera-operator by its Deployment, its Installation or its calico-system DaemonSet', () => {
    for (const over of [{ operatorDeployment: present }, { installation: present }, { calicoSystemNode: present }]) {
      expect(failed(facts({ operatorCrd: present, ...over }))).toEqual([
        expect.stringMatching(/^FAIL calico-manifest tigera-operator: .* managed by the tigera-operator/),
      ]);
    }
  });

  it('refuses the API server add-on and says how to remove it, APIService first', () => {
    const addOn = {
      spec: { group: 'projectcalico.org', version: 'v3', service: { namespace: 'calico-apiserver', name: 'calico-api', port: 443 } },
    };
    const [line] = failed(facts({ apiService: addOn, apiserverNamespace: present }));
    expect(line).toMatch(/^FAIL calico-apiserver v3\.projectcalico\.org: the Calico API server add-on/);
    expect(line).toContain(
      'kubectl delete apiservice v3.projectcalico.org; kubectl delete namespace calico-apiserver; kubectl delete clusterrolebinding calico-apiserver-access-crds calico-apiserver-delegate-auth calico-apiserver-webhook-reader calico-extension-apiserver-auth-access; kubectl delete clusterrole calico-crds calico-extension-apiserver-auth-access calico-webhook-reader',
    );
    // A half-removed add-on (namespace left) is refused too.
    expect(failed(facts({ apiserverNamespace: present }))).toHaveLength(1);
  });

  it("refuses v3.32's native v3 CRDs, and does not take the API server's own APIService for them as the add-on", () => {
    // The API server registers a local APIService (service null) for each CRD group and version.
    const local = { spec: { group: 'projectcalico.org', version: 'v3', service: null } };
    expect(failed(facts({ v3Crd: present, apiService: local }))).toEqual([
      expect.stringMatching(/^FAIL calico-crds ippools\.projectcalico\.org: exists: .*calico-v3-crds\.yaml/),
    ]);
  });

  it('refuses the etcd datastore, as calico-etcd.yaml configures it', () => {
    const etcd = calicoNode([{ name: 'ETCD_ENDPOINTS', valueFrom: { configMapKeyRef: { name: 'calico-config', key: 'etcd_endpoints' } } }]);
    expect(failed(facts({ calicoNode: etcd }))).toEqual([
      expect.stringMatching(
        /^FAIL calico-datastore kube-system\/calico-node: Calico uses the etcd datastore \(calico-etcd\.yaml: ETCD_ENDPOINTS set\)/,
      ),
    ]);
    expect(failed(facts({ calicoNode: calicoNode([{ name: 'DATASTORE_TYPE', value: 'etcdv3' }]) }))).toHaveLength(1);
  });

  it('refuses the eBPF dataplane, from calico-bpf.yaml or the FelixConfiguration', () => {
    const bpf = calicoNode([
      { name: 'DATASTORE_TYPE', value: 'kubernetes' },
      { name: 'FELIX_BPFENABLED', value: 'true' },
    ]);
    expect(failed(facts({ calicoNode: bpf }))).toEqual([
      expect.stringMatching(/^FAIL calico-dataplane .*eBPF dataplane \(FELIX_BPFENABLED=true\)/),
    ]);
    expect(failed(facts({ felixConfiguration: { spec: { bpfEnabled: true } } }))).toEqual([
      expect.stringMatching(/FelixConfiguration default bpfEnabled: true/),
    ]);
    expect(failed(facts({ felixConfiguration: undefined }))).toEqual([]);
  });

  it('refuses a calico-node that Argo CD, Flux or Helm tracks, naming the owner and how to detach it', () => {
    const tracked = (meta: CalicoNodeObject['metadata']) => failed(facts({ calicoNode: { ...MANIFEST, metadata: meta } }));
    expect(tracked({ annotations: { 'argocd.argoproj.io/tracking-id': 'calico:apps/DaemonSet:kube-system/calico-node' } })).toEqual([
      expect.stringMatching(
        /^FAIL calico-gitops kube-system\/calico-node: Calico is applied by Argo CD \(tracking-id calico:.*--cascade=false/,
      ),
    ]);
    expect(tracked({ labels: { 'app.kubernetes.io/instance': 'calico' } })).toEqual([
      expect.stringMatching(/Argo CD \(app\.kubernetes\.io\/instance calico\)/),
    ]);
    expect(
      tracked({ labels: { 'kustomize.toolkit.fluxcd.io/name': 'network', 'kustomize.toolkit.fluxcd.io/namespace': 'flux-system' } }),
    ).toEqual([expect.stringMatching(/Flux Kustomization flux-system\/network: run flux suspend kustomization network -n flux-system/)]);
    expect(tracked({ annotations: { 'meta.helm.sh/release-name': 'calico' }, labels: { 'app.kubernetes.io/managed-by': 'Helm' } })).toEqual(
      [expect.stringMatching(/Helm release calico/)],
    );
  });

  it('judges only the install-wide objects once calico-node is gone (a run after step 100)', () => {
    expect(checkCalicoInstall(facts({ calicoNode: undefined })).map((r) => r.check)).toEqual([
      'calico-manifest',
      'calico-apiserver',
      'calico-crds',
    ]);
  });
});
