/**
 * Step 200-cilium against the official chart's renders for the same values (test/fixtures/cilium),
 * except the deviations listed in lib/cilium/deviations.ts, each checked here.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { DEVIATIONS } from '../../lib/constructs/cilium/deviations.ts';
import { OPERATOR_EXTRA_TOLERATIONS } from '../../lib/constructs/cilium/cilium-operator.ts';
import type { Rendered } from '../../lib/output/rendered.ts';
import { CILIUM_VERSIONS } from '../../lib/versions/cilium.ts';
import { manifestObjects, renderExample } from '../support/helpers.ts';

// Parsed YAML and JSON fixtures.
type Any = any;
const fixtures: Any[] = readdirSync(new URL('../fixtures/cilium/', import.meta.url))
  .filter((f) => f.endsWith('.json'))
  .map((f) => JSON.parse(readFileSync(new URL(`../fixtures/cilium/${f}`, import.meta.url), 'utf8')));

/** Objects the render has that the deviations leave out. */
const LEFT_OUT = new Set([
  // hubble-off
  'Secret/kube-system/cilium-ca',
  'Secret/kube-system/hubble-server-certs',
  'Service/kube-system/hubble-peer',
  // envoy-embedded
  'ServiceAccount/kube-system/cilium-envoy',
  'ConfigMap/kube-system/cilium-envoy-config',
  'Service/kube-system/cilium-envoy',
  'DaemonSet/kube-system/cilium-envoy',
]);
/** Volumes the deviations leave out of the agent: the Hubble TLS volume and the Envoy sockets. */
const LEFT_OUT_VOLUMES = new Set(['hubble-tls', 'envoy-sockets']);

const id = (o: { kind: string; namespace?: string | null; name?: string; metadata?: Any }) =>
  `${o.kind}/${o.namespace ?? o.metadata?.namespace ?? ''}/${o.name ?? o.metadata?.name}`;

function ciliumObjects(rendered: Rendered): Any[] {
  return manifestObjects(rendered, 'manifests/200-cilium/').map(({ obj }) => obj);
}

function podOf(objects: Any[], kind: string, name: string): Any {
  return objects.find((o) => o.kind === kind && o.metadata.name === name)!.spec.template;
}

/** Every container of a pod template with its section, in order. */
function containers(template: Any): Any[] {
  return [
    ...(template.spec.initContainers ?? []).map((c: Any) => ({ ...c, section: 'initContainers' })),
    ...template.spec.containers.map((c: Any) => ({ ...c, section: 'containers' })),
  ];
}

