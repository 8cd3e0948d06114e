import { describe, expect, it } from 'vitest';
import { manifestObjects, renderExample } from '../support/helpers.ts';
import type { Rendered } from '../../lib/output/rendered.ts';

const jobsIn = (rendered: Rendered, dir: string) =>
  manifestObjects(rendered, `manifests/${dir}/`)
    .filter(({ obj }) => obj.kind === 'Job')
    .map(({ obj }) => obj);

describe('110-node-cleanup and 210-kube-proxy-cleanup', () => {
  const rendered = renderExample();

  for (const dir of ['110-node-cleanup', '210-kube-proxy-cleanup']) {
    it(`${dir}: one Job per configured node, pinned to it, entering the host`, () => {
      const jobs = jobsIn(rendered, dir);
      expect(jobs.map((j) => j.spec.template.spec.nodeName)).toEqual(['k3s-server-1', 'k3s-server-2', 'k3s-server-3']);
      for (const job of jobs) {
        const pod = job.spec.template.spec;
        expect(pod).toMatchObject({
          hostNetwork: true,
          hostPID: true,
          tolerations: [{ operator: 'Exists' }],
          automountServiceAccountToken: false,
        });
        expect(pod.serviceAccountName).toBeUndefined();
        expect(pod.containers[0].securityContext).toEqual({ privileged: true, runAsUser: 0, readOnlyRootFilesystem: true });
        expect(pod.containers[0].image).toBe(
          'docker.io/library/busybox:1.37.0@sha256:0d3f1e630be52ade0c06107515937607be2cab11a2ad2122099fc79e19bcc18b',
        );
        // No host paths: the script runs in the host's mount namespace instead.
        expect(pod.volumes).toEqual([{ name: 'files', configMap: { name: expect.any(String), defaultMode: 0o444 } }]);
      }
    });
  }

  it('names files after the node and keeps object names within 63 characters for a 253-character node name', () => {
    expect([...rendered.files.keys()]).toContain('manifests/110-node-cleanup/job-cleanup-node-k3s-server-1.yaml');
    const long = `n${'x'.repeat(251)}a`;
    const big = renderExample((d) => {
      d.cluster.profile = 'generic';
      d.cilium.autoDirectNodeRoutes = true;
      d.cluster.nodes.push({ name: long, role: 'agent', internalIP: '10.0.0.9' });
      d.cluster.nodes.push({ name: `${long.slice(0, 200)}b`, role: 'agent', internalIP: '10.0.0.10' });
    });
    const names = manifestObjects(big).map(({ obj }) => obj.metadata.name);
    expect(Math.max(...names.map((n: string) => n.length))).toBeLessThanOrEqual(63);
    const longJobs = jobsIn(big, '110-node-cleanup').filter((j) => j.spec.template.spec.nodeName.length > 100);
    expect(longJobs).toHaveLength(2);
    expect(new Set(longJobs.map((j) => j.metadata.name)).size).toBe(2);
    expect(longJobs[0].metadata.name).toMatch(/^cleanup-node-nxxx+-[0-9a-f]{8}$/);
    expect(big.files.has(`manifests/110-node-cleanup/job-cleanup-node-${long}.yaml`)).toBe(true);
  });

  it('privileged, host-PID pods exist only in the node steps', () => {
    for (const { path, obj } of manifestObjects(rendered)) {
      if (obj.kind !== 'Job') continue;
      const privileged = obj.spec.template.spec.containers.some((c: any) => c.securityContext?.privileged);
      expect(privileged, path).toBe(/^manifests\/(110-node-cleanup|210-kube-proxy-cleanup)\//.test(path));
    }
  });

  it('passes the cleanup settings to the scripts', () => {
    const env = (r: Rendered, dir: string) =>
      Object.fromEntries(jobsIn(r, dir)[0].spec.template.spec.containers[0].env.map((e: any) => [e.name, e.value]));
    expect(env(rendered, '110-node-cleanup')).toEqual({
      DRY_RUN: 'false',
      FLUSH_CALICO_ROUTES: 'true',
      CALICO_VERSION: 'v3.27.0',
      NODE_NAME: 'k3s-server-1',
    });
    expect(env(rendered, '210-kube-proxy-cleanup')).toEqual({
      CILIUM_AGENT_WAIT_SECONDS: '300',
      DRY_RUN: 'false',
      KUBE_ROUTER_POLICY: 'true',
      NODE_NAME: 'k3s-server-1',
    });
    const dry = renderExample((d) => {
      d.cleanup = { dryRun: true, birdRoutes: false, kubeRouterPolicy: false };
    });
    expect(env(dry, '110-node-cleanup')).toMatchObject({ DRY_RUN: 'true', FLUSH_CALICO_ROUTES: 'false' });
    expect(env(dry, '210-kube-proxy-cleanup')).toMatchObject({ DRY_RUN: 'true', KUBE_ROUTER_POLICY: 'false' });
  });

  it('leaves step 210 out without kube-proxy replacement or when switched off', () => {
    const off = renderExample((d) => (d.cleanup = { kubeProxy: false }));
    expect([...off.files.keys()].some((p) => p.startsWith('manifests/210-'))).toBe(false);
    const noKpr = renderExample((d) => (d.cilium.kubeProxyReplacement = false));
    expect([...noKpr.files.keys()].some((p) => p.startsWith('manifests/210-'))).toBe(false);
  });

  it('embeds the assembled scripts in one ConfigMap per step, shared by the node Jobs', () => {
    const cm = manifestObjects(rendered, 'manifests/110-node-cleanup/').find(({ obj }) => obj.kind === 'ConfigMap')!.obj;
    expect(Object.keys(cm.data).sort()).toEqual(['calico-cleanup.sh', 'enter-host.sh']);
    expect(cm.data['calico-cleanup.sh']).toContain('chain_removal_batch()');
    expect(new Set(jobsIn(rendered, '110-node-cleanup').map((j) => j.spec.template.spec.volumes[0].configMap.name))).toEqual(
      new Set([cm.metadata.name]),
    );
    const command = jobsIn(rendered, '110-node-cleanup')[0].spec.template.spec.containers[0].command;
    expect(command).toEqual(['sh', '/etc/cilium-cutover/enter-host.sh', 'calico-cleanup.sh']);
  });

  it('refuses to keep BIRD routes when a Calico pool overlaps the pod CIDR', () => {
    expect(() =>
      renderExample((d) => {
        d.calico.ipPools = ['10.42.0.0/16'];
        d.cleanup = { birdRoutes: false };
      }),
    ).toThrow(
      "cleanup.birdRoutes: false, but calico.ipPools[0] 10.42.0.0/16 overlaps cluster.podCIDR 10.42.0.0/16: Calico's blackhole routes would drop traffic to new pods; remove the setting",
    );
    expect(() => renderExample((d) => (d.cleanup = { birdRoutes: false }))).not.toThrow();
  });
});

describe('run.skipNodes', () => {
  it('runs no per-node Job on a skipped node', () => {
    const skipped = renderExample((d) => (d.run.skipNodes = ['k3s-server-2']));
    for (const dir of ['110-node-cleanup', '210-kube-proxy-cleanup']) {
      expect(jobsIn(skipped, dir).map((j) => j.spec.template.spec.nodeName)).toEqual(['k3s-server-1', 'k3s-server-3']);
    }
  });

  it('rejects unknown nodes and skipping every node', () => {
    expect(() => renderExample((d) => (d.run.skipNodes = ['k3s-server-9']))).toThrow(
      'run.skipNodes[0]: "k3s-server-9" is not in cluster.nodes; list a configured node',
    );
    expect(() => renderExample((d) => (d.run.skipNodes = ['k3s-server-1', 'k3s-server-2', 'k3s-server-3']))).toThrow(
      'run.skipNodes: skips every node; at least one node must take part in the migration',
    );
  });
});
