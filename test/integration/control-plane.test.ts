/**
 * Against a real kube-apiserver (scripts/control-plane/, or any disposable cluster): the output
 * applies with a server-side dry-run, a broken object is refused by name, and every generated
 * ServiceAccount can do what its rules say and nothing else (SubjectAccessReview).
 *
 * It runs when CILIUM_CUTOVER_TEST_KUBECONFIG names a kubeconfig, and prints one SKIP line
 * otherwise. It creates namespaces, RBAC objects and CRDs for real: use a throwaway cluster.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { type CliIo, runCli } from '../../cli/index.ts';
import { kubeCluster, loadKubeConfig } from '../../lib/apply/cluster.ts';
import { readDist } from '../../lib/apply/dist.ts';
import { outputIdentity } from '../../lib/apply/identity.ts';
import { writeOutput } from '../../lib/output/writer.ts';
import { render } from '../../charts/app.ts';
import { remoteCommands } from '../../lib/output/plan-maintenance.ts';
import { PAUSE_ANNOTATIONS } from '../../lib/incluster/maintenance.ts';
import { exampleConfig, exampleData, isObjectFile, load, permissiveCrd, renderExample } from '../support/helpers.ts';
import { outputAtSimulationLevel } from '../../scripts/sim-cluster/api-level.ts';

const kubeconfig = process.env.CILIUM_CUTOVER_TEST_KUBECONFIG;
if (!kubeconfig) {
  console.log(
    'SKIP integration: no test control plane; start one with scripts/control-plane/start.sh and set CILIUM_CUTOVER_TEST_KUBECONFIG',
  );
}

// Parsed YAML.
type Any = any;

function kubectl(args: string[], input?: string) {
  const result = spawnSync('kubectl', ['--kubeconfig', kubeconfig!, ...args], { input, encoding: 'utf8', timeout: 60_000 });
  return { code: result.status, out: result.stdout, err: result.stderr };
}

// The example with the maintenance window on, so its steps and accounts are covered too.
const rendered = renderExample((d) => {
  d.maintenance = {
    workloads: [{ kind: 'Deployment', namespace: 'shop', name: 'web' }],
    flux: [{ kind: 'Kustomization', name: 'apps' }],
    argocd: [{ name: 'shop' }],
  };
});
const out = join(mkdtempSync(join(tmpdir(), 'cilium-cutover-it-')), 'dist');
writeOutput(out, rendered.files);
const objects: Any[] = [...rendered.files].filter(([p]) => p.startsWith('manifests/') && isObjectFile(p)).map(([, t]) => parse(t));

/**
 * A copy of the output at this API server's level (1.20): what later releases added is changed by
 * the one table in scripts/sim-cluster/api-level.ts, each change printed, so nothing is skipped
 * silently (test/sim-cluster/api-level.test.ts shows nothing else changes).
 */
function stripNewerFields(dist: string, files: ReadonlyMap<string, string> = rendered.files): string {
  const level = outputAtSimulationLevel(dist, files.keys());
  if (level.changes.length > 0) {
    console.log(`not checked on this API server (newer than it): ${level.changes.join('; ')}`);
  }
  return level.dir;
}

/** A SubjectAccessReview for the ServiceAccount: `resource` is `plural[.group][/subresource]`. */
function can(sa: Any, verb: string, resource: string, namespace: string | undefined, name?: string): string {
  const [plural, subresource] = resource.split('/');
  const dot = plural!.indexOf('.');
  const review = {
    apiVersion: 'authorization.k8s.io/v1',
    kind: 'SubjectAccessReview',
    spec: {
      user: `system:serviceaccount:${sa.metadata.namespace}:${sa.metadata.name}`,
      groups: ['system:serviceaccounts', `system:serviceaccounts:${sa.metadata.namespace}`, 'system:authenticated'],
      resourceAttributes: {
        verb,
        group: dot === -1 ? '' : plural!.slice(dot + 1),
        resource: dot === -1 ? plural : plural!.slice(0, dot),
        ...(subresource ? { subresource } : {}),
        ...(name ? { name } : {}),
        ...(namespace ? { namespace } : {}),
      },
    },
  };
  const result = kubectl(['create', '-o', 'jsonpath={.status.allowed}', '-f', '-'], JSON.stringify(review));
  expect(result.err).toBe('');
  return result.out.trim() === 'true' ? 'yes' : 'no';
}

