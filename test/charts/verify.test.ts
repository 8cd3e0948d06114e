import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { verifySpec } from '../../charts/verify-checks.ts';
import { VERIFY_CHECKS } from '../../lib/output/verify-table.ts';
import { exampleConfig, manifestObjects, renderExample } from '../support/helpers.ts';
import type { Rendered } from '../../lib/output/rendered.ts';

// Parsed YAML.
type Any = any;
const objectsIn = (r: Rendered, dir: string): Any[] => manifestObjects(r, `manifests/${dir}/`).map(({ obj }) => obj);
const NODES = ['k3s-server-1', 'k3s-server-2', 'k3s-server-3'];

describe('300-verify-workloads', () => {
  const rendered = renderExample();
  const objects = objectsIn(rendered, '300-verify-workloads');
  const echo = objects.find((o) => o.kind === 'DaemonSet');

  it('runs an echo pod on every node, tainted ones included', () => {
    expect(echo.metadata.name).toBe('echo');
    expect(echo.spec.template.spec.tolerations).toEqual([{ operator: 'Exists' }]);
    expect(echo.spec.template.spec.affinity).toBeUndefined();
    expect(echo.spec.template.metadata.labels).toMatchObject(echo.spec.selector.matchLabels);
  });

  it('keeps the echo off the nodes in run.skipNodes, which are down', () => {
    const skipped = objectsIn(
      renderExample((d) => (d.run.skipNodes = ['k3s-server-3'])),
      '300-verify-workloads',
    ).find((o) => o.kind === 'DaemonSet');
    expect(skipped.spec.template.spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms).toEqual([
      { matchFields: [{ key: 'metadata.name', operator: 'NotIn', values: ['k3s-server-3'] }] },
    ]);
  });

  it('pins image, resources and a non-root, read-only container', () => {
    const c = echo.spec.template.spec.containers[0];
    expect(c.image).toMatch(/^docker\.io\/library\/node:22\.16\.0-alpine@sha256:[0-9a-f]{64}$/);
    expect(c.resources).toEqual({ requests: { cpu: '10m', memory: '32Mi' }, limits: { memory: '96Mi' } });
    expect(c.securityContext).toMatchObject({ runAsNonRoot: true, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false });
    expect(echo.spec.template.spec.automountServiceAccountToken).toBe(false);
  });

  it('exposes the echo pods on a ClusterIP and a NodePort Service, and an Ingress unless ingress is in verify.skip', () => {
    const svc = (name: string) => objects.find((o) => o.kind === 'Service' && o.metadata.name === name);
    expect(svc('echo').spec).toMatchObject({ type: 'ClusterIP', selector: echo.spec.selector.matchLabels });
    expect(svc('echo').spec.ports).toEqual([{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' }]);
    expect(svc('echo-nodeport').spec).toMatchObject({
      type: 'NodePort',
      externalTrafficPolicy: 'Cluster',
      selector: echo.spec.selector.matchLabels,
    });
    expect(objects.find((o) => o.kind === 'Ingress').spec).toEqual({
      ingressClassName: 'traefik',
      rules: [
        {
          host: 'echo.cilium-cutover.invalid',
          http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'echo', port: { number: 80 } } } }] },
        },
      ],
    });
    const skipped = objectsIn(
      renderExample((d) => (d.verify.skip = ['ingress'])),
      '300-verify-workloads',
    );
    expect(skipped.some((o) => o.kind === 'Ingress')).toBe(false);
  });

  it('goes away with verify.enabled: false, and the checks with it', () => {
    const off = renderExample((d) => (d.verify.enabled = false));
    expect([...off.files.keys()].some((p) => /^manifests\/3\d\d-/.test(p))).toBe(false);
    expect(parse(off.files.get('manifests/kustomization.yaml')!).resources).not.toContain('310-verify-checks');
  });
});

