import { describe, expect, it } from 'vitest';
import { deletionSet } from '../lib/calico/deletion-sets.ts';
import { renderExample } from './helpers.ts';

describe('PLAN.md', () => {
  const rendered = renderExample();
  const plan = rendered.files.get('PLAN.md')!;

  it('has a section for every step in the output, in order', () => {
    const headings = plan.split('\n').filter((l) => /^### \d+\. `/.test(l));
    expect(headings.map((h) => h.match(/`([^`]+)`/)![1])).toEqual(rendered.steps.map((s) => s.step.dir));
  });

  it('names every object the Calico step deletes, and says what is irreversible', () => {
    for (const o of deletionSet('v3.27.0', { variant: 'calico', includeForeign: false })) {
      expect(plan, o.name).toContain(`${o.kind} \`${o.namespace ? `${o.namespace}/` : ''}${o.name}\``);
    }
    expect(plan).toContain('**Irreversible:** deleting the CRDs deletes every Calico custom resource with them');
    expect(plan).toContain('calico-inventory.txt');
  });

  it('says when the node scripts only print, and offers the rolling reboot', () => {
    expect(plan).not.toContain('dry-run mode');
    const dry = renderExample((d) => (d.cleanup = { dryRun: true })).files.get('PLAN.md')!;
    expect(dry).toContain('**in dry-run mode: it only prints what it would remove** (`cleanup.dryRun`)');
    expect(plan).toContain('`host/rolling-reboot.sh` drains, reboots and uncordons one node at a time');
  });

  it('mentions the network-policy API CRDs it leaves, for Calico lines that ship them', () => {
    expect(plan).not.toContain('policy.networking.k8s.io');
    const v330 = renderExample((d) => (d.calico.version = 'v3.30.0')).files.get('PLAN.md')!;
    expect(v330).toContain(
      "Not deleted: `adminnetworkpolicies.policy.networking.k8s.io`, `baselineadminnetworkpolicies.policy.networking.k8s.io` (the Kubernetes network-policy API's CRDs",
    );
  });

  it('gives the workstation commands for every step, waiting for Jobs', () => {
    for (const { step } of rendered.steps) {
      expect(plan).toContain(`kubectl apply -k dist/manifests/${step.dir}`);
    }
    expect(plan).toContain(
      'kubectl wait --for=condition=complete job -l cilium-cutover.io/step=110-node-cleanup -n cilium-cutover --timeout=15m',
    );
    expect(plan).not.toContain('kubectl wait --for=condition=complete job -l cilium-cutover.io/step=900-complete');
  });
});
