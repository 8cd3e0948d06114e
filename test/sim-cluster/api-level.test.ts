/**
 * The simulation runs Kubernetes 1.20: what the output uses of later releases is changed by one
 * table (scripts/sim-cluster/api-level.ts), and nothing else. The expected changes come from the
 * releases that introduced each field and kind (kubernetes pkg/features/kube_features.go:
 * AppArmorFields on by default in 1.30; policy/v1 and batch/v1 CronJob served from 1.21), not from
 * the table.
 */
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { render } from '../../charts/app.ts';
import { loadConfigFile } from '../../lib/config/load.ts';
import { writeOutput } from '../../lib/output/writer.ts';
import { outputAtSimulationLevel, toSimulationLevel } from '../../scripts/sim-cluster/api-level.ts';

const ROOT = new URL('../..', import.meta.url).pathname;

describe('the simulation’s API level', () => {
  for (const example of ['hetzner-3-servers.yaml', 'hetzner-3-servers-per-node.yaml']) {
    it(`changes only the agent's appArmorProfile (1.30) in the output of ${example}; every other file is identical`, () => {
      const dir = join(mkdtempSync(join(tmpdir(), 'cc-level-')), 'dist');
      const files = render(loadConfigFile(join(ROOT, 'examples', example)).config).files;
      writeOutput(dir, files);
      const level = outputAtSimulationLevel(dir, files.keys());
      expect(level.changes).toEqual([
        'DaemonSet/kube-system/cilium: spec.template.spec.securityContext.appArmorProfile removed (Kubernetes 1.30)',
      ]);
      const changed: string[] = [];
      for (const [path, text] of files) {
        if (readFileSync(join(level.dir, path), 'utf8') !== text) {
          changed.push(path);
        }
      }
      expect(changed).toEqual(['manifests/200-cilium/daemonset-cilium.yaml']);
      const before = parse(files.get('manifests/200-cilium/daemonset-cilium.yaml')!);
      const after = parse(readFileSync(join(level.dir, 'manifests/200-cilium/daemonset-cilium.yaml'), 'utf8'));
      expect(before.spec.template.spec.securityContext.appArmorProfile).toEqual({ type: 'Unconfined' });
      delete before.spec.template.spec.securityContext.appArmorProfile;
      expect(after).toEqual(before);
      expect(readdirSync(join(level.dir, 'manifests')).sort()).toEqual(readdirSync(join(dir, 'manifests')).sort());
    });
  }

  it('serves policy/v1 PodDisruptionBudgets and batch/v1 CronJobs at their v1beta1 and drops admission policies, naming each', () => {
    const pdb = {
      apiVersion: 'policy/v1',
      kind: 'PodDisruptionBudget',
      metadata: { name: 'p', namespace: 'n' },
      spec: { maxUnavailable: 1 },
    };
    expect(toSimulationLevel(pdb)).toEqual({
      object: { ...pdb, apiVersion: 'policy/v1beta1' },
      changes: ['PodDisruptionBudget/n/p: served as policy/v1beta1 (policy/v1 PodDisruptionBudget, Kubernetes 1.21)'],
    });
    const cron = { apiVersion: 'batch/v1', kind: 'CronJob', metadata: { name: 'c', namespace: 'n' }, spec: { schedule: '* * * * *' } };
    expect(toSimulationLevel(cron).object?.apiVersion).toBe('batch/v1beta1');
    const vap = { apiVersion: 'admissionregistration.k8s.io/v1', kind: 'ValidatingAdmissionPolicy', metadata: { name: 'v' } };
    expect(toSimulationLevel(vap)).toEqual({
      object: undefined,
      changes: ['ValidatingAdmissionPolicy/v: not created (admissionregistration.k8s.io/v1 ValidatingAdmissionPolicy, Kubernetes 1.30)'],
    });
    const job = { apiVersion: 'batch/v1', kind: 'Job', metadata: { name: 'j', namespace: 'n' }, spec: { backoffLimit: 1 } };
    expect(toSimulationLevel(job)).toEqual({ object: job, changes: [] });
  });
});