/** Runs `cilium-cutover apply` on a directory against the test cluster. */
async function apply(args: string[], dir: string, overrides: Partial<CliIo> = {}) {
  const stdout: string[] = [];
  const stderr: string[] = [];
  // This API server has no kubelets, so none of the output's nodes: the real client, with the
  // identity the output expects (apply's identity check runs on the simulated cluster instead).
  const identity = outputIdentity(readDist(dir).find((s) => s.dir === '000-preflight'));
  const real = kubeCluster(loadKubeConfig(kubeconfig!, undefined));
  const cluster = { ...real, identity: async () => ({ nodes: identity?.nodes ?? [] }) };
  const code = await runCli(['apply', '--dir', dir, '--kubeconfig', kubeconfig!, ...args], {
    stdout: (l) => stdout.push(l),
    stderr: (l) => stderr.push(l),
    cwd: process.cwd(),
    status: undefined,
    pollMs: 200,
    cluster,
    ...overrides,
  });
  return { code, stdout, stderr };
}

/** The paths of the leaves of `written` that `stored` lacks or holds with another value. */
function dropped(written: unknown, stored: unknown, path = ''): string[] {
  if (written !== null && typeof written === 'object') {
    if (stored === null || typeof stored !== 'object') {
      return [`${path} (not stored)`];
    }
    return Object.entries(written).flatMap(([key, value]) =>
      dropped(value, (stored as Record<string, unknown>)[key], Array.isArray(written) ? `${path}[${key}]` : `${path}.${key}`),
    );
  }
  return written === stored
    ? []
    : [`${path}: ${JSON.stringify(written)} written, ${stored === undefined ? 'not stored' : JSON.stringify(stored)}`];
}

