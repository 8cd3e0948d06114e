/**
 * The pause's guards against a window that does not hold: an engine the config does not list
 * that applies a listed object, pods still stopping, and a pause someone undoes. The decisions as
 * functions, and the bundled Job against a fake API server that plays the other party.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  heldProblem,
  type ListedEngines,
  type MaintenanceSpec,
  type MaintenanceTarget,
  ownerProblem,
  podsOf,
  selectorQuery,
} from '../../../lib/incluster/maintenance.ts';
import { mergePatch, startFakeApi, type FakeApi } from '../../support/fake-api.ts';
import { requireTool } from '../../support/tools.ts';

type Any = any;

const web: MaintenanceTarget = {
  type: 'workload',
  kind: 'Deployment',
  namespace: 'shop',
  name: 'web',
  path: '/apis/apps/v1/namespaces/shop/deployments/web',
};
const none: ListedEngines = { flux: [], argocd: [] };

describe('who else applies a listed object', () => {
  // The labels kustomize-controller and helm-controller set on what they apply (fluxcd/kustomize-controller,
  // fluxcd/helm-controller), and Argo CD's annotation tracking (argoproj/argo-cd, `<app>:<group>/<kind>:<ns>/<name>`).
  const byKustomization = {
    metadata: { labels: { 'kustomize.toolkit.fluxcd.io/name': 'apps', 'kustomize.toolkit.fluxcd.io/namespace': 'flux-system' } },
  };
  const byHelmRelease = { metadata: { labels: { 'helm.toolkit.fluxcd.io/name': 'web', 'helm.toolkit.fluxcd.io/namespace': 'shop' } } };
  const byApplication = (app: string) => ({
    metadata: { annotations: { 'argocd.argoproj.io/tracking-id': `${app}:apps/Deployment:shop/web` } },
  });

  it('names a Flux Kustomization or HelmRelease the config does not list, and the fix', () => {
    expect(ownerProblem(web, byKustomization, none)).toBe(
      'FAILED Deployment shop/web: applied by Flux Kustomization flux-system/apps, which maintenance.flux does not list; list it there too, or it undoes the pause',
    );
    expect(ownerProblem(web, byKustomization, { ...none, flux: ['Kustomization flux-system/apps'] })).toBeUndefined();
    expect(ownerProblem(web, byHelmRelease, none)).toMatch(/applied by Flux HelmRelease shop\/web, which maintenance\.flux/);
    expect(ownerProblem(web, byHelmRelease, { ...none, flux: ['HelmRelease shop/web'] })).toBeUndefined();
    // A Kustomization of the same name is another object.
    expect(ownerProblem(web, byHelmRelease, { ...none, flux: ['Kustomization shop/web'] })).toBeDefined();
  });

  it("names the Argo CD Application of the tracking annotation, in Argo CD's namespace or another", () => {
    expect(ownerProblem(web, byApplication('shop'), none)).toMatch(
      /applied by Argo CD Application shop, which neither maintenance\.argocd/,
    );
    expect(ownerProblem(web, byApplication('shop'), { ...none, argocd: ['argocd/shop'] })).toBeUndefined();
    expect(ownerProblem(web, byApplication('team-a_shop'), { ...none, argocd: ['team-a/shop'] })).toBeUndefined();
    expect(ownerProblem(web, byApplication('team-a_shop'), { ...none, argocd: ['argocd/other'] })).toBeDefined();
    // Plain Helm (`app.kubernetes.io/managed-by: Helm`) reconciles nothing.
    expect(
      ownerProblem(web, { metadata: { labels: { 'app.kubernetes.io/managed-by': 'Helm', 'app.kubernetes.io/instance': 'web' } } }, none),
    ).toBeUndefined();
  });
});

describe('whether the pause held', () => {
  it('fails a workload scaled up again, a Flux object resumed, an Application back on automated sync', () => {
    expect(heldProblem(web, { spec: { replicas: 0 } })).toBeUndefined();
    expect(heldProblem(web, { spec: { replicas: 2 } })).toMatch(
      /^FAILED Deployment shop\/web: scaled back to 2 after the pause: something else manages it/,
    );
    const ks: MaintenanceTarget = { ...web, type: 'flux', kind: 'Kustomization' };
    expect(heldProblem(ks, { spec: { suspend: true } })).toBeUndefined();
    expect(heldProblem(ks, { spec: { suspend: false } })).toMatch(/resumed \(spec\.suspend is not true\)/);
    const app: MaintenanceTarget = { ...web, type: 'argocd', kind: 'Application' };
    expect(heldProblem(app, { spec: { syncPolicy: {} } })).toBeUndefined();
    expect(heldProblem(app, { spec: { syncPolicy: { automated: { selfHeal: true } } } })).toMatch(/automated sync back on/);
    expect(heldProblem(web, undefined)).toBe('FAILED Deployment shop/web: deleted after the pause');
  });
});

describe("a workload's pods", () => {
  it('are found by its selector, in the syntax of a labelSelector query', () => {
    expect(
      selectorQuery({
        matchLabels: { app: 'web', tier: 'front' },
        matchExpressions: [
          { key: 'track', operator: 'In', values: ['stable', 'canary'] },
          { key: 'legacy', operator: 'DoesNotExist' },
        ],
      }),
    ).toBe('app=web,tier=front,track in (stable,canary),!legacy');
    expect(selectorQuery({})).toBeUndefined();
  });

  it("are the StatefulSet's own, or the Deployment's through its ReplicaSets", () => {
    const pod = (name: string, kind: string, owner: string) => ({ metadata: { name, ownerReferences: [{ kind, name: owner }] } });
    const pods = [
      pod('web-7d9-a', 'ReplicaSet', 'web-7d9'),
      pod('webhook-1', 'ReplicaSet', 'webhook-5c4'),
      pod('db-0', 'StatefulSet', 'db'),
    ];
    expect(podsOf(web, pods).map((p) => p.metadata.name)).toEqual(['web-7d9-a']);
    expect(podsOf({ ...web, kind: 'StatefulSet', name: 'db' }, pods).map((p) => p.metadata.name)).toEqual(['db-0']);
  });
});

const HAVE_OPENSSL = requireTool('openssl', 'maintenance guards', 'the fake API server has no test certificate');

describe.skipIf(!HAVE_OPENSSL)('the pause Job against a fake API server that plays the other party', () => {
  let api: FakeApi;
  let deployment: Any;
  let podLists: number;
  /** How many pod lists still show a stopping pod. */
  let stopping: number;
  /** A parent that scales the Deployment back up once it sees it at zero. */
  let parent: boolean;
  const podsPath = `/api/v1/namespaces/shop/pods?${new URLSearchParams({ labelSelector: 'app=web' }).toString()}`;
  beforeAll(async () => {
    api = await startFakeApi((method, url, body) => {
      if (url === web.path) {
        if (method === 'PATCH') {
          deployment = mergePatch(deployment, body);
        } else if (parent && deployment.spec.replicas === 0) {
          deployment = mergePatch(deployment, { spec: { replicas: 3 } });
        }
        return [200, deployment];
      }
      if (method === 'GET' && url === podsPath) {
        podLists++;
        const left =
          stopping-- > 0 ? [{ metadata: { name: 'web-7d9-a', ownerReferences: [{ kind: 'ReplicaSet', name: 'web-7d9' }] } }] : [];
        return [200, { items: left }];
      }
      return undefined;
    });
  });
  afterAll(() => api.close());

  const reset = (labels: Record<string, string> = {}) => {
    deployment = { kind: 'Deployment', metadata: { labels }, spec: { replicas: 3, selector: { matchLabels: { app: 'web' } } } };
    podLists = 0;
    stopping = 0;
    parent = false;
    api.requests.length = 0;
  };
  const spec: MaintenanceSpec = { mode: 'pause', targets: [web], engines: none, stopTimeoutSeconds: 30, settleSeconds: 0 };
  const run = () => api.runScript('maintenance-main', spec, { env: { CILIUM_CUTOVER_POLL_MS: '20' } });

  it('changes nothing when an engine the config does not list applies the workload', async () => {
    reset({ 'kustomize.toolkit.fluxcd.io/name': 'apps', 'kustomize.toolkit.fluxcd.io/namespace': 'flux-system' });
    const result = await run();
    expect(result.code).toBe(1);
    expect(result.lines.at(-1)).toBe('pause: nothing changed');
    expect(api.requests.filter((r) => r.startsWith('PATCH '))).toEqual([]);
    expect(deployment.spec.replicas).toBe(3);
  });

  it("waits until the workload's last pod is gone before it is done", async () => {
    reset();
    stopping = 3;
    const result = await run();
    expect(result.lines).toEqual([
      'pause: 1 object(s)',
      'PAUSED Deployment shop/web: replicas 3 → 0',
      'WAITING Deployment shop/web: 1 pod(s) still stopping: web-7d9-a',
      'STOPPED Deployment shop/web: no pod left',
      'HELD every object still paused after 0s',
      'pause: done',
    ]);
    expect(result.code).toBe(0);
    expect(podLists).toBe(4);
  });

  it('fails when something scales the workload back up after the pause, without waiting out the pods it brings back', async () => {
    reset();
    parent = true;
    // Its pods never go: the wait must end because the workload runs again, not at the deadline.
    stopping = Number.MAX_SAFE_INTEGER;
    const result = await run();
    expect(result.code).toBe(1);
    expect(result.lines).toContainEqual(expect.stringMatching(/^FAILED Deployment shop\/web: scaled back to 3 after the pause: /));
    expect(result.lines.at(-1)).toBe('pause: 1 object(s) failed');
    // What was remembered stays, so resume restores the replicas from before the window.
    expect(deployment.metadata.annotations['cilium-cutover.io/paused-replicas']).toBe('3');
  });
});
