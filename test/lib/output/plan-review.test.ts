/**
 * PLAN.md as the reviewer of the pull request reads it: true to the engine, the output directory
 * and the config the output was made with; a checklist for before the window whose every item
 * names what proves it; and a step graph that Mermaid's own parser reads, with the synthesized
 * steps as its nodes.
 */
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { JSDOM } from 'jsdom';
import { parse, stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { render } from '../../../charts/app.ts';
import { runCli } from '../../../cli/index.ts';
import type { Rendered } from '../../../lib/output/rendered.ts';
import { exampleData, load, renderExample } from '../../support/helpers.ts';

/** Synthesizes `data` with the CLI from a config file at `configPath` into `out`, as a user would; returns PLAN.md. */
async function synthPlan(data: Record<string, any>, configPath: string, out: string): Promise<string> {
  const cwd = mkdtempSync(join(tmpdir(), 'cc-plan-'));
  try {
    mkdirSync(join(cwd, configPath, '..'), { recursive: true });
    writeFileSync(join(cwd, configPath), stringify(data));
    const stderr: string[] = [];
    const code = await runCli(['synth', '--config', configPath, '--out', out], { stdout: () => {}, stderr: (l) => stderr.push(l), cwd });
    expect(stderr).toEqual([]);
    expect(code).toBe(0);
    return readFileSync(join(cwd, out, 'PLAN.md'), 'utf8');
  } finally {
    rmSync(cwd, { recursive: true, force: true });
  }
}

/** The per-node example in a phase. */
const perNodeData = (phase: 'migrate' | 'switch'): Record<string, any> => {
  const data = parse(readFileSync(new URL('../../../examples/hetzner-3-servers-per-node.yaml', import.meta.url), 'utf8'));
  data.phase = phase;
  data.perNode.acknowledgeSwitchOutage = phase === 'switch';
  return data;
};

/** Two Robot servers on a vSwitch, Argo CD and Flux. */
const robotPair = (): Record<string, any> => {
  const data = exampleData();
  data.cluster.profile = 'hetzner-vswitch';
  data.cluster.network = { vSwitchSubnet: '10.0.0.0/24' };
  data.cluster.nodes = data.cluster.nodes.slice(0, 2);
  data.cilium.MTU = 1400;
  return data;
};

const engine = (name: 'argocd' | 'flux' | 'both') => {
  const data = exampleData();
  data.gitops.engine = name;
  if (name === 'flux') {
    delete data.gitops.argocd;
  }
  return data;
};

describe('PLAN.md follows the engine, the output directory and the config', () => {
  const plans: Record<string, string> = {};
  beforeAll(async () => {
    for (const name of ['argocd', 'flux', 'both'] as const) {
      plans[name] = await synthPlan(engine(name), 'clusters/prod/cutover.yaml', 'gitops/cutover');
    }
  });

  it('Flux only: no word or command of Argo CD', () => {
    const plan = plans.flux!;
    expect(plan.match(/argo/gi)).toBeNull();
    expect(plan).toContain('`kubectl apply -k gitops/cutover/flux`');
    expect(plan).toContain('## What Flux may delete');
    expect(plan).toContain('## Handing over to Flux after `apply`');
    // Each step names its Kustomization, which waits for the one before it.
    expect(plan).toContain('### 1. `000-preflight`: Preflight (Kustomization `flux-system/cilium-cutover-hetzner-demo-000-preflight`)');
  });

  it('Argo CD only: no word or command of Flux', () => {
    const plan = plans.argocd!;
    expect(plan.match(/flux/gi)).toBeNull();
    expect(plan).toContain('`kubectl apply -f gitops/cutover/argocd/`, then sync the Application `argocd/cilium-cutover-hetzner-demo`');
    expect(plan).toContain('## What Argo CD may delete');
    expect(plan).toContain('### 1. `000-preflight`: Preflight (sync wave 0)');
  });

  it('both: says to apply only one of them', () => {
    const plan = plans.both!;
    expect(plan).toContain('**Apply only one of `argocd/` and `flux/`**');
    expect(plan).toContain('`kubectl apply -f gitops/cutover/argocd/`');
    expect(plan).toContain('`kubectl apply -k gitops/cutover/flux`');
  });

  it('names the output directory and the config used in every command, and where the engine reads it', () => {
    for (const plan of Object.values(plans)) {
      expect(plan).toContain('run `npx cilium-cutover synth --config clusters/prod/cutover.yaml --out gitops/cutover`.');
      expect(plan).toContain('npx cilium-cutover apply --dir gitops/cutover --kubeconfig');
      expect(plan).toContain('kubectl apply --server-side --field-manager=cilium-cutover -k gitops/cutover/manifests/000-preflight');
      expect(plan).toContain('`kubectl delete -k gitops/cutover/manifests/200-cilium`');
      // gitops.path is dist in the example: the engine reads the output there, not where it was written.
      expect(plan).toContain(
        'This output was written to `gitops/cutover/`; the engine reads it from `https://github.com/example-org/hetzner-demo-gitops.git` at `dist/` (`gitops.path`)',
      );
      expect(plan).not.toMatch(/(--dir|-k) dist\b|`dist\/manifests|npm run synth/);
    }
  });

  it('writes the same PLAN.md for the default config and output directory, named or not, however spelled', async () => {
    const named = await synthPlan(exampleData(), 'cilium-cutover.yaml', './dist/');
    expect(named).toBe(render(load(exampleData()).config).files.get('PLAN.md'));
    expect(named).toContain('run `npx cilium-cutover synth`.');
    expect(await synthPlan(exampleData(), './other.yaml', 'out//')).toContain(
      'run `npx cilium-cutover synth --config other.yaml --out out`.',
    );
  });

  it('says the built-in example is made again with npm run synth, and a default config with a plain synth', () => {
    expect(readFileSync(new URL('../../../dist/PLAN.md', import.meta.url), 'utf8')).toContain('run `npm run synth`.');
    const plain = render(load(exampleData()).config).files.get('PLAN.md')!;
    expect(plain).toContain('run `npx cilium-cutover synth`.');
    expect(plain).not.toContain('This output was written to');
  });
});

describe('PLAN.md: before the window', () => {
  const checklist = (plan: string) => plan.slice(plan.indexOf('## Before the window'), plan.indexOf('## Step graph'));
  const items = (plan: string) =>
    checklist(plan)
      .split('\n')
      .filter((l) => l.startsWith('- [ ] '));

  it('gives every item, for every engine, strategy and phase, a check: a command or a check the preflight runs', () => {
    const configs = [exampleData(), engine('argocd'), engine('flux'), perNodeData('migrate'), perNodeData('switch'), robotPair()];
    for (const data of configs) {
      const lines = items(render(load(data).config).files.get('PLAN.md')!);
      expect(lines.length).toBeGreaterThanOrEqual(6);
      for (const line of lines) {
        expect(line, line).toMatch(/^- \[ \] \*\*[^*]+\*\*.* Check: .*`[^`]+`/);
      }
    }
  });

  it('asks for the etcd snapshot, and tells a single SQLite server what to do instead', () => {
    const three = items(renderExample().files.get('PLAN.md')!);
    const snapshot = three.find((l) => l.includes('etcd snapshot'))!;
    expect(snapshot).toContain('**An etcd snapshot younger than 24h.**');
    expect(snapshot).toContain("the preflight's `snapshot` check refuses without one");
    expect(snapshot).not.toContain('SQLite');
    const single = renderExample((d) => {
      d.cluster.nodes = d.cluster.nodes.slice(0, 1);
      d.cilium.operator = { replicas: 1 };
    }).files.get('PLAN.md')!;
    expect(items(single).find((l) => l.includes('etcd snapshot'))).toContain(
      'A single server without embedded etcd (SQLite, k3s’s default for one server) has no snapshots and fails this check',
    );
    expect(single).toContain('Console or rescue access to the node.');
    expect(single).toContain(', 1 node.');
    const acknowledged = renderExample((d) => (d.safety = { acknowledgeNoSnapshot: true })).files.get('PLAN.md')!;
    expect(items(acknowledged).some((l) => l.startsWith('- [ ] **A copy of the datastore by other means.**'))).toBe(true);
  });

  it('asks for the cloud controller and the routes on Hetzner Cloud, naming the check and the command', () => {
    const lines = items(renderExample().files.get('PLAN.md')!);
    expect(lines.find((l) => l.includes('cloud controller'))).toContain("the preflight's `hcloud-ccm` check");
    expect(lines.find((l) => l.includes("A route for every node's pod CIDR"))).toContain('`hcloud network describe <network>`');
  });

  it('two Robot servers on a vSwitch: one layer-2 segment by the node checks, the rescue system, both nodes', () => {
    const plan = render(load(robotPair()).config).files.get('PLAN.md')!;
    const lines = items(plan);
    expect(lines.find((l) => l.includes('one layer-2 segment'))).toContain(
      "Check: the node preflight's `peer-routes` check (every other node on-link) and the preflight's `vswitch-node` check",
    );
    expect(lines.find((l) => l.includes('Console or rescue access to both nodes.'))).toContain('https://robot-ws.your-server.de/boot/');
    expect(plan).toContain('are down on both nodes at once');
    expect(plan).not.toContain('hcloud');
  });

  it('per-node: asks for the migration tunnel port, and counts the restarts per node', () => {
    const plan = render(load(perNodeData('migrate')).config).files.get('PLAN.md')!;
    const lines = items(plan);
    expect(lines.some((l) => l.startsWith('- [ ] **UDP 8473 between every pair of nodes.**'))).toBe(true);
    expect(lines.some((l) => l.startsWith('- [ ] **Every pod restarts, once for each node it runs on.**'))).toBe(true);
    // Moving a node is no outage: the checklist does not promise failed requests.
    expect(checklist(plan)).not.toContain('fail their requests');
  });

  it('says an in-cluster Argo CD stops at step 100, and names the Applications paused by hand elsewhere', () => {
    const data = engine('argocd');
    data.gitops.argocd.destinationServer = 'https://kubernetes.default.svc';
    data.maintenance = { remoteArgocd: [{ name: 'shop' }] };
    const lines = items(render(load(data).config).files.get('PLAN.md')!);
    expect(lines.find((l) => l.includes('An engine that applies the steps.'))).toContain(
      'runs inside this cluster and stops at step 100: register this cluster in a management Argo CD',
    );
    expect(lines.find((l) => l.includes('1 Argo CD Application in another cluster paused by hand.'))).toContain(
      "`kubectl --context <argocd-cluster> get -n argocd application shop -o jsonpath='{.spec.syncPolicy.automated}'` prints nothing",
    );
  });

  it('gives the built-in example its flag wherever it runs apply, and only there', () => {
    const example = readFileSync(new URL('../../../dist/PLAN.md', import.meta.url), 'utf8');
    const applies = example.match(/npx cilium-cutover apply --dir dist[^`\n]*/g)!;
    expect(applies.length).toBeGreaterThanOrEqual(3);
    expect(applies.filter((a) => !a.startsWith('npx cilium-cutover apply --dir dist --built-in-example'))).toEqual([]);
    expect(render(load(exampleData()).config).files.get('PLAN.md')).not.toContain('--built-in-example');
  });

  it('has no checklist once the migration is over', () => {
    expect(render(load({ ...exampleData(), phase: 'steady' }).config).files.get('PLAN.md')).not.toContain('## Before the window');
  });
});

describe('PLAN.md: the step graph', () => {
  let dom: JSDOM;
  let mermaid: typeof import('mermaid').default;
  beforeAll(async () => {
    // Mermaid sanitizes labels with DOMPurify, which needs a DOM.
    dom = new JSDOM('');
    Object.assign(globalThis, { window: dom.window, document: dom.window.document });
    mermaid = (await import('mermaid')).default;
  });
  afterAll(() => {
    dom.window.close();
    Reflect.deleteProperty(globalThis, 'window');
    Reflect.deleteProperty(globalThis, 'document');
  });

  const graphOf = (plan: string) => {
    const block = plan.slice(plan.indexOf('## Step graph'));
    const start = block.indexOf('```mermaid\n') + '```mermaid\n'.length;
    return block.slice(start, block.indexOf('\n```', start));
  };

  const perNode = (phase: 'migrate' | 'switch') => render(load(perNodeData(phase)).config);

  const cases: [string, () => Rendered, string[]][] = [
    // Pods started under Calico have no network until step 250 restarts them.
    [
      'cutover',
      () => renderExample(),
      ['100-calico-delete', '110-node-cleanup', '200-cilium', '210-kube-proxy-cleanup', '250-readdress-pods'],
    ],
    ['per-node migrate', () => perNode('migrate'), []],
    ['per-node switch', () => perNode('switch'), ['200-cilium', '210-kube-proxy-cleanup', '250-readdress-pods']],
    ['steady', () => render(load({ ...exampleData(), phase: 'steady' }).config), []],
  ];

  for (const [name, rendered, outage] of cases) {
    it(`${name}: parses with Mermaid, one node per synthesized step in order, the outage boxed, the dangerous steps flagged`, async () => {
      const output = rendered();
      const text = graphOf(output.files.get('PLAN.md')!);
      expect(await mermaid.parse(text)).toMatchObject({ diagramType: 'flowchart-v2' });
      const diagram = await mermaid.mermaidAPI.getDiagramFromText(text);
      const db = diagram.db as any;
      const dirs = output.steps.map((s) => s.step.dir);
      const vertices = [...db.getVertices().values()] as { id: string; text: string; classes: string[] }[];
      expect(vertices.map((v) => v.text.split('<br>')[0])).toEqual(dirs);
      const ids = new Map(vertices.map((v) => [v.id, v.text.split('<br>')[0]]));
      expect(db.getEdges().map((e: any) => [ids.get(e.start), ids.get(e.end)])).toEqual(dirs.slice(1).map((d, i) => [dirs[i], d]));
      const boxes = db.getSubGraphs() as { nodes: string[] }[];
      expect(boxes.flatMap((b) => b.nodes.map((n) => ids.get(n)))).toEqual(outage);
      for (const v of vertices) {
        const step = output.steps.find((s) => s.step.dir === ids.get(v.id))!.step;
        expect(v.classes, step.dir).toEqual(step.impact ? [step.impact] : []);
      }
    });
  }

  it('flags Calico deletion and node cleanup irreversible, the evicting and deleting steps destructive', () => {
    const flagged = (output: Rendered) =>
      Object.fromEntries(output.steps.filter((s) => s.step.impact).map((s) => [s.step.dir, s.step.impact]));
    expect(flagged(renderExample((d) => (d.maintenance = { workloads: [{ kind: 'Deployment', namespace: 'a', name: 'b' }] })))).toEqual({
      '050-pause': 'destructive',
      '100-calico-delete': 'irreversible',
      '110-node-cleanup': 'irreversible',
      '210-kube-proxy-cleanup': 'destructive',
      '250-readdress-pods': 'destructive',
    });
    expect(Object.values(flagged(perNode('migrate')))).toEqual([
      'destructive',
      'destructive',
      'destructive',
      'irreversible',
      'irreversible',
    ]);
  });

  it('is what Mermaid rejects when a label breaks it, so the parse proves something', async () => {
    const text = graphOf(renderExample().files.get('PLAN.md')!).replace('s000["000-preflight', 's000["000-["preflight');
    await expect(mermaid.parse(text)).rejects.toThrow(/Parse error/);
  });
});

describe('PLAN.md: what step 300 promises', () => {
  const section = (plan: string) =>
    plan.slice(plan.indexOf('`300-verify-workloads`'), plan.indexOf('### ', plan.indexOf('`300-verify-workloads`')));

  it('an Ingress only when the verification generates one', () => {
    const withIngress = renderExample();
    expect(section(withIngress.files.get('PLAN.md')!)).toContain('and an Ingress to them.');
    expect(withIngress.steps.find((s) => s.step.kind === 'verify-workloads')!.objects.some((o) => o.kind === 'Ingress')).toBe(true);
    const without = renderExample((d) => (d.verify = { ...d.verify, skip: ['ingress'] }));
    expect(without.steps.find((s) => s.step.kind === 'verify-workloads')!.objects.some((o) => o.kind === 'Ingress')).toBe(false);
    expect(section(without.files.get('PLAN.md')!)).toContain('no Ingress (`verify.skip` lists `ingress`)');
    expect(section(without.files.get('PLAN.md')!)).not.toContain('an Ingress to them');
  });
});
