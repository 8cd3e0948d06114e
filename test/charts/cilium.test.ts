/**
 * The deviations of step 200-cilium from the official chart's render (lib/constructs/cilium/
 * deviations.ts), each checked here; that everything else equals the render is
 * cilium-releases.test.ts. The chart's side comes from test/fixtures/cilium/<version>.json (facts
 * of the chart's own render, scripts/derive-cilium-fixtures.ts) and the release table.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { DEVIATIONS } from '../../lib/constructs/cilium/deviations.ts';
import { OPERATOR_EXTRA_TOLERATIONS } from '../../lib/constructs/cilium/cilium-operator.ts';
import { CILIUM_VERSIONS } from '../../lib/versions/cilium.ts';
import { ciliumConfigData } from '../../lib/constructs/cilium/config-data.ts';
import { comparable } from '../../scripts/cilium-release/normalize.ts';
import { exampleConfig, manifestObjects, renderExample } from '../support/helpers.ts';
import { ciliumStepObjects } from '../support/cilium-step.ts';

// Parsed YAML and JSON.
type Any = any;
const fixture = (version: string): Any => JSON.parse(readFileSync(new URL(`../fixtures/cilium/${version}.json`, import.meta.url), 'utf8'));

function stepObjects(edit: (d: Record<string, Any>) => void = () => {}): Any[] {
  return ciliumStepObjects(exampleConfig(edit));
}
const find = (objects: Any[], kind: string, name: string): Any => objects.find((o) => o.kind === kind && o.metadata.name === name);
/** One release per line and the releases where the operator's tolerations change. */
const SAMPLE = ['1.15.0', '1.16.19', '1.17.18', '1.18.0', '1.18.2', '1.19.6', '1.20.0'];

// That the rest of the operator's tolerations equal the chart's is the release comparison's
// (normalize.ts leaves out only the two keys added here).
describe('deviation operator-tolerations', () => {
  for (const version of SAMPLE) {
    it(`${version}: the chart's tolerations, and network-unavailable and CriticalAddonsOnly besides`, () => {
      const v = CILIUM_VERSIONS.find((c) => c.version === version)!;
      const ours = find(
        stepObjects((d) => (d.cilium.version = version)),
        'Deployment',
        'cilium-operator',
      ).spec.template.spec.tolerations;
      const chart = v.facts.pods.operatorTolerations;
      if (chart === 'all') {
        expect(ours).toEqual([{ operator: 'Exists' }]);
      } else {
        expect(ours).toEqual([...new Set([...chart, ...OPERATOR_EXTRA_TOLERATIONS])].map((key) => ({ key, operator: 'Exists' })));
        expect(chart).not.toContain('node.kubernetes.io/network-unavailable');
      }
    });
  }

  it("1.18 and later give the operator a list; 1.19.6's chart lists the five keys its render has", () => {
    expect(CILIUM_VERSIONS.filter((v) => v.facts.pods.operatorTolerations === 'all').every((v) => v.line < '1.18')).toBe(true);
    const render = fixture('1.19.6').workloads['Deployment/cilium-operator'].tolerations.map((t: Any) => t.key);
    expect(CILIUM_VERSIONS.find((v) => v.version === '1.19.6')!.facts.pods.operatorTolerations).toEqual(render);
  });
});

describe('deviation operator-replicas', () => {
  it('two replicas from three nodes, with the chart strategy for more than one', () => {
    const operator = find(stepObjects(), 'Deployment', 'cilium-operator');
    expect(operator.spec.replicas).toBe(2);
    expect(operator.spec.strategy).toEqual({ type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '50%' } });
  });

  it('one replica up to two nodes, with maxUnavailable 100% as the chart renders for one', () => {
    const operator = find(
      stepObjects((d) => (d.cluster.nodes = d.cluster.nodes.slice(0, 2))),
      'Deployment',
      'cilium-operator',
    );
    expect(operator.spec.replicas).toBe(1);
    expect(operator.spec.strategy.rollingUpdate.maxUnavailable).toBe('100%');
  });
});

describe('deviation hubble-off-explicit', () => {
  it('every release says enable-hubble "false", 1.17.0 and 1.17.1 among them (their agent defaults to on)', () => {
    for (const v of CILIUM_VERSIONS) {
      expect(ciliumConfigData(exampleConfig((d) => (d.cilium.version = v.version)))['enable-hubble'], v.version).toBe('false');
    }
  });

  it('the comparison takes "false" for absent, and nothing else', () => {
    const config = (data: Record<string, string>): Any => ({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'cilium-config', namespace: 'kube-system' },
      data,
    });
    expect(comparable(config({ 'enable-hubble': 'false', debug: 'false' }))).toEqual(comparable(config({ debug: 'false' })));
    expect(comparable(config({ 'enable-hubble': 'true' }))).not.toEqual(comparable(config({})));
  });
});

describe('deviation config-checksum', () => {
  it('both pod templates carry the hash of cilium-config, which changes with the config', () => {
    const checksums = (objects: Any[]) =>
      ['DaemonSet/cilium', 'Deployment/cilium-operator'].map((k) => {
        const [kind, name] = k.split('/');
        return find(objects, kind!, name!).spec.template.metadata.annotations['cilium-cutover.io/config-checksum'];
      });
    const before = checksums(stepObjects());
    const after = checksums(stepObjects((d) => (d.cilium.MTU = 1400)));
    expect(before[0]).toMatch(/^[0-9a-f]{64}$/);
    expect(before[1]).toBe(before[0]);
    expect(after[0]).not.toBe(before[0]);
  });
});