describe.skipIf(!kubeconfig)('against a real API server', () => {
  beforeAll(() => {
    // Namespaces and RBAC for real: the dry-run of namespaced objects needs the namespaces, and
    // the access reviews need the roles.
    const real = objects.filter((o) =>
      ['Namespace', 'ServiceAccount', 'Role', 'ClusterRole', 'RoleBinding', 'ClusterRoleBinding'].includes(o.kind),
    );
    const ns = ['kube-system', 'argocd', 'flux-system', 'shop'].map((name) => ({
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name },
    }));
    const crds = [
      permissiveCrd('argoproj.io', 'Application', 'applications', 'v1alpha1'),
      permissiveCrd('source.toolkit.fluxcd.io', 'GitRepository', 'gitrepositories', 'v1'),
      permissiveCrd('kustomize.toolkit.fluxcd.io', 'Kustomization', 'kustomizations', 'v1'),
    ];
    const setup = [...ns, ...crds, ...real.filter((o) => o.kind === 'Namespace'), ...real.filter((o) => o.kind !== 'Namespace')];
    // --force-conflicts: a later test (per-node) applies objects of the same names with other labels.
    const applied = kubectl(
      ['apply', '--server-side', '--force-conflicts', '--field-manager=cilium-cutover-test', '-f', '-'],
      setup.map((o) => stringify(o)).join('---\n'),
    );
    expect(applied.err).toBe('');
    expect(applied.code).toBe(0);
    kubectl(['wait', '--for=condition=Established', '--timeout=60s', ...crds.map((c) => `crd/${c.metadata.name}`)]);
  });

  it('every step of the example applies with `apply --dry-run=server`', async () => {
    // `apiVersion kind` of every API the server serves (columns: NAME [SHORTNAMES] APIVERSION NAMESPACED KIND).
    const served = new Set(
      kubectl(['api-resources', '--no-headers'])
        .out.trim()
        .split('\n')
        .map((line) => line.trim().split(/\s+/))
        .map((cols) => `${cols.at(-3)} ${cols.at(-1)}`),
    );
    const copy = stripNewerFields(out);
    // Objects whose API this server lacks are taken out of the copy and listed, not dropped silently.
    const unsupported = objects.filter((o) => !served.has(`${o.apiVersion} ${o.kind}`));
    for (const o of unsupported) {
      const step = o.metadata.labels['cilium-cutover.io/step'];
      const file = join(copy, 'manifests', step, 'kustomization.yaml');
      const k = parse(readFileSync(file, 'utf8'));
      k.resources = k.resources.filter(
        (r: string) => parse(readFileSync(join(copy, 'manifests', step, r), 'utf8')).metadata.name !== o.metadata.name,
      );
      writeFileSync(file, stringify(k));
    }
    if (unsupported.length > 0) {
      console.log(
        `not checked on this API server (no such API): ${unsupported.map((o) => `${o.apiVersion} ${o.kind}/${o.metadata.name}`).join(', ')}`,
      );
    }
    expect(served.has('batch/v1 Job')).toBe(true);
    const result = await apply(['--dry-run=server'], copy);
    expect(result.stderr).toEqual([]);
    expect(result.code).toBe(0);
    expect(result.stdout.filter((l) => l.endsWith('accepted (dry-run)'))).toHaveLength(objects.length - unsupported.length);
  });

  it('the server stores every field as written: no zero it drops, on which two server-side appliers would conflict', () => {
    // A field the server does not store (a false or 0 under omitempty, such as hostNetwork or a
    // probe's initialDelaySeconds) is owned by the first applier only: a second one applying the
    // same file conflicts on it (kubernetes/kubernetes#128924), so `apply` and an engine could not
    // take turns on the same files.
    const copy = stripNewerFields(out);
    const files = readDist(copy).flatMap((s) => s.objects);
    const list = { apiVersion: 'v1', kind: 'List', items: files };
    const result = kubectl(
      ['apply', '--server-side', '--force-conflicts', '--dry-run=server', '--field-manager=round-trip', '-o', 'json', '-f', '-'],
      JSON.stringify(list),
    );
    expect(result.err).toBe('');
    const stored: Any[] = JSON.parse(result.out).items;
    expect(stored).toHaveLength(files.length);
    const differences = files.flatMap((file, i) => dropped(file, stored[i]).map((path) => `${file.kind}/${file.metadata.name}: ${path}`));
    expect(differences).toEqual([]);
  });

  it('a broken object fails the dry-run, and the error names it', async () => {
    const copy = stripNewerFields(out);
    const path = join(copy, 'manifests', '100-calico-delete', 'job-calico-delete.yaml');
    const job = parse(readFileSync(path, 'utf8'));
    writeFileSync(path, stringify({ ...job, spec: { ...job.spec, backoffLimit: 'six' } }));
    const result = await apply(['--dry-run=server'], copy);
    expect(result.code).toBe(1);
    expect(result.stderr.join('\n')).toContain(`step 100-calico-delete failed: applying job/cilium-cutover/${job.metadata.name}`);
    expect(result.stderr.join('\n')).toContain('backoffLimit');
  });

  it('the GitOps objects apply with a server-side dry-run', () => {
    for (const dir of ['argocd', 'flux']) {
      const files = [...rendered.files].filter(([p]) => p.startsWith(`${dir}/`) && isObjectFile(p)).map(([, t]) => t);
      const result = kubectl(['apply', '--server-side', '--dry-run=server', '-f', '-'], files.join('---\n'));
      expect(result.err, dir).toBe('');
      expect(result.code, dir).toBe(0);
    }
  });

  it("PLAN.md's commands for Argo CD Applications in another cluster: a second pause keeps what the first remembered, resume restores it", () => {
    const config = exampleConfig((d) => {
      d.maintenance = { remoteArgocd: [{ name: 'remote-auto' }, { name: 'remote-manual' }] };
    });
    const automated = { prune: true, selfHeal: true };
    for (const [name, syncPolicy] of [
      ['remote-auto', { automated }],
      ['remote-manual', {}],
    ] as const) {
      const app = {
        apiVersion: 'argoproj.io/v1alpha1',
        kind: 'Application',
        metadata: { name, namespace: 'argocd' },
        spec: { syncPolicy },
      };
      expect(kubectl(['apply', '--server-side', '--field-manager=argocd-test', '-f', '-'], stringify(app)).code).toBe(0);
    }
    // The commands as PLAN.md prints them, with this API server for the Argo CD cluster.
    const run = (mode: 'pause' | 'resume') => {
      const script = remoteCommands(config, mode)
        .filter((l) => l.startsWith('kubectl ') || l.startsWith('a='))
        .map((l) => l.replaceAll('--context <argocd-cluster>', `--kubeconfig ${kubeconfig}`))
        .join('\n');
      const result = spawnSync('bash', ['-euc', script], { encoding: 'utf8' });
      expect(result.stderr.replace(/^.*annotation .* not found.*\n?/gm, '')).toBe('');
      expect(result.status).toBe(0);
    };
    const state = (name: string) => {
      const app = parse(kubectl(['-n', 'argocd', 'get', 'application', name, '-o', 'yaml']).out);
      return { automated: app.spec.syncPolicy?.automated, remembered: app.metadata.annotations?.[PAUSE_ANNOTATIONS.argocd] };
    };
    run('pause');
    run('pause');
    expect(state('remote-auto')).toEqual({ automated: undefined, remembered: JSON.stringify(automated) });
    expect(state('remote-manual')).toEqual({ automated: undefined, remembered: 'none' });
    run('resume');
    run('resume');
    expect(state('remote-auto')).toEqual({ automated, remembered: undefined });
    expect(state('remote-manual')).toEqual({ automated: undefined, remembered: undefined });
  });

  describe('every generated ServiceAccount can do what its rules say, and nothing else', () => {
    const accounts = objects.filter((o) => o.kind === 'ServiceAccount');
    for (const sa of accounts) {
      it(`${sa.metadata.namespace}/${sa.metadata.name}`, () => {
        const bindings = objects.filter(
          (o) =>
            (o.kind === 'RoleBinding' || o.kind === 'ClusterRoleBinding') &&
            o.subjects.some((s: Any) => s.name === sa.metadata.name && s.namespace === sa.metadata.namespace),
        );
        expect(bindings.length).toBeGreaterThan(0);
        // What a ClusterRole bound to the account grants everywhere and for every name (Cilium
        // 1.20's operator reads ServiceAccounts cluster-wide, and its ztunnel Role again in
        // kube-system): a narrower rule for the same verb is then not denied elsewhere.
        const everywhere = bindings
          .filter((b) => b.kind === 'ClusterRoleBinding')
          .flatMap((b) => objects.find((o) => o.kind === 'ClusterRole' && o.metadata.name === b.roleRef.name).rules)
          .filter((r: Any) => r.resourceNames === undefined)
          .flatMap((r: Any) =>
            r.verbs.flatMap((v: string) => r.apiGroups.flatMap((g: string) => r.resources.map((x: string) => `${v} ${g}/${x}`))),
          );
        let checked = 0;
        for (const binding of bindings) {
          const role = objects.find(
            (o) =>
              o.kind === binding.roleRef.kind &&
              o.metadata.name === binding.roleRef.name &&
              (binding.kind === 'ClusterRoleBinding' || o.metadata.namespace === binding.metadata.namespace),
          );
          const namespace = binding.kind === 'RoleBinding' ? binding.metadata.namespace : undefined;
          for (const rule of role.rules) {
            const [plural, subresource] = rule.resources[0].split('/');
            const resource = `${plural}${rule.apiGroups[0] ? `.${rule.apiGroups[0]}` : ''}${subresource ? `/${subresource}` : ''}`;
            const name = rule.resourceNames?.[0];
            const what = `${rule.verbs[0]} ${resource}${name ? ` ${name}` : ''}${namespace ? ` in ${namespace}` : ''}`;
            expect(can(sa, rule.verbs[0], resource, namespace, name), `allowed: ${what}`).toBe('yes');
            if (everywhere.includes(`${rule.verbs[0]} ${rule.apiGroups[0]}/${rule.resources[0]}`)) {
              checked++;
              continue;
            }
            if (name) {
              expect(can(sa, rule.verbs[0], resource, namespace, `not-${name}`), `denied: ${what} for another name`).toBe('no');
            }
            if (namespace) {
              expect(can(sa, rule.verbs[0], resource, 'another-namespace', name), `denied: ${what} in another namespace`).toBe('no');
            }
            checked++;
          }
        }
        expect(can(sa, 'deletecollection', 'secrets', sa.metadata.namespace), 'denied: secrets').toBe('no');
        expect(can(sa, 'create', 'clusterrolebindings.rbac.authorization.k8s.io', undefined), 'denied: granting itself more').toBe('no');
        expect(checked).toBeGreaterThan(0);
      });
    }

    it('the Calico deletion account can delete calico-node but no other DaemonSet', () => {
      const sa = accounts.find((a) => a.metadata.name === 'cilium-cutover-calico-delete');
      expect(can(sa, 'delete', 'daemonsets.apps', 'kube-system', 'calico-node')).toBe('yes');
      expect(can(sa, 'delete', 'daemonsets.apps', 'kube-system', 'cilium')).toBe('no');
      expect(
        can(sa, 'delete', 'customresourcedefinitions.apiextensions.k8s.io', undefined, 'bgpconfigurations.crd.projectcalico.org'),
      ).toBe('yes');
      expect(can(sa, 'delete', 'customresourcedefinitions.apiextensions.k8s.io', undefined, 'ciliumnodes.cilium.io')).toBe('no');
    });
  });
});

