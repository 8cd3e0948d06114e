/**
 * The maintenance window (050-pause, 800-resume): the decisions per object, the generated steps and
 * their RBAC, and the bundled Job against a fake API server that applies the merge patches.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { maintenanceRules, maintenanceTargets } from '../../charts/pause.ts';
import { durationSeconds } from '../../lib/duration.ts';
import {
  type LiveTarget,
  type MaintenanceSpec,
  type MaintenanceTarget,
  PAUSE_ANNOTATIONS,
  pauseDecision,
  resumeDecision,
} from '../../lib/incluster/maintenance.ts';
import { exampleConfig, manifestObjects, renderExample } from '../support/helpers.ts';
import { mergePatch, startFakeApi, type FakeApi } from '../support/fake-api.ts';
import { requireTool } from '../support/tools.ts';

type Any = any;

const target = (type: MaintenanceTarget['type'], kind: string, name = 'web'): MaintenanceTarget => ({
  type,
  kind,
  namespace: 'shop',
  name,
  path: `/test/${kind}/${name}`,
});

/** Pauses or resumes `live` as the Job would, returning the new live object. */
function step(mode: 'pause' | 'resume', t: MaintenanceTarget, live: LiveTarget): LiveTarget {
  const decision = (mode === 'pause' ? pauseDecision : resumeDecision)(t, live);
  return decision.patch === undefined ? live : mergePatch(live, decision.patch);
}

const maintenance = {
  workloads: [
    { kind: 'Deployment', namespace: 'shop', name: 'web' },
    { kind: 'StatefulSet', namespace: 'shop', name: 'db' },
  ],
  flux: [{ kind: 'Kustomization', name: 'apps' }],
  argocd: [{ name: 'shop' }],
};

describe('pause and resume decisions', () => {
  it('scales a workload to zero and back to the remembered replicas', () => {
    const t = target('workload', 'Deployment');
    const paused = step('pause', t, { spec: { replicas: 3 } });
    expect(paused.spec?.replicas).toBe(0);
    expect(paused.metadata?.annotations?.[PAUSE_ANNOTATIONS.workload]).toBe('3');
    // Pausing again must not remember the paused 0.
    expect(pauseDecision(t, paused)).toEqual({ line: 'ALREADY-PAUSED Deployment shop/web (remembered: 3)' });
    const resumed = step('resume', t, step('pause', t, paused));
    expect(resumed).toEqual({ metadata: { annotations: {} }, spec: { replicas: 3 } });
    // Resuming again changes nothing.
    expect(resumeDecision(t, resumed).patch).toBeUndefined();
  });

  it('a workload without spec.replicas runs one, and gets one back', () => {
    const t = target('workload', 'StatefulSet');
    expect(step('resume', t, step('pause', t, {})).spec?.replicas).toBe(1);
  });

  it('a Flux object suspended before the window stays suspended after it', () => {
    const t = target('flux', 'Kustomization');
    expect(step('resume', t, step('pause', t, { spec: { suspend: true } })).spec?.suspend).toBe(true);
    const running = step('pause', t, { spec: {} });
    expect(running.spec?.suspend).toBe(true);
    expect(step('resume', t, running).spec?.suspend).toBe(false);
  });

  it("restores an Argo CD Application's automated sync exactly, and leaves manual sync manual", () => {
    const t = target('argocd', 'Application');
    const automated = { prune: true, selfHeal: true, allowEmpty: false };
    const paused = step('pause', t, { spec: { syncPolicy: { automated } } });
    expect(paused.spec?.syncPolicy).toEqual({});
    expect(step('resume', t, paused).spec?.syncPolicy?.automated).toEqual(automated);
    const manual = step('resume', t, step('pause', t, { spec: { syncPolicy: {} } }));
    expect(manual.spec?.syncPolicy?.automated).toBeUndefined();
  });

  it('pausing a missing object fails; resuming it is reported and skipped', () => {
    const t = target('workload', 'Deployment');
    expect(pauseDecision(t, undefined).failed).toBe(true);
    expect(resumeDecision(t, undefined)).toEqual({ line: 'ABSENT Deployment shop/web: nothing to resume' });
  });

  it('refuses a remembered value that is not a replica count instead of guessing', () => {
    const t = target('workload', 'Deployment');
    const decision = resumeDecision(t, { metadata: { annotations: { [PAUSE_ANNOTATIONS.workload]: 'three' } } });
    expect(decision.failed).toBe(true);
    expect(decision.patch).toBeUndefined();
  });
});