for (const fixture of fixtures) {
  describe(`Cilium ${fixture.version} against the chart's render`, () => {
    const rendered = renderExample((d) => (d.cilium.version = fixture.version));
    const objects = ciliumObjects(rendered);
    const agent = podOf(objects, 'DaemonSet', 'cilium');
    const operator = podOf(objects, 'Deployment', 'cilium-operator');
    const renderAgent = fixture.workloads['DaemonSet/cilium'];
    const renderOperator = fixture.workloads['Deployment/cilium-operator'];

    it('has the objects of the render, except those the deviations leave out', () => {
      const expected = fixture.objects.map(id).filter((o: string) => !LEFT_OUT.has(o));
      expect(objects.map(id).sort()).toEqual(expected.sort());
    });

    it('uses the images of the render, pinned by digest', () => {
      const images = (template: Any) => containers(template).map((c) => `${c.name} ${c.image}`);
      expect(images(agent)).toEqual(renderAgent.containers.map((c: Any) => `${c.name} ${c.image}`));
      expect(images(operator)).toEqual(renderOperator.containers.map((c: Any) => `${c.name} ${c.image}`));
      for (const image of [...images(agent), ...images(operator)]) {
        expect(image).toMatch(/@sha256:[0-9a-f]{64}$/);
      }
    });

    it('runs the init containers in the render order, with its commands and capabilities', () => {
      const ours = containers(agent);
      expect(ours.map((c) => `${c.section} ${c.name}`)).toEqual(renderAgent.containers.map((c: Any) => `${c.section} ${c.name}`));
      for (const theirs of renderAgent.containers) {
        const c = ours.find((o) => o.name === theirs.name)!;
        // Same program (the shell scripts of the helper containers are written in our own words).
        expect(c.command[0], c.name).toBe(theirs.command[0]);
        expect(c.securityContext ?? null, c.name).toEqual(theirs.securityContext ?? null);
        // Same quantities; ours are always strings (`cpu: "1"` where the chart writes `cpu: 1`).
        expect(c.resources ?? null, c.name).toEqual(quantitiesAsStrings(theirs.resources) ?? null);
      }
    });

    it('gives every container the env vars of the render, the API address where the render has it', () => {
      for (const [template, render] of [
        [agent, renderAgent],
        [operator, renderOperator],
      ] as const) {
        for (const theirs of render.containers) {
          const c = containers(template).find((o) => o.name === theirs.name)!;
          expect(c.env ?? [], c.name).toEqual(theirs.env ?? []);
        }
      }
      const withApi = [agent, operator].flatMap((t) =>
        containers(t)
          .filter((c) => (c.env ?? []).some((e: Any) => e.name === 'KUBERNETES_SERVICE_HOST'))
          .map((c) => c.name),
      );
      expect(withApi.sort()).toEqual(
        fixture.kubernetes_service_env
          .filter((e: Any) => e.workload !== 'DaemonSet/cilium-envoy')
          .map((e: Any) => e.container)
          .sort(),
      );
    });

    it('mounts the host paths and volumes of the render, except the Hubble TLS and Envoy socket volumes', () => {
      expect(agent.spec.volumes).toEqual(renderAgent.volumes.filter((v: Any) => !LEFT_OUT_VOLUMES.has(v.name)));
      for (const theirs of renderAgent.containers) {
        const c = containers(agent).find((o) => o.name === theirs.name)!;
        const expected = (theirs.volumeMounts ?? [])
          .filter((m: Any) => !LEFT_OUT_VOLUMES.has(m.name))
          .map(({ readOnly, ...m }: Any) => (readOnly ? { ...m, readOnly } : m));
        expect(c.volumeMounts ?? [], c.name).toEqual(expected);
      }
      expect(operator.spec.volumes).toEqual(renderOperator.volumes);
    });

    it('probes the agent and operator as the render does', () => {
      for (const [template, render] of [
        [agent, renderAgent],
        [operator, renderOperator],
      ] as const) {
        const c = template.spec.containers[0];
        const theirs = render.containers.find((o: Any) => o.section === 'containers');
        for (const probe of ['startupProbe', 'livenessProbe', 'readinessProbe']) {
          expect(c[probe] ?? null, `${c.name} ${probe}`).toEqual(asStored(theirs[probe]) ?? null);
        }
      }
    });

    it('shapes the agent pod as the render does', () => {
      for (const field of [
        'hostNetwork',
        'serviceAccountName',
        'priorityClassName',
        'terminationGracePeriodSeconds',
        'nodeSelector',
        'tolerations',
        'affinity',
      ]) {
        expect(agent.spec[field], field).toEqual(renderAgent[field]);
      }
      expect(agent.spec.securityContext ?? null).toEqual(renderAgent.securityContext ?? null);
      expect(objects.find((o) => o.kind === 'DaemonSet').spec.updateStrategy).toEqual(renderAgent.updateStrategy);
      const { 'cilium-cutover.io/config-checksum': checksum, ...annotations } = agent.metadata.annotations;
      expect(checksum).toMatch(/^[0-9a-f]{64}$/);
      expect(annotations).toEqual(renderAgent.podAnnotations ?? {});
      // config-checksum, no-aws-poststart
      expect(agent.spec.containers[0].lifecycle).toEqual({ preStop: renderAgent.containers.at(-1).lifecycle.preStop });
      // hubble-off: no peer port
      const renderPorts = (renderAgent.containers.at(-1).ports ?? []).filter((p: Any) => p.name !== 'peer-service');
      expect(agent.spec.containers[0].ports ?? []).toEqual(renderPorts);
    });

    it('shapes the operator as the render does, with the operator-replicas and operator-tolerations deviations', () => {
      for (const field of ['hostNetwork', 'serviceAccountName', 'priorityClassName', 'nodeSelector', 'affinity', 'securityContext']) {
        expect(operator.spec[field] ?? null, field).toEqual(renderOperator[field] ?? null);
      }
      const deployment = objects.find((o) => o.kind === 'Deployment');
      expect(deployment.spec.strategy).toEqual(renderOperator.updateStrategy);
      expect(deployment.spec.replicas).toBe(2);
      expect(renderOperator.replicas).toBe(1);
      const expectedTolerations = renderOperator.tolerations.some((t: Any) => t.key === undefined)
        ? renderOperator.tolerations
        : [...renderOperator.tolerations, ...OPERATOR_EXTRA_TOLERATIONS.map((key) => ({ key, operator: 'Exists' }))];
      expect(operator.spec.tolerations).toEqual(expectedTolerations);
      const c = operator.spec.containers[0];
      const theirs = renderOperator.containers[0];
      for (const field of ['command', 'args', 'ports', 'securityContext', 'terminationMessagePolicy', 'volumeMounts']) {
        expect(c[field] ?? null, field).toEqual(theirs[field] ?? null);
      }
    });

    it('grants the RBAC of the render', () => {
      for (const [key, rules] of Object.entries(fixture.rbac as Record<string, Any>)) {
        const [kind, namespace, name] = key.split('/');
        const ours = objects.find((o) => o.kind === kind && o.metadata.name === name && (o.metadata.namespace ?? '') === namespace);
        expect(ours, key).toBeDefined();
        if (kind!.endsWith('Binding')) {
          expect({ roleRef: ours.roleRef, subjects: ours.subjects }, key).toEqual(rules);
        } else {
          expect(ours.rules, key).toEqual(rules);
        }
      }
    });
  });
}