describe('310-verify-checks', () => {
  const rendered = renderExample();
  const jobs = objectsIn(rendered, '310-verify-checks').filter((o) => o.kind === 'Job');
  const base = (j: Any): string => j.metadata.name.replace(/-[0-9a-f]{8}$/, '');
  const jobFor = (name: string) => jobs.find((j) => base(j) === name);

  it('has the cluster check and, per checked node, a pod-network and a host check pinned to it', () => {
    expect(jobs.map(base).sort()).toEqual(
      ['verify-cluster', ...NODES.map((n) => `verify-host-${n}`), ...NODES.map((n) => `verify-pods-${n}`)].sort(),
    );
    for (const node of NODES) {
      expect(jobFor(`verify-pods-${node}`).spec.template.spec.nodeName).toBe(node);
      expect(jobFor(`verify-host-${node}`).spec.template.spec.nodeName).toBe(node);
      expect(jobFor(`verify-pods-${node}`).spec.template.spec.containers[0].env).toContainEqual({ name: 'NODE_NAME', value: node });
    }
    expect(jobFor('verify-cluster').spec.template.spec.nodeName).toBeUndefined();
  });

  it('checks no node listed in run.skipNodes: it is down or gone', () => {
    const skipped = objectsIn(
      renderExample((d) => (d.run.skipNodes = ['k3s-server-3'])),
      '310-verify-checks',
    ).filter((o) => o.kind === 'Job');
    expect(skipped.map(base).filter((n: string) => n.endsWith('k3s-server-3'))).toEqual([]);
    const spec = verifySpec(exampleConfig((d) => (d.run.skipNodes = ['k3s-server-3'])));
    expect(spec.nodes.map((n) => n.name)).toEqual(['k3s-server-1', 'k3s-server-2']);
  });

  it('retries inside the program only: no second pod, a deadline that covers the wait and the window', () => {
    for (const job of jobs) {
      expect(job.spec.backoffLimit).toBe(0);
      expect(job.spec.activeDeadlineSeconds).toBe(600 + 180 + 120);
      expect(job.spec.ttlSecondsAfterFinished).toBeUndefined();
    }
    const slow = objectsIn(
      renderExample((d) => (d.verify.limits = { wait: '20m', window: '5m' })),
      '310-verify-checks',
    ).filter((o) => o.kind === 'Job');
    expect(slow[0].spec.activeDeadlineSeconds).toBe(1200 + 300 + 120);
    const flux = parse(
      renderExample((d) => (d.verify.limits = { wait: '20m', window: '5m' })).files.get(
        'flux/kustomization-cilium-cutover-hetzner-demo-310-verify-checks.yaml',
      )!,
    );
    expect(flux.spec.timeout).toBe('30m');
  });

  it('runs the pod checks unprivileged on the pod network, the host checks as root on the host network with only the agent socket directory', () => {
    const pods = jobFor('verify-pods-k3s-server-1').spec.template.spec;
    expect(pods.hostNetwork).toBeUndefined();
    expect(pods.containers[0].securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 1000 });
    const host = jobFor('verify-host-k3s-server-1').spec.template.spec;
    expect(host.hostNetwork).toBe(true);
    expect(host.hostPID).toBeUndefined();
    expect(host.containers[0].securityContext).toEqual({
      runAsNonRoot: false,
      runAsUser: 0,
      runAsGroup: 0,
      seLinuxOptions: { type: 'spc_t', level: 's0' },
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ['ALL'] },
    });
    expect(host.volumes.filter((v: Any) => v.hostPath)).toEqual([
      { name: 'host-var-run-cilium', hostPath: { path: '/var/run/cilium', type: 'Directory' } },
    ]);
    expect(host.containers[0].volumeMounts).toContainEqual({
      name: 'host-var-run-cilium',
      mountPath: '/host/var/run/cilium',
      readOnly: true,
    });
  });

  it('limits each account to what it reads, by name where Kubernetes allows', () => {
    const roles = objectsIn(rendered, '310-verify-checks').filter((o) => o.kind === 'Role' || o.kind === 'ClusterRole');
    const grants = roles.flatMap((r) =>
      r.rules.flatMap((rule: Any) =>
        rule.verbs.map(
          (v: string) =>
            `${r.metadata.name} ${v} ${rule.apiGroups[0]}/${rule.resources.join(',')} ${r.metadata.namespace ?? '-'} ${(rule.resourceNames ?? ['*']).join(',')}`,
        ),
      ),
    );
    expect(grants.sort()).toEqual(
      [
        'cilium-cutover-verify-cluster get /configmaps cilium-cutover-verify verify-nodes',
        'cilium-cutover-verify-cluster get apps/daemonsets kube-system cilium',
        'cilium-cutover-verify-cluster get apps/deployments kube-system cilium-operator',
        'cilium-cutover-verify-cluster get /nodes - k3s-server-1,k3s-server-2,k3s-server-3',
        'cilium-cutover-verify-cluster list /events,pods - *',
        'cilium-cutover-verify-cluster list cilium.io/ciliumendpoints - *',
        'cilium-cutover-verify-host get /configmaps cilium-cutover-verify verify-nodes',
        'cilium-cutover-verify-host get /services cilium-cutover-verify echo,echo-nodeport',
        'cilium-cutover-verify-host list /pods cilium-cutover-verify *',
        'cilium-cutover-verify-pods get /configmaps cilium-cutover-verify verify-nodes',
        'cilium-cutover-verify-pods get /services cilium-cutover-verify echo,echo-nodeport',
        'cilium-cutover-verify-pods get /services kube-system traefik',
        'cilium-cutover-verify-pods list /pods cilium-cutover-verify *',
      ].sort(),
    );
  });

  it('writes what is checked and what was acknowledged as not verified into the spec', () => {
    const spec = (r: Rendered) =>
      JSON.parse(objectsIn(r, '310-verify-checks').find((o) => o.kind === 'ConfigMap' && o.data['verify.json']).data['verify.json']);
    const nodes = objectsIn(rendered, '310-verify-checks').find((o) => o.kind === 'ConfigMap' && o.metadata.name === 'verify-nodes');
    expect(JSON.parse(nodes.data['nodes.json'])).toEqual([
      { name: 'k3s-server-1', internalIP: '10.0.0.2' },
      { name: 'k3s-server-2', internalIP: '10.0.0.3' },
      { name: 'k3s-server-3', internalIP: '10.0.0.4' },
    ]);
    expect(spec(rendered).nodes).toBeUndefined();
    expect(spec(rendered).nodeList).toBe('verify-nodes');
    expect(spec(rendered).ingress).toEqual({
      host: 'echo.cilium-cutover.invalid',
      controller: 'service',
      port: 80,
      service: { namespace: 'kube-system', name: 'traefik' },
    });
    expect(spec(rendered).externalURLs).toEqual(['https://one.one.one.one/']);
    expect(spec(rendered).notVerified).toEqual([]);
    expect(spec(rendered).cilium).toMatchObject({
      routing: 'Native',
      kubeProxyReplacement: true,
      agentSocket: '/host/var/run/cilium/cilium.sock',
    });
    const skipped = spec(
      renderExample((d) => {
        d.verify.skip = ['egress', 'ingress'];
        d.verify.externalURLs = [];
      }),
    );
    expect(skipped.ingress).toBeUndefined();
    expect(skipped.externalURLs).toEqual([]);
    expect(skipped.notVerified).toEqual(['egress', 'ingress']);
  });

  it('PLAN.md lists every check with what a PASS proves and does not, and what was not verified', () => {
    const plan = rendered.files.get('PLAN.md')!;
    expect(plan).toContain('`kubectl logs -n cilium-cutover-verify -l app.kubernetes.io/component=verify --prefix --tail=-1`');
    for (const row of VERIFY_CHECKS) {
      expect(plan).toContain(`| \`${row.check}\` |`);
    }
    const skipped = renderExample((d) => {
      d.verify.skip = ['egress'];
      d.verify.externalURLs = [];
    }).files.get('PLAN.md')!;
    expect(skipped).toContain('**Not verified** (`verify.skip`, also in the status record): `egress`.');
  });
});