describe('the maintenance steps', () => {
  it('are off by default: the example has neither step', () => {
    const dirs = renderExample().steps.map((s) => s.step.dir);
    expect(dirs).not.toContain('050-pause');
    expect(dirs).not.toContain('800-resume');
  });

  const rendered = renderExample((d) => {
    d.maintenance = { ...maintenance, remoteArgocd: [{ name: 'shop-remote' }] };
  });
  const objects = manifestObjects(rendered);

  it('pause runs after the preflight and before Calico goes; resume after the checks and before complete', () => {
    const dirs = rendered.steps.map((s) => s.step.dir);
    expect(dirs.indexOf('050-pause')).toBe(dirs.indexOf('000-preflight') + 1);
    expect(dirs.indexOf('050-pause')).toBeLessThan(dirs.indexOf('100-calico-delete'));
    expect(dirs.indexOf('800-resume')).toBeGreaterThan(dirs.indexOf('310-verify-checks'));
    expect(dirs.indexOf('800-resume')).toBe(dirs.indexOf('900-complete') - 1);
  });

  it('each Job may only get and patch the listed objects, by name', () => {
    for (const step of ['050-pause', '800-resume']) {
      const roles = objects.filter(
        (o) => o.path.startsWith(`manifests/${step}/`) && (o.obj.kind === 'Role' || o.obj.kind === 'ClusterRole'),
      );
      // One Role per namespace, no ClusterRole: nothing cluster-wide.
      expect(roles.map((r) => `${r.obj.kind} ${r.obj.metadata.namespace}`).sort()).toEqual([
        'Role argocd',
        'Role flux-system',
        'Role shop',
      ]);
      // To pause, the Job may also list pods in the workloads' namespace (to wait until they are gone).
      const pods = roles.flatMap((r) =>
        r.obj.rules
          .filter((rule: Any) => rule.resources[0] === 'pods')
          .map((rule: Any) => `${r.obj.metadata.namespace} ${rule.verbs} ${rule.resourceNames}`),
      );
      expect(pods).toEqual(step === '050-pause' ? ['shop list undefined'] : []);
      const granted = roles.flatMap((r) =>
        r.obj.rules
          .filter((rule: Any) => rule.resources[0] !== 'pods')
          .flatMap((rule: Any) =>
            rule.resourceNames.map(
              (n: string) => `${r.obj.metadata.namespace} ${rule.apiGroups[0]}/${rule.resources[0]}/${n} ${rule.verbs.join(',')}`,
            ),
          ),
      );
      expect(granted.sort()).toEqual(
        [
          'argocd argoproj.io/applications/shop get,patch',
          'flux-system kustomize.toolkit.fluxcd.io/kustomizations/apps get,patch',
          'shop apps/deployments/web get,patch',
          'shop apps/statefulsets/db get,patch',
        ].sort(),
      );
    }
  });

  it("each step waits longer than its Job's deadline", () => {
    for (const dir of ['050-pause', '800-resume']) {
      const job = objects.find((o) => o.path.startsWith(`manifests/${dir}/`) && o.obj.kind === 'Job')!.obj;
      const timeout = rendered.steps.find((s) => s.step.dir === dir)!.step.timeout;
      expect(durationSeconds(timeout), dir).toBeGreaterThan(job.spec.activeDeadlineSeconds);
    }
  });

  it('pause stops the engines before the workloads; resume goes the other way', () => {
    const spec = (step: string): MaintenanceSpec =>
      JSON.parse(objects.find((o) => o.path.startsWith(`manifests/${step}/configmap-`))!.obj.data['maintenance.json']);
    const pause = spec('050-pause');
    expect(pause.mode).toBe('pause');
    expect(pause.targets.map((t) => t.kind)).toEqual(['Application', 'Kustomization', 'Deployment', 'StatefulSet']);
    expect(spec('800-resume').targets.map((t) => t.kind)).toEqual(['StatefulSet', 'Deployment', 'Kustomization', 'Application']);
  });

  it('PLAN.md lists what is paused and the commands for Applications in another cluster', () => {
    const plan = rendered.files.get('PLAN.md')!;
    expect(plan).toContain('- Deployment `shop/web`');
    expect(plan).toContain('- Application `argocd/shop`');
    const k = 'kubectl --context <argocd-cluster> -n argocd';
    expect(plan).toContain(`${k} patch application shop-remote --type merge -p '{"spec":{"syncPolicy":{"automated":null}}}'`);
    // Remembered only when nothing is yet: a second pause keeps the first value.
    expect(plan).toContain(
      `${k} get application shop-remote -o jsonpath='{.metadata.annotations.cilium-cutover\\.io/paused-automated}' | grep -q . || ${k} annotate application shop-remote ${PAUSE_ANNOTATIONS.argocd}=`,
    );
    expect(plan).toContain(`${k} annotate application shop-remote ${PAUSE_ANNOTATIONS.argocd}-`);
    // Applications here are handled by the Job, not by commands.
    expect(plan).not.toContain('application shop --type');
  });

  it('PLAN.md says how to end the window early, and every failed step inside it points there', () => {
    const plan = rendered.files.get('PLAN.md')!;
    const section = plan.slice(plan.indexOf('## The maintenance window'), plan.indexOf('## Steps'));
    expect(section).toContain('### Ending the window early');
    expect(section).toContain('npx cilium-cutover apply --dir dist --kubeconfig <kubeconfig> --from 800-resume --to 800-resume');
    expect(section).toContain('kubectl apply --server-side --field-manager=cilium-cutover -k dist/manifests/800-resume');
    const whatToDo = (dir: string) => {
      const from = plan.indexOf(`### \`${dir}\` failed`);
      return plan
        .slice(from, plan.indexOf('\n### ', from + 1))
        .split('\n')
        .find((l) => l.startsWith('- **What to do:**'))!;
    };
    for (const dir of ['100-calico-delete', '200-cilium', '310-verify-checks']) {
      expect(whatToDo(dir), dir).toMatch(/The listed applications stay paused meanwhile: "Ending the window early"/);
    }
    for (const dir of ['000-preflight', '050-pause', '800-resume', '900-complete']) {
      expect(whatToDo(dir), dir).not.toMatch(/Ending the window early/);
    }
  });

  it('PLAN.md gives the commands for Applications in another cluster when nothing here is paused', () => {
    const remoteOnly = renderExample((d) => {
      d.maintenance = { remoteArgocd: [{ name: 'shop-remote' }] };
    });
    expect(remoteOnly.steps.map((s) => s.step.dir)).not.toContain('050-pause');
    const plan = remoteOnly.files.get('PLAN.md')!;
    const section = plan.slice(plan.indexOf('## The maintenance window'), plan.indexOf('## Steps'));
    expect(section).toMatch(/1 Argo CD Application in another cluster \(`maintenance\.remoteArgocd`\) is paused by hand: before step 000/);
    expect(section).toContain(`--type merge -p '{"spec":{"syncPolicy":{"automated":null}}}'`);
    expect(section).not.toContain('Ending the window early');
  });

  it('with strategy per-node, PLAN.md says the applications stay paused through every move', () => {
    const perNode = renderExample((d) => {
      Object.assign(d, parse(readFileSync('examples/hetzner-3-servers-per-node.yaml', 'utf8')));
      d.maintenance = { workloads: [{ kind: 'Deployment', namespace: 'shop', name: 'web' }] };
    });
    expect(perNode.files.get('PLAN.md')).toMatch(
      /In the migrate phase that is from step 050 through every node's move and the checks to step 800/,
    );
  });

  it('the phase steady output has neither step', () => {
    const steady = renderExample((d) => {
      d.maintenance = maintenance;
      d.phase = 'steady';
    });
    expect(steady.steps.map((s) => s.step.dir)).toEqual(['200-cilium', '900-complete']);
  });
});

