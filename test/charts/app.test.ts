import { ApiObject, App, Chart } from 'cdk8s';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { render } from '../../charts/app.ts';
import { renderChart } from '../../lib/output/render.ts';
import { setFileName } from '../../lib/constructs/file-name.ts';
import { STEPS } from '../../charts/steps.ts';
import { exampleConfig, manifestObjects, renderExample } from '../support/helpers.ts';

describe('render', () => {
  const rendered = renderExample();

  it('writes the layout: step directories, Kustomize root, GitOps objects, PLAN.md', () => {
    expect([...rendered.files.keys()]).toEqual([
      'PLAN.md',
      'argocd/application-cilium-cutover-hetzner-demo.yaml',
      'flux/gitrepository-cilium-cutover-hetzner-demo.yaml',
      'flux/kustomization-cilium-cutover-hetzner-demo-000-preflight.yaml',
      'flux/kustomization-cilium-cutover-hetzner-demo-100-calico-delete.yaml',
      'flux/kustomization-cilium-cutover-hetzner-demo-110-node-cleanup.yaml',
      'flux/kustomization-cilium-cutover-hetzner-demo-200-cilium.yaml',
      'flux/kustomization-cilium-cutover-hetzner-demo-210-kube-proxy-cleanup.yaml',
      'flux/kustomization-cilium-cutover-hetzner-demo-250-readdress-pods.yaml',
      'flux/kustomization-cilium-cutover-hetzner-demo-300-verify-workloads.yaml',
      'flux/kustomization-cilium-cutover-hetzner-demo-310-verify-checks.yaml',
      'flux/kustomization-cilium-cutover-hetzner-demo-900-complete.yaml',
      'flux/kustomization.yaml',
      'host/k3s-rollout.sh',
      'host/k3s/config.yaml.d/90-cilium-cutover.yaml',
      'host/rolling-reboot.sh',
      'kustomization.yaml',
      'manifests/000-preflight/clusterrole-cilium-cutover-node-preflight.yaml',
      'manifests/000-preflight/clusterrole-cilium-cutover-preflight.yaml',
      'manifests/000-preflight/clusterrolebinding-cilium-cutover-node-preflight.yaml',
      'manifests/000-preflight/clusterrolebinding-cilium-cutover-preflight.yaml',
      'manifests/000-preflight/configmap-node-list.yaml',
      'manifests/000-preflight/configmap-node-preflight.yaml',
      'manifests/000-preflight/configmap-preflight.yaml',
      'manifests/000-preflight/job-node-preflight-k3s-server-1.yaml',
      'manifests/000-preflight/job-node-preflight-k3s-server-2.yaml',
      'manifests/000-preflight/job-node-preflight-k3s-server-3.yaml',
      'manifests/000-preflight/job-preflight.yaml',
      'manifests/000-preflight/kustomization.yaml',
      'manifests/000-preflight/namespace-cilium-cutover.yaml',
      'manifests/000-preflight/role-cilium-cutover-node-preflight-cilium-cutover.yaml',
      'manifests/000-preflight/role-cilium-cutover-preflight-cilium-cutover.yaml',
      'manifests/000-preflight/role-cilium-cutover-preflight-kube-system.yaml',
      'manifests/000-preflight/rolebinding-cilium-cutover-node-preflight-cilium-cutover.yaml',
      'manifests/000-preflight/rolebinding-cilium-cutover-preflight-cilium-cutover.yaml',
      'manifests/000-preflight/rolebinding-cilium-cutover-preflight-kube-system.yaml',
      'manifests/000-preflight/serviceaccount-cilium-cutover-node-preflight.yaml',
      'manifests/000-preflight/serviceaccount-cilium-cutover-preflight.yaml',
      'manifests/100-calico-delete/clusterrole-cilium-cutover-calico-delete.yaml',
      'manifests/100-calico-delete/clusterrolebinding-cilium-cutover-calico-delete.yaml',
      'manifests/100-calico-delete/configmap-calico-delete.yaml',
      'manifests/100-calico-delete/job-calico-delete.yaml',
      'manifests/100-calico-delete/kustomization.yaml',
      'manifests/100-calico-delete/namespace-cilium-cutover-inventory.yaml',
      'manifests/100-calico-delete/role-cilium-cutover-calico-delete-cilium-cutover-inventory.yaml',
      'manifests/100-calico-delete/role-cilium-cutover-calico-delete-kube-system.yaml',
      'manifests/100-calico-delete/rolebinding-cilium-cutover-calico-delete-cilium-cutover-inventory.yaml',
      'manifests/100-calico-delete/rolebinding-cilium-cutover-calico-delete-kube-system.yaml',
      'manifests/100-calico-delete/serviceaccount-cilium-cutover-calico-delete.yaml',
      'manifests/110-node-cleanup/configmap-calico-cleanup.yaml',
      'manifests/110-node-cleanup/job-cleanup-node-k3s-server-1.yaml',
      'manifests/110-node-cleanup/job-cleanup-node-k3s-server-2.yaml',
      'manifests/110-node-cleanup/job-cleanup-node-k3s-server-3.yaml',
      'manifests/110-node-cleanup/kustomization.yaml',
      'manifests/200-cilium/clusterrole-cilium-operator.yaml',
      'manifests/200-cilium/clusterrole-cilium.yaml',
      'manifests/200-cilium/clusterrolebinding-cilium-operator.yaml',
      'manifests/200-cilium/clusterrolebinding-cilium.yaml',
      'manifests/200-cilium/configmap-cilium-config.yaml',
      'manifests/200-cilium/daemonset-cilium.yaml',
      'manifests/200-cilium/deployment-cilium-operator.yaml',
      'manifests/200-cilium/kustomization.yaml',
      'manifests/200-cilium/namespace-cilium-secrets.yaml',
      'manifests/200-cilium/role-cilium-config-agent.yaml',
      'manifests/200-cilium/role-cilium-operator-tlsinterception-secrets.yaml',
      'manifests/200-cilium/role-cilium-operator-ztunnel.yaml',
      'manifests/200-cilium/role-cilium-tlsinterception-secrets.yaml',
      'manifests/200-cilium/rolebinding-cilium-config-agent.yaml',
      'manifests/200-cilium/rolebinding-cilium-operator-tlsinterception-secrets.yaml',
      'manifests/200-cilium/rolebinding-cilium-operator-ztunnel.yaml',
      'manifests/200-cilium/rolebinding-cilium-tlsinterception-secrets.yaml',
      'manifests/200-cilium/serviceaccount-cilium-operator.yaml',
      'manifests/200-cilium/serviceaccount-cilium.yaml',
      'manifests/210-kube-proxy-cleanup/configmap-kube-proxy-cleanup.yaml',
      'manifests/210-kube-proxy-cleanup/job-kube-proxy-cleanup-k3s-server-1.yaml',
      'manifests/210-kube-proxy-cleanup/job-kube-proxy-cleanup-k3s-server-2.yaml',
      'manifests/210-kube-proxy-cleanup/job-kube-proxy-cleanup-k3s-server-3.yaml',
      'manifests/210-kube-proxy-cleanup/kustomization.yaml',
      'manifests/250-readdress-pods/clusterrole-cilium-cutover-readdress.yaml',
      'manifests/250-readdress-pods/clusterrolebinding-cilium-cutover-readdress.yaml',
      'manifests/250-readdress-pods/configmap-readdress.yaml',
      'manifests/250-readdress-pods/job-readdress.yaml',
      'manifests/250-readdress-pods/kustomization.yaml',
      'manifests/250-readdress-pods/serviceaccount-cilium-cutover-readdress.yaml',
      'manifests/300-verify-workloads/configmap-echo.yaml',
      'manifests/300-verify-workloads/daemonset-echo.yaml',
      'manifests/300-verify-workloads/ingress-echo.yaml',
      'manifests/300-verify-workloads/kustomization.yaml',
      'manifests/300-verify-workloads/namespace-cilium-cutover-verify.yaml',
      'manifests/300-verify-workloads/service-echo-nodeport.yaml',
      'manifests/300-verify-workloads/service-echo.yaml',
      'manifests/310-verify-checks/clusterrole-cilium-cutover-verify-cluster.yaml',
      'manifests/310-verify-checks/clusterrolebinding-cilium-cutover-verify-cluster.yaml',
      'manifests/310-verify-checks/configmap-verify-nodes.yaml',
      'manifests/310-verify-checks/configmap-verify.yaml',
      'manifests/310-verify-checks/job-verify-cluster.yaml',
      'manifests/310-verify-checks/job-verify-host-k3s-server-1.yaml',
      'manifests/310-verify-checks/job-verify-host-k3s-server-2.yaml',
      'manifests/310-verify-checks/job-verify-host-k3s-server-3.yaml',
      'manifests/310-verify-checks/job-verify-pods-k3s-server-1.yaml',
      'manifests/310-verify-checks/job-verify-pods-k3s-server-2.yaml',
      'manifests/310-verify-checks/job-verify-pods-k3s-server-3.yaml',
      'manifests/310-verify-checks/kustomization.yaml',
      'manifests/310-verify-checks/role-cilium-cutover-verify-cluster-cilium-cutover-verify.yaml',
      'manifests/310-verify-checks/role-cilium-cutover-verify-cluster-kube-system.yaml',
      'manifests/310-verify-checks/role-cilium-cutover-verify-host-cilium-cutover-verify.yaml',
      'manifests/310-verify-checks/role-cilium-cutover-verify-pods-cilium-cutover-verify.yaml',
      'manifests/310-verify-checks/role-cilium-cutover-verify-pods-kube-system.yaml',
      'manifests/310-verify-checks/rolebinding-cilium-cutover-verify-cluster-cilium-cutover-verify.yaml',
      'manifests/310-verify-checks/rolebinding-cilium-cutover-verify-cluster-kube-system.yaml',
      'manifests/310-verify-checks/rolebinding-cilium-cutover-verify-host-cilium-cutover-verify.yaml',
      'manifests/310-verify-checks/rolebinding-cilium-cutover-verify-pods-cilium-cutover-verify.yaml',
      'manifests/310-verify-checks/rolebinding-cilium-cutover-verify-pods-kube-system.yaml',
      'manifests/310-verify-checks/serviceaccount-cilium-cutover-verify-cluster.yaml',
      'manifests/310-verify-checks/serviceaccount-cilium-cutover-verify-host.yaml',
      'manifests/310-verify-checks/serviceaccount-cilium-cutover-verify-pods.yaml',
      'manifests/900-complete/clusterrole-cilium-cutover-node-check.yaml',
      'manifests/900-complete/clusterrolebinding-cilium-cutover-node-check.yaml',
      'manifests/900-complete/configmap-cilium-cutover-status.yaml',
      'manifests/900-complete/configmap-node-check.yaml',
      'manifests/900-complete/job-node-check.yaml',
      'manifests/900-complete/kustomization.yaml',
      'manifests/900-complete/serviceaccount-cilium-cutover-node-check.yaml',
      'manifests/kustomization.yaml',
    ]);
  });

  it('is byte-identical when rendered twice', () => {
    expect(renderExample().files).toEqual(rendered.files);
  });

  it('does not depend on cdk8s environment switches', () => {
    process.env.CDK8S_DISABLE_SORT = '1';
    try {
      expect(renderExample().files).toEqual(rendered.files);
    } finally {
      process.env.CDK8S_DISABLE_SORT = '';
    }
  });

  it('writes one object per file, with apiVersion, kind and metadata first', () => {
    for (const [path, text] of rendered.files) {
      if (!path.endsWith('.yaml') || path.startsWith('host/')) {
        continue;
      }
      expect(text.split('\n---').length, path).toBe(1);
      expect(text.split('\n').slice(1, 4), path).toEqual([
        expect.stringMatching(/^apiVersion: /),
        expect.stringMatching(/^kind: /),
        expect.stringMatching(/^(metadata:|resources:)/),
      ]);
    }
  });

  it('labels and annotates every step object with its step and wave', () => {
    for (const { path, obj } of manifestObjects(rendered)) {
      const step = STEPS.find((s) => path.startsWith(`manifests/${s.dir}/`))!;
      expect(obj.metadata.labels['cilium-cutover.io/step'], path).toBe(step.dir);
      expect(obj.metadata.labels['app.kubernetes.io/managed-by'], path).toBe('cilium-cutover');
      expect(obj.metadata.annotations['argocd.argoproj.io/sync-wave'], path).toBe(String(step.wave));
    }
  });

  it('lists exactly its files in each step kustomization, and the steps in the root', () => {
    for (const dir of rendered.steps.map((st) => st.step.dir)) {
      const listed = parse(rendered.files.get(`manifests/${dir}/kustomization.yaml`)!).resources;
      const present = [...rendered.files.keys()]
        .filter((p) => p.startsWith(`manifests/${dir}/`) && !p.endsWith('kustomization.yaml'))
        .map((p) => p.slice(p.lastIndexOf('/') + 1));
      expect(listed).toEqual(present);
    }
    expect(parse(rendered.files.get('manifests/kustomization.yaml')!).resources).toEqual([
      '000-preflight',
      '100-calico-delete',
      '110-node-cleanup',
      '200-cilium',
      '210-kube-proxy-cleanup',
      '250-readdress-pods',
      '300-verify-workloads',
      '310-verify-checks',
      '900-complete',
    ]);
  });

  it('keeps Job names within 63 characters and file names free of hashes', () => {
    for (const { path, obj } of manifestObjects(rendered)) {
      expect(obj.metadata.name.length, path).toBeLessThanOrEqual(63);
      if (obj.kind === 'Job') {
        expect(obj.metadata.name).toMatch(/-[0-9a-f]{8}$/);
        expect(path).not.toMatch(/[0-9a-f]{8}\.yaml$/);
      }
    }
  });

  /** The files that differ between two renders. */
  const changedFiles = (a: typeof rendered, b: typeof rendered) =>
    [...a.files.keys()].filter((p) => a.files.get(p) !== b.files.get(p)).sort();
  const verifyJobs = [
    'cluster',
    ...['host', 'pods'].flatMap((k) => ['k3s-server-1', 'k3s-server-2', 'k3s-server-3'].map((n) => `${k}-${n}`)),
  ].map((c) => `manifests/310-verify-checks/job-verify-${c}.yaml`);

  it('a retry of step 110 renames the Jobs of 110 and every later step, and nothing before it', () => {
    const retried = renderExample((d) => (d.run.retries = ['110-node-cleanup']));
    const names = (r: typeof rendered) => manifestObjects(r).map(({ path, obj }) => `${path} ${obj.kind} ${obj.metadata.name}`);
    const before = names(rendered);
    const after = names(retried);
    const changed = before.filter((line, i) => line !== after[i]);
    expect(changed.length).toBeGreaterThan(0);
    expect(changed.every((line) => / Job /.test(line))).toBe(true);
    const later = [
      'manifests/110-node-cleanup/job-cleanup-node-k3s-server-1.yaml',
      'manifests/110-node-cleanup/job-cleanup-node-k3s-server-2.yaml',
      'manifests/110-node-cleanup/job-cleanup-node-k3s-server-3.yaml',
      'manifests/210-kube-proxy-cleanup/job-kube-proxy-cleanup-k3s-server-1.yaml',
      'manifests/210-kube-proxy-cleanup/job-kube-proxy-cleanup-k3s-server-2.yaml',
      'manifests/210-kube-proxy-cleanup/job-kube-proxy-cleanup-k3s-server-3.yaml',
      'manifests/250-readdress-pods/job-readdress.yaml',
      ...verifyJobs,
      'manifests/900-complete/job-node-check.yaml',
    ];
    expect(changedFiles(rendered, retried)).toEqual(['PLAN.md', ...later].sort());
    // The preflight and the deletion keep their names: an engine that walks from wave 0 skips them.
    for (const path of ['manifests/000-preflight/job-preflight.yaml', 'manifests/100-calico-delete/job-calico-delete.yaml']) {
      expect(retried.files.get(path)).toBe(rendered.files.get(path));
    }

    // A second retry, later: only the steps from there on are renamed again.
    const again = renderExample((d) => (d.run.retries = ['110-node-cleanup', '310-verify-checks']));
    expect(changedFiles(retried, again)).toEqual(['PLAN.md', ...verifyJobs, 'manifests/900-complete/job-node-check.yaml'].sort());
  });

  it('refuses a retry of a step this config does not have, naming the steps it has', () => {
    expect(() => renderExample((d) => (d.run.retries = ['115-node-cleanup']))).toThrow(
      'run.retries[0]: "115-node-cleanup" is not a step of this config; use one of 000-preflight, 050-pause, 100-calico-delete, 110-node-cleanup, 200-cilium, 210-kube-proxy-cleanup, 250-readdress-pods, 300-verify-workloads, 310-verify-checks, 800-resume, 900-complete',
    );
  });

  it('leaves out GitOps objects the engine setting does not ask for', () => {
    const argo = render(exampleConfig((d) => (d.gitops.engine = 'argocd')));
    expect([...argo.files.keys()].some((p) => p.startsWith('flux/'))).toBe(false);
    expect(argo.files.has('argocd/application-cilium-cutover-hetzner-demo.yaml')).toBe(true);
    const flux = render(exampleConfig((d) => (d.gitops.engine = 'flux')));
    expect([...flux.files.keys()].some((p) => p.startsWith('argocd/'))).toBe(false);
  });
});