/**
 * The output with step 900-complete cut down to the status record: this API server runs no pod, so
 * the node check's Job there would never complete.
 */
function recordOnly(output: string): string {
  const copy = join(mkdtempSync(join(tmpdir(), 'cilium-cutover-it-')), 'dist');
  cpSync(output, copy, { recursive: true });
  const file = join(copy, 'manifests', '900-complete', 'kustomization.yaml');
  const kustomization = parse(readFileSync(file, 'utf8'));
  expect(kustomization.resources).toContain('configmap-cilium-cutover-status.yaml');
  writeFileSync(file, stringify({ ...kustomization, resources: ['configmap-cilium-cutover-status.yaml'] }));
  return copy;
}

describe.skipIf(!kubeconfig)('handing over to a GitOps engine after apply', () => {
  const dir = kubeconfig ? recordOnly(stripNewerFields(out)) : '';
  const status = objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name === 'cilium-cutover-status');
  const liveData = () => JSON.parse(kubectl(['get', 'configmap', '-n', 'kube-system', 'cilium-cutover-status', '-o', 'json']).out).data;
  /** Flux's kustomize-controller applying a version of the object server-side. */
  const engineApplies = (obj: Any) => {
    const result = kubectl(['apply', '--server-side', '--field-manager=kustomize-controller', '-f', '-'], JSON.stringify(obj));
    expect(result.err).toBe('');
  };

  it('a field removed from Git stays while cilium-cutover co-owns it, and goes after --release', async () => {
    // Only the status record is under test here: no preflight runs on this API server.
    expect((await apply(['--from', '900', '--to', '900', '--without-preflight'], dir)).code).toBe(0);
    engineApplies(status);
    const { 'routing-mode': _removed, ...rest } = status.data;
    engineApplies({ ...status, data: rest });
    // The engine dropped the key, but the tool still owns it: it stays.
    expect(liveData()['routing-mode']).toBe('native');

    const released = await apply(['--release', '--from', '900', '--to', '900'], dir);
    expect(released.code).toBe(0);
    expect(released.stdout).toContain('[900-complete] configmap/kube-system/cilium-cutover-status released to kustomize-controller');
    expect(liveData()['routing-mode']).toBeUndefined();
    expect(liveData()).toEqual(rest);

    // Now the engine owns the fields: apply stops on a changed value unless told to take it back.
    const changed = join(mkdtempSync(join(tmpdir(), 'cilium-cutover-it-')), 'dist');
    cpSync(dir, changed, { recursive: true });
    const file = join(changed, 'manifests', '900-complete', 'configmap-cilium-cutover-status.yaml');
    writeFileSync(file, stringify({ ...status, data: { ...status.data, cluster: 'renamed' } }));
    const conflict = await apply(['--from', '900', '--to', '900', '--without-preflight'], changed);
    expect(conflict.code).toBe(1);
    expect(conflict.stderr[0]).toContain('conflict with "kustomize-controller"');
    expect(conflict.stderr[0]).toContain('pass --force-conflicts to take them back');
    expect((await apply(['--from', '900', '--to', '900', '--force-conflicts', '--without-preflight'], changed)).code).toBe(0);
    expect(liveData().cluster).toBe('renamed');
    // Leave the cluster as a later run of the suite expects it.
    kubectl(['delete', 'configmap', '-n', 'kube-system', 'cilium-cutover-status']);
  });
});

