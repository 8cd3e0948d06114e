import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { CHECKS, verifySpec } from '../../charts/verify-checks.ts';
import { exampleConfig, manifestObjects, renderExample } from '../support/helpers.ts';
import type { Rendered } from '../../lib/output/rendered.ts';

// Parsed YAML.
type Any = any;
const objectsIn = (r: Rendered, dir: string): Any[] => manifestObjects(r, `manifests/${dir}/`).map(({ obj }) => obj);

describe('300-verify-workloads', () => {
  const rendered = renderExample();
  const objects = objectsIn(rendered, '300-verify-workloads');
  const echo = objects.find((o) => o.kind === 'Deployment');

  it('runs two echo replicas that cannot share a node', () => {
    expect(echo.spec.replicas).toBe(2);
    const term = echo.spec.template.spec.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution[0];
    expect(term.topologyKey).toBe('kubernetes.io/hostname');
    expect(term.labelSelector.matchLabels).toEqual(echo.spec.selector.matchLabels);
    expect(echo.spec.template.metadata.labels).toMatchObject(echo.spec.selector.matchLabels);
    expect(echo.spec.template.spec.affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution).toBeUndefined();
  });

  it('runs one replica on a one-node cluster, so the step can become ready', () => {
    const single = objectsIn(
      renderExample((d) => d.cluster.nodes.splice(1)),
      '300-verify-workloads',
    ).find((o) => o.kind === 'Deployment');
    expect(single.spec.replicas).toBe(1);
  });

  it('pins image, resources and a non-root, read-only container', () => {
    const c = echo.spec.template.spec.containers[0];
    expect(c.image).toMatch(/^docker\.io\/library\/node:22\.16\.0-alpine@sha256:[0-9a-f]{64}$/);
    expect(c.resources).toEqual({ requests: { cpu: '10m', memory: '32Mi' }, limits: { memory: '96Mi' } });
    expect(c.securityContext).toMatchObject({ runAsNonRoot: true, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false });
    expect(echo.spec.template.spec.automountServiceAccountToken).toBe(false);
  });

  it('exposes the echo pods on a ClusterIP Service, and an Ingress only when configured', () => {
    const svc = objects.find((o) => o.kind === 'Service');
    expect(svc.spec).toMatchObject({ type: 'ClusterIP', selector: echo.spec.selector.matchLabels });
    expect(svc.spec.ports).toEqual([{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' }]);
    expect(objects.some((o) => o.kind === 'Ingress')).toBe(false);
    const withIngress = objectsIn(
      renderExample((d) => (d.verify.ingress = { host: 'echo.example.com', className: 'traefik' })),
      '300-verify-workloads',
    ).find((o) => o.kind === 'Ingress');
    expect(withIngress.spec).toEqual({
      ingressClassName: 'traefik',
      rules: [
        {
          host: 'echo.example.com',
          http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'echo', port: { number: 80 } } } }] },
        },
      ],
    });
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
  const jobFor = (check: string) => jobs.find((j) => j.metadata.name.startsWith(`verify-${check}-`));

  it('has one Job per check of the plan, plus cilium-health', () => {
    expect(jobs.map((j) => j.metadata.name.replace(/-[0-9a-f]{8}$/, '')).sort()).toEqual(
      [
        'verify-cilium-health',
        'verify-clusterip',
        'verify-coredns',
        'verify-dns',
        'verify-external',
        'verify-ingress',
        'verify-pod-to-pod',
      ].sort(),
    );
  });

  it('checks no node listed in run.skipNodes: it is down or gone', () => {
    expect(verifySpec(exampleConfig()).nodes.map((n) => n.name)).toEqual(['k3s-server-1', 'k3s-server-2', 'k3s-server-3']);
    const skipped = verifySpec(exampleConfig((d) => (d.run = { ...d.run, skipNodes: ['k3s-server-2'] })));
    expect(skipped.nodes).toEqual([
      { name: 'k3s-server-1', internalIP: '10.0.0.2' },
      { name: 'k3s-server-3', internalIP: '10.0.0.4' },
    ]);
  });

  it('every check has a deadline, a backoff limit, bounded retries, a pinned image and no TTL', () => {
    const spec = verifySpec(exampleConfig());
    expect(spec.attempts).toBe(12);
    expect(spec.delaySeconds).toBe(5);
    for (const job of jobs) {
      expect(job.spec.activeDeadlineSeconds, job.metadata.name).toBe(300);
      expect(job.spec.backoffLimit, job.metadata.name).toBe(1);
      expect(job.spec.ttlSecondsAfterFinished).toBeUndefined();
      expect(job.spec.template.spec.containers[0].image).toMatch(/@sha256:[0-9a-f]{64}$/);
      expect(job.metadata.labels['app.kubernetes.io/component']).toBe('verify');
    }
  });

  it('runs the checks on the pod network, except cilium-health, which reads the API at the direct address', () => {
    for (const job of jobs) {
      const pod = job.spec.template.spec;
      const health = job.metadata.name.startsWith('verify-cilium-health-');
      // Off the host network the field is left out: the server would not store a false.
      expect(pod.hostNetwork, job.metadata.name).toBe(health ? true : undefined);
      expect(pod.dnsPolicy, job.metadata.name).toBe(health ? 'Default' : 'ClusterFirst');
      const env = Object.fromEntries((pod.containers[0].env ?? []).filter((e: Any) => e.value).map((e: Any) => [e.name, e.value]));
      expect(env.KUBERNETES_SERVICE_HOST, job.metadata.name).toBe(health ? '127.0.0.1' : undefined);
    }
  });

  it('runs each check with its name and tells the pod-to-pod client its node', () => {
    for (const check of CHECKS) {
      expect(jobFor(check.name).spec.template.spec.containers[0].command).toEqual([
        'node',
        '/etc/cilium-cutover/verify.mjs',
        check.name,
        '/etc/cilium-cutover/verify.json',
      ]);
    }
    expect(jobFor('pod-to-pod').spec.template.spec.containers[0].env).toContainEqual({
      name: 'NODE_NAME',
      valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: 'spec.nodeName' } },
    });
  });

  it('gives a token only to the checks that read the API, each limited to what it reads', () => {
    const tokenless = jobs
      .filter((j) => j.spec.template.spec.automountServiceAccountToken === false)
      .map((j) => j.metadata.name.replace(/-[0-9a-f]{8}$/, ''));
    expect(tokenless.sort()).toEqual(['verify-dns', 'verify-external', 'verify-ingress']);
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
        'cilium-cutover-verify-cilium-health get apps/daemonsets kube-system cilium',
        'cilium-cutover-verify-cilium-health get apps/deployments kube-system cilium-operator',
        'cilium-cutover-verify-cilium-health get /nodes - k3s-server-1,k3s-server-2,k3s-server-3',
        'cilium-cutover-verify-cilium-health list /pods - *',
        'cilium-cutover-verify-cilium-health list cilium.io/ciliumendpoints - *',
        'cilium-cutover-verify-clusterip get /services cilium-cutover-verify echo',
        'cilium-cutover-verify-coredns list /pods kube-system *',
        'cilium-cutover-verify-pod-to-pod list /pods cilium-cutover-verify *',
      ].sort(),
    );
  });

  it('writes the ingress and external settings into the checks spec, and leaves them out when unconfigured', () => {
    const spec = (r: Rendered) => JSON.parse(objectsIn(r, '310-verify-checks').find((o) => o.kind === 'ConfigMap').data['verify.json']);
    expect(spec(rendered).ingress).toBeUndefined();
    expect(spec(rendered).externalURLs).toEqual([]);
    const configured = spec(
      renderExample((d) => {
        d.verify.ingress = { host: 'echo.example.com', controller: 'hostNetwork', port: 8000 };
        d.verify.externalURLs = ['https://shop.example.com/', 'https://api.example.com/health'];
      }),
    );
    expect(configured.ingress).toEqual({
      host: 'echo.example.com',
      controller: 'hostNetwork',
      port: 8000,
      service: { namespace: 'kube-system', name: 'traefik' },
    });
    expect(configured.externalURLs).toEqual(['https://shop.example.com/', 'https://api.example.com/health']);
  });

  it('PLAN.md maps every check of the plan to its Job and says how to read the results', () => {
    const plan = rendered.files.get('PLAN.md')!;
    expect(plan).toContain('`kubectl logs -n cilium-cutover-verify -l app.kubernetes.io/component=verify --prefix`');
    for (const check of CHECKS) {
      expect(plan).toContain(`| ${check.plan} | \`verify-${check.name}\` |`);
    }
  });
});