describe('deviation no-aws-poststart', () => {
  it("the chart's agent has the AWS postStart hook; ours has only its preStop", () => {
    const render = fixture('1.19.6').workloads['DaemonSet/cilium'].containers.find((c: Any) => c.name === 'cilium-agent');
    expect(render.lifecycle.postStart.exec.command.join(' ')).toContain('AWS-SNAT-CHAIN');
    const agent = find(
      stepObjects((d) => (d.cilium.version = '1.19.6')),
      'DaemonSet',
      'cilium',
    ).spec.template.spec.containers[0];
    expect(agent.lifecycle).toEqual({ preStop: render.lifecycle.preStop });
  });
});

describe('deviation gitops-metadata', () => {
  it("every object has the step's labels and sync wave, and no Helm label; the comparison sees past exactly these", () => {
    for (const o of manifestObjects(renderExample(), 'manifests/200-cilium/').map(({ obj }) => obj)) {
      expect(o.metadata.labels['app.kubernetes.io/managed-by'], o.kind).toBe('cilium-cutover');
      expect(o.metadata.labels['cilium-cutover.io/step']).toBe('200-cilium');
      expect(o.metadata.annotations['argocd.argoproj.io/sync-wave']).toBe('200');
      expect(JSON.stringify(o)).not.toContain('helm.sh/chart');
      const c = comparable(o);
      expect(JSON.stringify(c.metadata)).not.toMatch(/cilium-cutover|argocd|fluxcd/);
    }
  });

  it('the comparison keeps labels the chart sets', () => {
    const role = find(stepObjects(), 'ClusterRole', 'cilium');
    expect(comparable(role).metadata.labels).toEqual({ 'app.kubernetes.io/part-of': 'cilium' });
  });
});

describe('the list of deviations', () => {
  it('lists every deviation once, and this test file covers each', () => {
    const source = readFileSync(new URL(import.meta.url), 'utf8');
    for (const d of DEVIATIONS) {
      expect(source, d.id).toContain(`deviation ${d.id}`);
    }
    expect(new Set(DEVIATIONS.map((d) => d.id)).size).toBe(DEVIATIONS.length);
  });
});

describe('AppArmor by Kubernetes version', () => {
  it('expresses AppArmor as annotations on Kubernetes before 1.30, as the chart does there', () => {
    const agent = find(
      stepObjects((d) => (d.cluster.kubernetesVersion = 'v1.29')),
      'DaemonSet',
      'cilium',
    ).spec.template;
    expect(agent.spec.securityContext).toEqual({ seccompProfile: { type: 'Unconfined' } });
    expect(agent.metadata.annotations['container.apparmor.security.beta.kubernetes.io/cilium-agent']).toBe('unconfined');
  });
});

describe('a one-setting change in dist/', () => {
  it('changing the MTU changes the ConfigMap value and the two checksum annotations, nothing else in the Cilium step', () => {
    const before = renderExample();
    const after = renderExample((d) => (d.cilium.MTU = 1400));
    const changed: string[] = [];
    for (const [path, text] of before.files) {
      if (!path.startsWith('manifests/200-cilium/')) continue;
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

describe('Envoy as its own DaemonSet', () => {
  it('is off by default: no cilium-envoy objects, Envoy inside the agent', () => {
    const objects = stepObjects();
    expect(objects.filter((o) => o.metadata.name.startsWith('cilium-envoy'))).toEqual([]);
    expect(find(objects, 'ConfigMap', 'cilium-config').data['external-envoy-proxy']).toBe('false');
  });

  it('with cilium.envoy daemonset: its objects, the pinned Envoy image of the release, pre-pulled on every node', () => {
    const edit = (d: Record<string, Any>) => (d.cilium.envoy = 'daemonset');
    const objects = stepObjects(edit);
    expect(
      objects
        .filter((o) => o.metadata.name.startsWith('cilium-envoy'))
        .map((o) => `${o.kind}/${o.metadata.name}`)
        .sort(),
    ).toEqual(['ConfigMap/cilium-envoy-config', 'DaemonSet/cilium-envoy', 'Service/cilium-envoy', 'ServiceAccount/cilium-envoy']);
    expect(find(objects, 'ConfigMap', 'cilium-config').data['external-envoy-proxy']).toBe('true');
    const envoy = CILIUM_VERSIONS.find((v) => v.version === '1.20.0')!.facts.images.envoy;
    const ref = `${envoy.repository}:${envoy.tag}@${envoy.digest}`;
    expect(find(objects, 'DaemonSet', 'cilium-envoy').spec.template.spec.containers[0].image).toBe(ref);
    const pulls = [...renderExample(edit).files]
      .filter(([p]) => p.startsWith('manifests/000-preflight/job-node-preflight-'))
      .map(([, text]) => parse(text).spec.template.spec.initContainers.find((c: Any) => c.name === 'pull-cilium-envoy')?.image);
    expect(pulls).toEqual([ref, ref, ref]);
  });
});