describe('renderChart', () => {
  const step = STEPS[0]!;

  it('adds our labels but keeps the ones an object already sets', () => {
    const chart = new Chart(new App(), 'c');
    new ApiObject(chart, 'Upstream', {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'upstream', namespace: 'kube-system', labels: { 'app.kubernetes.io/part-of': 'cilium' } },
    });
    const files = new Map<string, string>();
    const [written] = renderChart(chart, 'manifests/x', step, files);
    expect(written!.path).toBe('manifests/x/configmap-upstream.yaml');
    const obj = parse(files.get(written!.path)!);
    expect(obj.metadata.labels).toEqual({
      'app.kubernetes.io/part-of': 'cilium',
      'app.kubernetes.io/managed-by': 'cilium-cutover',
      'cilium-cutover.io/step': '000-preflight',
    });
    expect(obj.metadata.annotations).toEqual({ 'argocd.argoproj.io/sync-wave': '0' });
  });

  it('refuses two objects that map to one file', () => {
    const chart = new Chart(new App(), 'c');
    const a = new ApiObject(chart, 'A', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x', namespace: 'a' } });
    const b = new ApiObject(chart, 'B', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x', namespace: 'b' } });
    setFileName(a, 'same');
    setFileName(b, 'same');
    expect(() => renderChart(chart, 'manifests/x', step, new Map())).toThrow(
      'two objects would be written to manifests/x/same.yaml: c/A and c/B; give one of them another file name',
    );
  });

  it('rejects file names that are not plain', () => {
    const chart = new Chart(new App(), 'c');
    const a = new ApiObject(chart, 'A', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x' } });
    expect(() => setFileName(a, '../escape')).toThrow("file name '../escape' must be lower-case letters, digits, '.' and '-'");
  });
});