/**
 * A probe as the API server stores it: initialDelaySeconds is `int32 omitempty` in k8s.io/api
 * core/v1 Probe, so a 0 is not stored, and the output leaves it out (cilium-operator.ts).
 */
function asStored(probe: Any): Any {
  if (probe?.initialDelaySeconds !== 0) {
    return probe;
  }
  const { initialDelaySeconds: _zero, ...rest } = probe;
  return rest;
}

describe('200-cilium for every version in the table', () => {
  for (const v of CILIUM_VERSIONS) {
    it(`${v.version}: the operator tolerates the network-unavailable taint and CriticalAddonsOnly`, () => {
      const objects = ciliumObjects(renderExample((d) => (d.cilium.version = v.version)));
      const tolerations = podOf(objects, 'Deployment', 'cilium-operator').spec.tolerations as Any[];
      const tolerates = (key: string) => tolerations.some((t) => (t.key === undefined || t.key === key) && t.operator === 'Exists');
      expect(tolerates('node.kubernetes.io/network-unavailable')).toBe(true);
      expect(tolerates('CriticalAddonsOnly')).toBe(true);
    });
  }

  it('expresses AppArmor as annotations on Kubernetes before 1.30', () => {
    const objects = ciliumObjects(renderExample((d) => (d.cluster.kubernetesVersion = 'v1.29')));
    const agent = podOf(objects, 'DaemonSet', 'cilium');
    expect(agent.spec.securityContext).toBeUndefined();
    expect(agent.metadata.annotations['container.apparmor.security.beta.kubernetes.io/cilium-agent']).toBe('unconfined');
  });

  it('lists every deviation once, and this test file covers each', () => {
    const source = readFileSync(new URL(import.meta.url), 'utf8');
    for (const d of DEVIATIONS) {
      expect(source, d.id).toContain(d.id);
    }
    expect(new Set(DEVIATIONS.map((d) => d.id)).size).toBe(DEVIATIONS.length);
  });
});

describe('a one-setting change in dist/', () => {
  it('changing the MTU changes the ConfigMap value and the two checksum annotations, nothing else in manifests/', () => {
    const before = renderExample();
    const after = renderExample((d) => (d.cilium.MTU = 1400));
    const changed: string[] = [];
    for (const [path, text] of before.files) {
      if (!path.startsWith('manifests/')) continue;
      const a = text.split('\n');
      const b = after.files.get(path)!.split('\n');
      expect(b.length, path).toBe(a.length);
      a.forEach((line, i) => {
        if (line !== b[i]) changed.push(`${path}: ${line.trim()} -> ${b[i]!.trim()}`);
      });
    }
    expect(changed.map((c) => c.replace(/[0-9a-f]{64}/g, '<sha256>'))).toEqual([
      'manifests/200-cilium/configmap-cilium-config.yaml: mtu: "1450" -> mtu: "1400"',
      'manifests/200-cilium/daemonset-cilium.yaml: cilium-cutover.io/config-checksum: <sha256> -> cilium-cutover.io/config-checksum: <sha256>',
      'manifests/200-cilium/deployment-cilium-operator.yaml: cilium-cutover.io/config-checksum: <sha256> -> cilium-cutover.io/config-checksum: <sha256>',
    ]);
    expect(parse(after.files.get('manifests/200-cilium/configmap-cilium-config.yaml')!).data.mtu).toBe('1400');
  });
});

/** A resources block with every quantity as a string, as server-side apply types them. */
function quantitiesAsStrings(resources: Record<string, Record<string, unknown>> | undefined) {
  return (
    resources &&
    Object.fromEntries(
      Object.entries(resources).map(([k, v]) => [k, Object.fromEntries(Object.entries(v).map(([r, q]) => [r, String(q)]))]),
    )
  );
}