const HAVE_OPENSSL = requireTool('openssl', 'maintenance runner', 'the fake API server has no test certificate');

describe.skipIf(!HAVE_OPENSSL)('the maintenance Job against a fake API server', () => {
  const config = exampleConfig((d) => {
    d.maintenance = maintenance;
  });
  const targets = maintenanceTargets(config);
  let api: FakeApi;
  let store: Record<string, Any> = {};
  beforeAll(async () => {
    api = await startFakeApi((method, url, body) => {
      if (!(url in store)) {
        return undefined;
      }
      if (method === 'PATCH') {
        store[url] = mergePatch(store[url], body);
      }
      return [200, store[url]];
    });
  });
  afterAll(() => api.close());

  const unlisted = '/apis/apps/v1/namespaces/shop/deployments/not-listed';
  const fresh = () => {
    store = {
      [targets[0]!.path]: { kind: 'Application', spec: { syncPolicy: { automated: { prune: true } } } },
      [targets[1]!.path]: { kind: 'Kustomization', spec: { interval: '10m' } },
      [targets[2]!.path]: { kind: 'Deployment', spec: { replicas: 4 } },
      [targets[3]!.path]: { kind: 'StatefulSet', spec: { replicas: 2 } },
      [unlisted]: { kind: 'Deployment', spec: { replicas: 5 } },
    };
    api.requests.length = 0;
  };
  const spec = (mode: 'pause' | 'resume'): MaintenanceSpec =>
    mode === 'pause'
      ? { mode, targets, engines: { flux: [], argocd: [] }, stopTimeoutSeconds: 30, settleSeconds: 0 }
      : { mode, targets: [...targets].reverse() };

  it('pauses, resumes to the remembered replicas, and touches nothing that is not listed', async () => {
    fresh();
    const paused = await api.runScript('maintenance-main', spec('pause'));
    expect(paused.code).toBe(0);
    expect(paused.lines).toContain('PAUSED Deployment shop/web: replicas 4 → 0');
    expect(store[targets[3]!.path].spec.replicas).toBe(0);
    expect(store[targets[1]!.path].spec.suspend).toBe(true);
    // A second pause (a re-synced step) keeps the remembered values.
    expect((await api.runScript('maintenance-main', spec('pause'))).lines).toContain('ALREADY-PAUSED Deployment shop/web (remembered: 4)');

    const resumed = await api.runScript('maintenance-main', spec('resume'));
    expect(resumed.code).toBe(0);
    expect(store[targets[2]!.path]).toEqual({ kind: 'Deployment', metadata: { annotations: {} }, spec: { replicas: 4 } });
    expect(store[targets[3]!.path].spec.replicas).toBe(2);
    expect(store[targets[1]!.path].spec.suspend).toBe(false);
    expect(store[targets[0]!.path].spec.syncPolicy.automated).toEqual({ prune: true });
    expect(store[unlisted]).toEqual({ kind: 'Deployment', spec: { replicas: 5 } });
    expect(api.requests.filter((r) => r.includes('not-listed'))).toEqual([]);
    const patched = new Set(api.requests.filter((r) => r.startsWith('PATCH ')).map((r) => r.slice(6)));
    expect([...patched].sort()).toEqual(targets.map((t) => t.path).sort());
  });

  it('changes nothing when a listed object is missing, and fails', async () => {
    fresh();
    delete store[targets[3]!.path];
    const result = await api.runScript('maintenance-main', spec('pause'));
    expect(result.code).toBe(1);
    expect(result.lines).toContain('FAILED StatefulSet shop/db: not found; correct the maintenance list in the config');
    expect(api.requests.filter((r) => r.startsWith('PATCH '))).toEqual([]);
  });

  it('the RBAC covers exactly the paths the Job uses', () => {
    const rules = maintenanceRules(config, 'resume');
    for (const t of targets) {
      const [, , group, , , ns, resource, name] = t.path.split('/');
      expect(rules.some((r) => r.apiGroup === group && r.resource === resource && r.namespace === ns && r.names?.includes(name!))).toBe(
        true,
      );
    }
    expect(rules.flatMap((r) => r.names ?? [])).toHaveLength(targets.length);
  });
});
