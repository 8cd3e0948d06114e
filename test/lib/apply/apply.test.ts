/**
 * `apply` without a cluster: reading the output, readiness rules, and the run itself against a
 * fake Cluster whose objects finish the way each test scripts. The same run against a real API
 * server is in test/integration/.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { outputMarks, readDist, selectSteps, type ManifestObject } from '../../../lib/apply/dist.ts';
import { render } from '../../../charts/app.ts';
import { parseDuration } from '../../../lib/duration.ts';
import { daemonSetReadiness, deploymentReadiness, jobReadiness, type LiveObject } from '../../../lib/apply/readiness.ts';
import { checkPreflight, PreflightNotPassed } from '../../../lib/apply/gate.ts';
import { releaseOwnership } from '../../../lib/apply/release.ts';
import { type Cluster, Interrupted, runApply, StepFailed } from '../../../lib/apply/run.ts';
import { runCli } from '../../../cli/index.ts';
import { InputError } from '../../../lib/input-error.ts';
import { writeOutput } from '../../../lib/output/writer.ts';
import { exampleConfig, renderExample } from '../../support/helpers.ts';
import { FakeCluster, type Outcome } from '../../support/fake-cluster.ts';
import { identityProblems, outputIdentity } from '../../../lib/apply/identity.ts';

const rendered = renderExample();
const dist = join(mkdtempSync(join(tmpdir(), 'cilium-cutover-apply-')), 'dist');
writeOutput(dist, rendered.files);
const steps = readDist(dist);

function collect() {
  const lines: string[] = [];
  return { lines, output: { line: (l: string) => lines.push(l) } };
}

const applied = (cluster: FakeCluster) => cluster.calls.filter((c) => c.startsWith('apply ')).map((c) => c.slice(6));
const stepOf = (key: string) =>
  steps.find((s) => s.objects.some((o) => `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}` === key))!.dir;

describe('reading the output', () => {
  it('reads the steps in the order of manifests/kustomization.yaml, with their own timeouts', () => {
    expect(steps.map((s) => s.dir)).toEqual(rendered.steps.map((s) => s.step.dir));
    expect(steps.find((s) => s.dir === '200-cilium')!.timeoutMs).toBe(20 * 60_000);
    expect(steps.find((s) => s.dir === '100-calico-delete')!.timeoutMs).toBe(15 * 60_000);
  });

  it('applies namespaces, identities and rights before the workloads that need them', () => {
    const preflight = steps[0]!.objects.map((o) => o.kind);
    expect(preflight[0]).toBe('Namespace');
    expect(preflight.indexOf('ServiceAccount')).toBeLessThan(preflight.indexOf('Job'));
    expect(preflight.lastIndexOf('ClusterRoleBinding')).toBeLessThan(preflight.indexOf('Job'));
    expect(preflight.lastIndexOf('ConfigMap')).toBeLessThan(preflight.indexOf('Job'));
    expect(steps.reduce((n, s) => n + s.objects.length, 0)).toBe(rendered.steps.reduce((n, s) => n + s.objects.length, 0));
  });

  it('refuses a directory that is not synthesized output, naming --dir and the fix', () => {
    expect(() => readDist(join(tmpdir(), 'no-such-output'))).toThrow(InputError);
    expect(() => readDist(join(tmpdir(), 'no-such-output'))).toThrow(
      /--dir: .*kustomization.yaml does not exist; run `cilium-cutover synth` first/,
    );
  });

  it('refuses a kustomization that would transform the objects', () => {
    const copy = join(mkdtempSync(join(tmpdir(), 'cilium-cutover-apply-')), 'dist');
    writeOutput(copy, rendered.files);
    writeFileSync(
      join(copy, 'manifests', '100-calico-delete', 'kustomization.yaml'),
      'apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nnamePrefix: x-\nresources: []\n',
    );
    expect(() => readDist(copy)).toThrow(/uses namePrefix, which apply does not implement/);
  });

  it('parses durations as Flux writes them', () => {
    expect(parseDuration('15m')).toBe(900_000);
    expect(parseDuration('1h30m')).toBe(5_400_000);
    expect(parseDuration('90s')).toBe(90_000);
    expect(parseDuration('15')).toBeUndefined();
    expect(parseDuration('')).toBeUndefined();
  });

  it('selects steps by directory or number, and names the steps when one is unknown', () => {
    expect(selectSteps(steps, '100', '110-node-cleanup').map((s) => s.dir)).toEqual(['100-calico-delete', '110-node-cleanup']);
    expect(() => selectSteps(steps, '150')).toThrow(/--from: no step "150"; the steps are 000-preflight, 100-calico-delete/);
    expect(() => selectSteps(steps, '200', '100')).toThrow(/--from: 200-cilium comes after --to 100-calico-delete/);
  });
});

describe('readiness', () => {
  it('a Job is done when Complete, failed when Failed, and pending otherwise', () => {
    expect(jobReadiness({ kind: 'Job', status: { conditions: [{ type: 'Complete', status: 'True' }] } }).state).toBe('done');
    expect(jobReadiness({ kind: 'Job', status: { conditions: [{ type: 'Failed', status: 'True', reason: 'DeadlineExceeded' }] } })).toEqual(
      {
        state: 'failed',
        detail: 'DeadlineExceeded',
      },
    );
    expect(jobReadiness({ kind: 'Job', status: { active: 1, failed: 1 } })).toEqual({
      state: 'waiting',
      detail: '1 running or pending, 1 failed attempt(s)',
    });
    expect(jobReadiness({ kind: 'Job' }).detail).toBe('pending');
  });

  it('a DaemonSet is done only when its controller saw the new spec and every node runs it, ready', () => {
    const full = { desiredNumberScheduled: 3, updatedNumberScheduled: 3, numberAvailable: 3 };
    expect(daemonSetReadiness({ kind: 'DaemonSet', metadata: { generation: 2 }, status: { ...full, observedGeneration: 2 } }).state).toBe(
      'done',
    );
    // The status still describes the previous spec.
    expect(daemonSetReadiness({ kind: 'DaemonSet', metadata: { generation: 2 }, status: { ...full, observedGeneration: 1 } }).state).toBe(
      'waiting',
    );
    expect(
      daemonSetReadiness({
        kind: 'DaemonSet',
        metadata: { generation: 1 },
        status: { ...full, observedGeneration: 1, numberAvailable: 2 },
      }),
    ).toEqual({
      state: 'waiting',
      detail: '2/3 available, 3/3 updated',
    });
  });

  it('a Deployment is done when all wanted replicas are updated and available, and failed when its rollout is stuck', () => {
    const dep = (status: LiveObject['status']): LiveObject => ({
      kind: 'Deployment',
      metadata: { generation: 1 },
      spec: { replicas: 2 },
      status,
    });
    expect(deploymentReadiness(dep({ observedGeneration: 1, replicas: 2, updatedReplicas: 2, availableReplicas: 2 })).state).toBe('done');
    expect(deploymentReadiness(dep({ observedGeneration: 1, replicas: 3, updatedReplicas: 2, availableReplicas: 2 })).state).toBe(
      'waiting',
    );
    expect(
      deploymentReadiness(
        dep({ observedGeneration: 1, conditions: [{ type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded' }] }),
      ),
    ).toEqual({ state: 'failed', detail: 'ProgressDeadlineExceeded' });
  });
});

describe('runApply', () => {
  it('applies every object of every step in order and waits for each step before the next', async () => {
    const cluster = new FakeCluster();
    const { lines, output } = collect();
    await runApply({ steps, cluster, output, pollMs: 1 });
    const order = applied(cluster).map(stepOf);
    expect(order).toEqual([...order].sort());
    expect(applied(cluster)).toHaveLength(steps.reduce((n, s) => n + s.objects.length, 0));
    // Every awaited object was done before the next step began.
    const firstOf200 = lines.findIndex((l) => l.startsWith('step ') && l.includes('200-cilium'));
    const calicoDone = lines.findIndex((l) => l.startsWith('[100-calico-delete] job/') && l.includes('done: complete'));
    expect(calicoDone).toBeGreaterThan(-1);
    expect(calicoDone).toBeLessThan(firstOf200);
    expect(lines.some((l) => l.startsWith('[200-cilium] daemonset/kube-system/cilium done: 3/3 available'))).toBe(true);
    // Each step's header counts its objects in words: "1 object", never "1 objects".
    for (const [i, step] of steps.entries()) {
      const n = step.objects.length;
      expect(lines).toContain(`step ${i + 1}/${steps.length}: ${step.dir} (${n} object${n === 1 ? '' : 's'})`);
    }
    const one = { ...steps[0]!, objects: steps[0]!.objects.slice(0, 1) };
    const single = collect();
    await runApply({ steps: [one], cluster: new FakeCluster(), output: single.output, pollMs: 1 });
    expect(single.lines).toContain(`step 1/1: ${one.dir} (1 object)`);
  });

  it('stops at a failed Job with its last log lines, naming the step and the Job', async () => {
    const cluster = new FakeCluster((name) => (name.startsWith('cleanup-node-k3s-server-2') ? 'fail' : 'complete'));
    const { lines, output } = collect();
    const run = runApply({ steps, cluster, output, pollMs: 1 });
    await expect(run).rejects.toThrow(StepFailed);
    await expect(run).rejects.toThrow(
      /^step 110-node-cleanup failed: job\/cilium-cutover\/cleanup-node-k3s-server-2-\w+ BackoffLimitExceeded/,
    );
    expect(lines).toContain(
      `log of ${steps[2]!.objects.find((o) => o.metadata.name.startsWith('cleanup-node-k3s-server-2'))!.metadata.name}: calico-node still present`,
    );
    expect(applied(cluster).some((k) => stepOf(k) === '200-cilium')).toBe(false);
  });

  it('shows the WARN lines of a Job that completed, and nothing else of its log', async () => {
    const cluster = new FakeCluster();
    cluster.logs.set('preflight-', [
      'PASS hcloud-ccm kube-system/hcloud-cloud-controller-manager: Deployment, networking and routes on',
      'WARN hcloud-ccm kube-system/hcloud-cloud-controller-manager: --cluster-cidr is 10.244.0.0/16, cluster.podCIDR is 10.42.0.0/16',
      'preflight: all checks passed',
    ]);
    const { lines, output } = collect();
    await runApply({ steps, cluster, output, pollMs: 1 });
    expect(lines.filter((l) => l.includes('hcloud-ccm'))).toEqual([
      '[000-preflight] WARN hcloud-ccm kube-system/hcloud-cloud-controller-manager: --cluster-cidr is 10.244.0.0/16, cluster.podCIDR is 10.42.0.0/16',
    ]);
  });

  it('resumes after a failure: completed Jobs are skipped and said so, the failed Job is recreated', async () => {
    let failing = true;
    const cluster = new FakeCluster((name) => (failing && name.startsWith('calico-delete-') ? 'fail' : 'complete'));
    await expect(runApply({ steps, cluster, output: collect().output, pollMs: 1 })).rejects.toThrow(/100-calico-delete/);
    failing = false;
    cluster.calls.length = 0;
    const { lines, output } = collect();
    await runApply({ steps, cluster, output, pollMs: 1 });
    const preflightJob = steps[0]!.objects.find((o) => o.kind === 'Job' && o.metadata.name.startsWith('preflight-'))!;
    expect(lines).toContain(
      `[000-preflight] job/cilium-cutover/${preflightJob.metadata.name} completed in an earlier run; not run again (--rerun runs it again)`,
    );
    expect(applied(cluster)).not.toContain(`Job/cilium-cutover/${preflightJob.metadata.name}`);
    const calicoJob = steps[1]!.objects.find((o) => o.kind === 'Job')!;
    expect(cluster.calls.indexOf(`delete Job/cilium-cutover/${calicoJob.metadata.name}`)).toBeLessThan(
      cluster.calls.indexOf(`apply Job/cilium-cutover/${calicoJob.metadata.name}`),
    );
    expect(lines.some((l) => l.startsWith('[900-complete] done in'))).toBe(true);
  });

  it("refuses to start after the preflight when this output's preflight has not passed on the cluster, and creates nothing", async () => {
    const cluster = new FakeCluster();
    const gate = checkPreflight({ steps: selectSteps(steps, '100', '110'), cluster, output: collect().output, preflight: steps[0] });
    await expect(gate).rejects.toThrow(PreflightNotPassed);
    const jobs = steps[0]!.objects.filter((o) => o.kind === 'Job').map((o) => `job/cilium-cutover/${o.metadata.name} not found`);
    await expect(gate).rejects.toThrow(
      `refused to start at 100-calico-delete: this output's preflight has not passed on this cluster (${jobs.join(', ')}); apply from 000-preflight first`,
    );
    expect(cluster.calls).toEqual([]);

    // A failed preflight holds it too.
    const failed = new FakeCluster((name) => (name.startsWith('preflight-') ? 'fail' : 'complete'));
    await expect(
      runApply({ steps: selectSteps(steps, '000', '000'), cluster: failed, output: collect().output, pollMs: 1 }),
    ).rejects.toThrow(StepFailed);
    await expect(
      checkPreflight({ steps: selectSteps(steps, '100', '100'), cluster: failed, output: collect().output, preflight: steps[0] }),
    ).rejects.toThrow(/\(job\/cilium-cutover\/preflight-\w+ failed\); apply from 000-preflight first/);
  });

  it('goes on after a preflight that passed in an earlier run; a run from the preflight, a dry-run and --without-preflight are not held', async () => {
    const cluster = new FakeCluster();
    await runApply({ steps: selectSteps(steps, '000', '000'), cluster, output: collect().output, pollMs: 1 });
    const { lines, output } = collect();
    await checkPreflight({ steps: selectSteps(steps, '100', '100'), cluster, output, preflight: steps[0] });
    expect(lines).toEqual(['000-preflight passed on this cluster in an earlier run: going on from 100-calico-delete']);

    const quiet = collect();
    await checkPreflight({ steps, cluster: new FakeCluster(), output: quiet.output, preflight: steps[0] });
    await checkPreflight({
      steps: selectSteps(steps, '100', '100'),
      cluster: new FakeCluster(),
      output: quiet.output,
      dryRun: true,
      preflight: steps[0],
    });
    expect(quiet.lines).toEqual([]);

    const forced = collect();
    await checkPreflight({
      steps: selectSteps(steps, '100', '100'),
      cluster: new FakeCluster(),
      output: forced.output,
      preflight: steps[0],
      withoutPreflight: true,
    });
    expect(forced.lines).toHaveLength(1);
    expect(forced.lines[0]).toMatch(
      /^WARNING: --without-preflight: going on from 100-calico-delete although job\/cilium-cutover\/[\w-]+ not found/,
    );
  });

  it('--rerun deletes and reruns completed Jobs', async () => {
    const cluster = new FakeCluster();
    const preflight = selectSteps(steps, '000', '000');
    await runApply({ steps: preflight, cluster, output: collect().output, pollMs: 1 });
    cluster.calls.length = 0;
    await runApply({ steps: preflight, cluster, output: collect().output, pollMs: 1, rerun: true });
    const jobs = preflight[0]!.objects.filter((o) => o.kind === 'Job');
    expect(cluster.calls.filter((c) => c.startsWith('delete '))).toHaveLength(jobs.length);
  });

  it('fails a step that outlasts its timeout, naming what it waited for', async () => {
    const cluster = new FakeCluster((name) => (name.startsWith('calico-delete-') ? 'hang' : 'complete'));
    let clock = 0;
    const run = runApply({
      steps: selectSteps(steps, '100', '100'),
      cluster,
      output: collect().output,
      pollMs: 1,
      now: () => (clock += 60_000),
    });
    await expect(run).rejects.toThrow(
      /^step 100-calico-delete failed: timed out after 15m00s waiting for job\/cilium-cutover\/calico-delete-/,
    );
  });

  it('a server-side dry-run sends every object with dryRun and waits for nothing', async () => {
    const cluster = new FakeCluster();
    await runApply({ steps, cluster, output: collect().output, dryRun: true, pollMs: 1 });
    expect(cluster.calls.every((c) => c.startsWith('dry-run '))).toBe(true);
    expect(cluster.calls).toHaveLength(steps.reduce((n, s) => n + s.objects.length, 0));
    expect(cluster.live.size).toBe(0);
  });

  it("a dry-run on a cluster without the output's namespaces checks their objects in default and says so", async () => {
    const cluster = new FakeCluster();
    const { lines, output } = collect();
    await runApply({ steps, cluster, output, dryRun: true, pollMs: 1 });
    const preflightJob = steps[0]!.objects.find((o) => o.kind === 'Job' && o.metadata.name.startsWith('preflight-'))!;
    expect(lines).toContain(
      `[000-preflight] job/cilium-cutover/${preflightJob.metadata.name} accepted (dry-run; checked in namespace default: cilium-cutover does not exist yet (000-preflight creates it))`,
    );
    expect(cluster.calls).toContain(`dry-run Job/default/${preflightJob.metadata.name}`);
    // kube-system exists on every cluster and is not the output's: its objects stay there.
    expect(cluster.calls).toContain('dry-run DaemonSet/kube-system/cilium');
    expect(lines).toContain('[200-cilium] daemonset/kube-system/cilium accepted (dry-run)');
  });

  it('Ctrl-C stops before the next API call', async () => {
    const cluster = new FakeCluster();
    const interrupt = new AbortController();
    const { output } = collect();
    const original = cluster.apply.bind(cluster);
    cluster.apply = async (obj, dryRun) => {
      const result = await original(obj, dryRun);
      if (cluster.calls.length === 3) {
        interrupt.abort();
      }
      return result;
    };
    await expect(runApply({ steps, cluster, output, pollMs: 1, signal: interrupt.signal })).rejects.toThrow(Interrupted);
    expect(cluster.calls).toHaveLength(3);
  });

  it('without a terminal, a long wait prints a plain line now and then; with one, a status line', async () => {
    const hang = (name: string): Outcome => (name.startsWith('calico-delete-') ? 'hang' : 'complete');
    let clock = 0;
    const plain = collect();
    await expect(
      runApply({
        steps: selectSteps(steps, '100', '100'),
        cluster: new FakeCluster(hang),
        output: plain.output,
        pollMs: 1,
        now: () => (clock += 10_000),
      }),
    ).rejects.toThrow(/timed out/);
    expect(plain.lines.filter((l) => l.startsWith('[100-calico-delete] waiting for 1 object(s): calico-delete-')).length).toBeGreaterThan(
      5,
    );
    const status: string[] = [];
    clock = 0;
    const tty = collect();
    await expect(
      runApply({
        steps: selectSteps(steps, '100', '100'),
        cluster: new FakeCluster(hang),
        output: { ...tty.output, status: (s) => status.push(s) },
        pollMs: 1,
        now: () => (clock += 10_000),
      }),
    ).rejects.toThrow(/timed out/);
    expect(tty.lines.some((l) => l.includes('waiting for 1 object(s)'))).toBe(false);
    expect(status.length).toBeGreaterThan(5);
  });
});

describe('releasing ownership to a GitOps engine', () => {
  it('releases objects another server-side apply manager co-owns, keeps the others, skips what the tool does not own', async () => {
    const step = selectSteps(steps, '300', '300')[0]!;
    const [first, second, third] = step.objects;
    const managers: Record<string, { manager: string; operation: string }[]> = {
      [first!.metadata.name]: [
        { manager: 'cilium-cutover', operation: 'Apply' },
        { manager: 'kustomize-controller', operation: 'Apply' },
      ],
      [second!.metadata.name]: [
        { manager: 'cilium-cutover', operation: 'Apply' },
        { manager: 'kube-controller-manager', operation: 'Update' },
      ],
      [third!.metadata.name]: [{ manager: 'kustomize-controller', operation: 'Apply' }],
    };
    const sent: ManifestObject[] = [];
    const cluster: Cluster = {
      apply: async (obj) => {
        sent.push(obj);
        return { kind: obj.kind };
      },
      read: async (obj) => ({ kind: obj.kind, metadata: { managedFields: managers[obj.metadata.name] ?? [] } }),
      remove: async () => undefined,
      list: async () => [],
      identity: async () => ({ nodes: [] }),
      jobLogs: async () => [],
    };
    const { lines, output } = collect();
    const kept = await releaseOwnership([{ ...step, objects: [first!, second!, third!] }], cluster, output, 'cilium-cutover');
    // Only the co-owned object gets the empty apply: no spec, no labels, nothing but its name.
    expect(sent).toEqual([
      {
        apiVersion: first!.apiVersion,
        kind: first!.kind,
        metadata: first!.metadata.namespace
          ? { name: first!.metadata.name, namespace: first!.metadata.namespace }
          : { name: first!.metadata.name },
      },
    ]);
    expect(lines[0]).toMatch(/ released to kustomize-controller$/);
    // An Update by a controller is not a co-owner of the applied fields.
    expect(kept).toHaveLength(1);
    expect(lines[1]).toMatch(/ kept: no other server-side apply manager co-owns it yet/);
    expect(lines).toHaveLength(2);
  });
});

describe('cilium-cutover apply', () => {
  async function cli(args: string[], cluster: Cluster, signal?: AbortSignal) {
    const stdout: string[] = [];
    const stderr: string[] = [];
    const code = await runCli(['apply', '--dir', dist, ...args], {
      stdout: (l) => stdout.push(l),
      stderr: (l) => stderr.push(l),
      cwd: tmpdir(),
      cluster,
      pollMs: 1,
      signal,
      status: undefined,
    });
    return { code, stdout, stderr };
  }

  it("refuses, before sending anything, a namespace it would create that exists already and is someone else's", async () => {
    for (const dryRun of [[], ['--dry-run=server']]) {
      const cluster = new FakeCluster();
      cluster.put({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'cilium-cutover', labels: { team: 'platform' } } });
      const result = await cli(dryRun, cluster);
      expect(result.code).toBe(1);
      expect(result.stderr).toEqual([
        'error: refused: namespace cilium-cutover exists already and was not created by cilium-cutover (no app.kubernetes.io/managed-by: cilium-cutover label); the tool labels its namespaces Pod Security privileged and deletes them with everything in them at graduation: set run.namespace and verify.namespace to namespaces that do not exist, synth and apply again',
      ]);
      expect(cluster.calls).toEqual([]);
    }
    // Its own namespace from an earlier run, and Cilium's, which may exist already, are no reason to stop.
    const again = new FakeCluster();
    again.put({
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: 'cilium-cutover', labels: { 'app.kubernetes.io/managed-by': 'cilium-cutover' } },
    });
    again.put({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'cilium-secrets' } });
    expect((await cli([], again)).code).toBe(0);
  });

  it('stops with one line naming the request when the API refuses a check before the run', async () => {
    const cluster = new FakeCluster();
    cluster.read = async (obj) => {
      throw new Error(`HTTP 403: ${obj.kind.toLowerCase()}s is forbidden`);
    };
    const result = await cli([], cluster);
    expect(result.code).toBe(1);
    expect(result.stderr).toEqual([
      'error: step 000-preflight failed: reading namespace/cilium-cutover: HTTP 403: namespaces is forbidden',
    ]);
    expect(cluster.calls).toEqual([]);
  });

  it('exits 0 when every step is done', async () => {
    const result = await cli([], new FakeCluster());
    expect(result.code).toBe(0);
    expect(result.stdout.at(-1)).toBe(`done: ${steps.map((s) => s.dir).join(', ')}`);
  });

  it('exits 1 naming the failed step', async () => {
    const result = await cli([], new FakeCluster((name) => (name.startsWith('verify-pods-k3s-server-2-') ? 'fail' : 'complete')));
    expect(result.code).toBe(1);
    expect(result.stderr).toHaveLength(1);
    expect(result.stderr[0]).toMatch(
      /^error: step 310-verify-checks failed: job\/cilium-cutover-verify\/verify-pods-k3s-server-2-\w+ BackoffLimitExceeded/,
    );
  });

  it("exits 1 when a run after the preflight finds this output's preflight not passed, and --without-preflight goes on", async () => {
    const refused = await cli(['--from', '100', '--to', '100'], new FakeCluster());
    expect(refused.code).toBe(1);
    expect(refused.stderr).toHaveLength(1);
    expect(refused.stderr[0]).toMatch(
      /^error: refused to start at 100-calico-delete: this output's preflight has not passed on this cluster/,
    );
    const forced = await cli(['--from', '100', '--to', '100', '--without-preflight'], new FakeCluster());
    expect(forced.code).toBe(0);
  });

  it('exits 1 before sending anything when the output is not for the cluster, naming what differs', async () => {
    const other = new FakeCluster(undefined, {
      nodes: [
        { name: 'k3s-server-1', internalIP: '10.0.0.2' },
        { name: 'k3s-server-2', internalIP: '10.0.0.9' },
        { name: 'worker-1', internalIP: '10.0.0.20' },
      ],
    });
    for (const args of [[], ['--dry-run=server'], ['--from', '100', '--without-preflight']]) {
      const result = await cli(args, other);
      expect(result.code).toBe(1);
      expect(result.stderr).toEqual([
        "error: refused: this output is not for this cluster: node k3s-server-2 has InternalIP 10.0.0.9, the output says 10.0.0.3; node k3s-server-3 (10.0.0.4) is not in the cluster; the cluster's node worker-1 is not in the output; synthesize from this cluster's config (synth --config FILE), or check --kubeconfig and --context",
      ]);
    }
    expect(other.calls).toEqual([]);
  });

  it('reads the identity from the preflight input', () => {
    const identity = outputIdentity(steps[0]);
    expect(identity).toEqual({
      nodes: exampleConfig().cluster.nodes.map((n) => ({ name: n.name, internalIP: n.internalIP })),
      skipNodes: [],
    });
    expect(identityProblems(identity!, { nodes: identity!.nodes })).toEqual([]);
    // A node in run.skipNodes may be gone for good (its Node deleted).
    const [first, second] = identity!.nodes;
    expect(identityProblems({ ...identity!, skipNodes: [second!.name] }, { nodes: [first!, identity!.nodes[2]!] })).toEqual([]);
    expect(identityProblems(identity!, { nodes: [first!, identity!.nodes[2]!] })).toEqual([
      `node ${second!.name} (${second!.internalIP}) is not in the cluster`,
    ]);
    expect(outputIdentity(undefined)).toBeUndefined();
  });

  it("exits 2 on the built-in example's output unless asked for by name", async () => {
    const example = join(mkdtempSync(join(tmpdir(), 'cilium-cutover-apply-')), 'dist');
    writeOutput(example, render(exampleConfig(), [], { builtInExample: true }).files);
    const run = (args: string[]) =>
      runCli(['apply', '--dir', example, '--dry-run=server', ...args], {
        stdout: () => {},
        stderr: (l) => errors.push(l),
        cwd: tmpdir(),
        cluster: new FakeCluster(),
        pollMs: 1,
        status: undefined,
      });
    const errors: string[] = [];
    expect(await run([])).toBe(2);
    expect(errors).toEqual([
      `error: --dir: ${example} was synthesized from the built-in example, not from your cluster's config; write cilium-cutover.yaml and synth again, or pass --built-in-example to apply it on purpose`,
    ]);
    expect(await run(['--built-in-example'])).toBe(0);
    expect(outputMarks(dist)).toEqual({ builtInExample: false, phase: 'migrate' });
  });

  it('exits 2 with one line for bad options', async () => {
    for (const [args, error] of [
      [['--timeout', 'soon'], 'error: --timeout: "soon" is not a duration; write it like 30m or 1h'],
      [['--from', '999'], /^error: --from: no step "999"; the steps are /],
      [['--dir', '/nonexistent'], /^error: --dir: \/nonexistent\/manifests\/kustomization.yaml does not exist/],
      [['--dry-run=client'], /--dry-run/],
      [
        ['--release', '--dry-run=server'],
        'error: --release: cannot be combined with --dry-run; run it alone once the GitOps engine has synced',
      ],
    ] as const) {
      const result = await cli([...args], new FakeCluster());
      expect(result.code, args.join(' ')).toBe(2);
      expect(result.stderr, args.join(' ')).toHaveLength(1);
      expect(result.stderr[0]).toMatch(error);
    }
  });

  it('exits 130 when interrupted', async () => {
    const interrupt = new AbortController();
    interrupt.abort();
    const result = await cli([], new FakeCluster(), interrupt.signal);
    expect(result.code).toBe(130);
    expect(result.stderr[0]).toMatch(/^interrupted during step 000-preflight, between two API calls; run apply again to resume/);
  });
});