describe.skipIf(!kubeconfig)('discover against a real API server', () => {
  const run = async () => {
    const stdout: string[] = [];
    const stderr: string[] = [];
    const code = await runCli(['discover', '--kubeconfig', kubeconfig!], {
      stdout: (l) => stdout.push(l),
      stderr: (l) => stderr.push(l),
      cwd: tmpdir(),
    });
    return { code, stdout, stderr };
  };
  const nodeNames = ['k3s-server-1', 'k3s-server-2', 'k3s-server-3'];
  const setKubelet = (version: string) => {
    for (const [i, name] of nodeNames.entries()) {
      const status = { status: { nodeInfo: { kubeletVersion: version }, addresses: [{ type: 'InternalIP', address: `10.0.0.${i + 2}` }] } };
      const patched = kubectl(['patch', 'node', name, '--subresource=status', '--type=merge', '-p', JSON.stringify(status)]);
      expect(patched.err).toBe('');
    }
  };

  beforeAll(() => {
    const labels = (name: string) => ({
      'kubernetes.io/os': 'linux',
      'kubernetes.io/hostname': name,
      'node-role.kubernetes.io/control-plane': 'true',
    });
    const created = kubectl(
      ['apply', '-f', '-'],
      nodeNames.map((name) => stringify({ apiVersion: 'v1', kind: 'Node', metadata: { name, labels: labels(name) } })).join('---\n'),
    );
    expect(created.err).toBe('');
  });

  it('refuses a cluster whose nodes are not k3s, naming the node', async () => {
    setKubelet('v1.20.2');
    const result = await run();
    expect(result.code).toBe(2);
    expect(result.stderr).toEqual([
      'error: discover: node k3s-server-1 runs kubelet v1.20.2, not k3s; cilium-cutover migrates k3s clusters only',
    ]);
  });

  it('reads nodes, the Calico version and the service address, and the result validates', async () => {
    setKubelet('v1.32.5+k3s1');
    const calico = {
      apiVersion: 'apps/v1',
      kind: 'DaemonSet',
      metadata: { name: 'calico-node', namespace: 'kube-system' },
      spec: {
        selector: { matchLabels: { 'k8s-app': 'calico-node' } },
        template: {
          metadata: { labels: { 'k8s-app': 'calico-node' } },
          spec: { nodeSelector: { 'no-such-node': 'true' }, containers: [{ name: 'calico-node', image: 'docker.io/calico/node:v3.27.0' }] },
        },
      },
    };
    expect(kubectl(['apply', '-f', '-'], JSON.stringify(calico)).err).toBe('');
    const result = await run();
    kubectl(['delete', 'daemonset', '-n', 'kube-system', 'calico-node']);
    expect(result.stderr.filter((l) => !l.startsWith('note: '))).toEqual([]);
    // The deletion set was looked up object by object: only the DaemonSet exists here.
    expect(result.stderr.find((l) => l.startsWith('note: deletion set of Calico v3.27.0 (calico.yaml): 1 of '))).toBeDefined();
    expect(result.code).toBe(0);
    const text = `${result.stdout.join('\n')}\n`;
    const config = parse(text);
    expect(config.cluster.nodes).toEqual(nodeNames.map((name, i) => ({ name, role: 'server', internalIP: `10.0.0.${i + 2}` })));
    expect(config.cluster.kubernetesVersion).toBe('v1.32');
    expect(config.calico.version).toBe('v3.27.0');
    // No node-args and no IPPool API here: the defaults, each with a CHECK comment.
    expect(text).toMatch(/serviceCIDR: 10\.43\.0\.0\/16 # CHECK: .*the kubernetes Service has 10\.43\.0\.1/);
    expect(text).toMatch(/- 192\.168\.0\.0\/16 # CHECK: no IPv4 IPPool could be read/);
    const { parseConfig } = await import('../../lib/config/load.ts');
    expect(() => parseConfig(text, 'discovered.yaml')).not.toThrow();
  });
});

describe.skipIf(!kubeconfig)('discover on a half-removed Calico', () => {
  it('reads a cluster where only some Calico CRDs are left (a step 100 that stopped) without an internal error', async () => {
    const crd = permissiveCrd('crd.projectcalico.org', 'IPPool', 'ippools', 'v1', { scope: 'Cluster' });
    expect(kubectl(['apply', '-f', '-'], JSON.stringify(crd)).err).toBe('');
    kubectl(['wait', '--for=condition=Established', '--timeout=30s', 'crd/ippools.crd.projectcalico.org']);
    const stdout: string[] = [];
    const stderr: string[] = [];
    const code = await runCli(['discover', '--kubeconfig', kubeconfig!], {
      stdout: (l) => stdout.push(l),
      stderr: (l) => stderr.push(l),
      cwd: tmpdir(),
    });
    kubectl(['delete', 'crd', 'ippools.crd.projectcalico.org']);
    // calico-node went first: discover refuses in one line, naming what is left and the way on.
    expect(stderr.filter((l) => !l.startsWith('note: '))).toEqual([
      'error: discover: Calico is partly removed here (no kube-system/calico-node DaemonSet, but 1 of its objects are left: CustomResourceDefinition ippools.crd.projectcalico.org); discover reads the version from calico-node, so finish with the config you started with (apply --from 100)',
    ]);
    expect(code).toBe(2);
  });
});

describe.skipIf(!kubeconfig)('strategy per-node against a real API server', () => {
  const data = exampleData();
  data.strategy = 'per-node';
  data.perNode = { acknowledgeCalicoBGP: true };
  const perNode = render(load(data).config);
  const dir = join(mkdtempSync(join(tmpdir(), 'cilium-cutover-it-')), 'dist');
  writeOutput(dir, perNode.files);
  const manifests: Any[] = [...perNode.files].filter(([p]) => p.startsWith('manifests/') && isObjectFile(p)).map(([, t]) => parse(t));
  const account = (name: string) => manifests.find((o) => o.kind === 'ServiceAccount' && o.metadata.name === name);

  beforeAll(() => {
    // The CRD Cilium's operator would register, so the CiliumNodeConfigs are dry-run too.
    const crd = permissiveCrd('cilium.io', 'CiliumNodeConfig', 'ciliumnodeconfigs', 'v2');
    const rbac = manifests.filter((o) =>
      ['Namespace', 'ServiceAccount', 'Role', 'ClusterRole', 'RoleBinding', 'ClusterRoleBinding'].includes(o.kind),
    );
    const setup = [crd, ...rbac.filter((o) => o.kind === 'Namespace'), ...rbac.filter((o) => o.kind !== 'Namespace')];
    const applied = kubectl(
      ['apply', '--server-side', '--force-conflicts', '--field-manager=cilium-cutover-test', '-f', '-'],
      setup.map((o) => stringify(o)).join('---\n'),
    );
    expect(applied.err).toBe('');
    kubectl(['wait', '--for=condition=Established', '--timeout=60s', `crd/${crd.metadata.name}`]);
  });

  it('every step of the migrate phase, CiliumNodeConfigs included, applies with `apply --dry-run=server`', async () => {
    const result = await apply(['--dry-run=server'], stripNewerFields(dir, perNode.files));
    expect(result.stderr).toEqual([]);
    expect(result.code).toBe(0);
    const accepted = result.stdout.filter((l) => l.endsWith('accepted (dry-run)'));
    expect(accepted).toHaveLength(manifests.length);
    expect(accepted.filter((l) => l.includes('ciliumnodeconfig/kube-system/cilium-cutover-k3s-server-'))).toHaveLength(3);
  });

  it('a drain account may cordon its own node, list pods and evict, and nothing more', () => {
    const sa = account('cilium-cutover-move-k3s-server-2');
    expect(can(sa, 'patch', 'nodes', undefined, 'k3s-server-2')).toBe('yes');
    expect(can(sa, 'patch', 'nodes', undefined, 'k3s-server-1')).toBe('no');
    expect(can(sa, 'list', 'pods', 'shop')).toBe('yes');
    expect(can(sa, 'create', 'pods/eviction', 'shop', 'web-1')).toBe('yes');
    expect(can(sa, 'delete', 'pods', 'shop', 'web-1')).toBe('no');
    expect(can(sa, 'patch', 'nodes/status', undefined, 'k3s-server-2')).toBe('no');
    expect(can(sa, 'delete', 'ciliumnodeconfigs.cilium.io', 'kube-system', 'cilium-cutover-k3s-server-2')).toBe('no');
  });

  it("the network-condition account may patch the nodes' status, not the nodes", () => {
    const sa = account('cilium-cutover-network-condition');
    expect(can(sa, 'patch', 'nodes/status', undefined, 'k3s-server-3')).toBe('yes');
    expect(can(sa, 'patch', 'nodes', undefined, 'k3s-server-3')).toBe('no');
    expect(can(sa, 'patch', 'nodes/status', undefined, 'another-node')).toBe('no');
    expect(can(sa, 'list', 'pods', 'kube-system')).toBe('yes');
    expect(can(sa, 'list', 'pods', 'shop')).toBe('no');
  });
});

describe.skipIf(!kubeconfig)('restore against a real API server', () => {
  const cli = async (args: string[]) => {
    const out: string[] = [];
    const err: string[] = [];
    const code = await runCli(args, { stdout: (l) => out.push(l), stderr: (l) => err.push(l), cwd: tmpdir() });
    return { code, out, err };
  };
  // A kind no test installs: the API server's discovery does not know its group.
  const file = join(mkdtempSync(join(tmpdir(), 'cilium-cutover-restore-')), 'inventory.yaml');
  writeFileSync(
    file,
    stringify({ apiVersion: 'widgets.cilium-cutover.test/v1', kind: 'Widget', metadata: { name: 'w', namespace: 'nowhere' }, spec: {} }),
  );

  it('refuses, writing nothing, while the cluster does not serve a kind of the inventory', async () => {
    expect(await cli(['restore', '--kubeconfig', kubeconfig!, '--file', file, '--dry-run'])).toEqual({
      code: 1,
      out: [],
      err: [
        "error: refused to restore: the cluster does not serve widgets.cilium-cutover.test/v1 Widget: apply Calico's manifest (its CRDs) first, then restore",
      ],
    });
  });

  it('lists no inventory on a cluster that has none', async () => {
    expect(await cli(['inventory', '--kubeconfig', kubeconfig!])).toEqual({
      code: 0,
      out: ['no Calico inventory on this cluster'],
      err: [],
    });
  });
});
