/**
 * The generated Jobs run their real program on a simulated k3s + Calico cluster
 * (scripts/sim-cluster/): each scenario gets its own control plane, the objects of the config, a
 * network namespace per node and a kubelet that runs our pods as their ServiceAccount, with their
 * env and mounted files. `apply` drives the steps, as from a workstation; the PASS and FAIL lines
 * are read back from the pods' logs through the API server.
 *
 * Needs root (network and mount namespaces), `ip` and `unshare`, and the control plane that
 * scripts/control-plane/build.sh builds. Without them it prints one SKIP line; under
 * CILIUM_CUTOVER_REQUIRE_SIMULATION=1 (.ci/run) a missing prerequisite fails the run instead.
 */
import { execFile, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { render } from '../../charts/app.ts';
import { runCli } from '../../cli/index.ts';
import type { ResolvedConfig } from '../../lib/config/resolve.ts';
import { writeOutput } from '../../lib/output/writer.ts';
import { readDist, type ManifestObject } from '../../lib/apply/dist.ts';
import { deletionSet, KINDS } from '../../lib/versions/calico-deletion-sets.ts';
import { NEWER_APIS, outputAtSimulationLevel } from '../../scripts/sim-cluster/api-level.ts';
import { EXTERNAL_IP, EXTERNAL_NAME } from '../../scripts/sim-cluster/network.ts';
import { GENERIC_PLUGINS, HOST_CHAINS, HOST_IPSETS } from '../../scripts/sim-cluster/node-host.ts';
import { PORTMAP_PLUGIN } from '../../scripts/sim-cluster/portmap.ts';
import { firstCniConfig } from '../../scripts/sim-cluster/cilium.ts';
import { cloudController as cloudControllerObjects, type CloudControllerShape, type Scenario } from '../../scripts/sim-cluster/fixture.ts';
import { startSimulation, type Simulation } from '../../scripts/sim-cluster/simulation.ts';
import { readInventory } from '../../lib/incluster/calico-inventory-read.ts';
import { inCidr } from '../../lib/incluster/move-node.ts';
import { calicoObjects, CRD_KINDS } from '../../scripts/sim-cluster/calico-fixture.ts';
import { everyKind, manyPolicies } from '../support/calico-resources.ts';
import { exampleData, load, permissiveCrd } from '../support/helpers.ts';
import { hasTool } from '../support/tools.ts';

const ROOT = new URL('../..', import.meta.url).pathname;
/** The plural of each Calico kind. */
const CRD_PLURALS: Readonly<Record<string, string>> = Object.fromEntries(Object.entries(CRD_KINDS).map(([plural, kind]) => [kind, plural]));
const CONTROL_PLANE_BIN = process.env.CONTROL_PLANE_HOME ?? '/var/tmp/cilium-cutover-control-plane';

/** Why the simulation cannot run here, or undefined when it can. */
function missing(): string | undefined {
  if (process.getuid?.() !== 0) {
    return 'not root (network and mount namespaces need it)';
  }
  const absent = (
    [
      'ip',
      'unshare',
      'chroot',
      'openssl',
      'curl',
      'iptables-nft-restore',
      'iptables-legacy-restore',
      'ipset',
      'nft',
      'busybox',
      'wget',
    ] as const
  ).find((tool) => !hasTool(tool));
  if (absent !== undefined) {
    return `${absent} is not installed`;
  }
  if (!existsSync(PORTMAP_PLUGIN)) {
    return 'the portmap CNI plugin is not installed (containernetworking-plugins)';
  }
  if (!existsSync(join(CONTROL_PLANE_BIN, 'bin', 'kube-apiserver'))) {
    return 'no control plane: run scripts/control-plane/build.sh';
  }
  return undefined;
}

const why = missing();
if (why !== undefined) {
  if (process.env.CILIUM_CUTOVER_REQUIRE_SIMULATION === '1') {
    throw new Error(`the simulated cluster cannot run: ${why} (CILIUM_CUTOVER_REQUIRE_SIMULATION=1)`);
  }
  console.log(`SKIP simulated cluster: ${why}`);
}

/** Ports of the scenarios' own control planes: apart from the integration suite's. */
const PORTS = { ETCD_PORT: '23790', APISERVER_PORT: '26443', KCM_PORT: '30257' };

/**
 * The scenario running now. A drill that times out never reaches its own clean-up, and its control
 * plane would keep the ports every later drill needs: afterEach stops what is left.
 */
let current: { run: string; env: NodeJS.ProcessEnv; sim?: Simulation } | undefined;

async function stopCurrent(): Promise<void> {
  const left = current;
  current = undefined;
  if (left) {
    await left.sim?.stop();
    spawnSync('bash', [join(ROOT, 'scripts/control-plane/stop.sh'), left.run, '--rm'], { env: left.env });
  }
}

afterEach(stopCurrent);

/** A fresh control plane, the simulation of `config` on it, `fn`, then everything stopped. */
async function onSimulatedCluster(
  config: ResolvedConfig,
  scenario: Scenario,
  fn: (sim: Simulation, kubeconfig: string) => Promise<void>,
): Promise<void> {
  const run = mkdtempSync(join(tmpdir(), 'ccsim-cp-'));
  const env = { ...process.env, ...PORTS, CONTROL_PLANE_RUN: run };
  const started = spawnSync('bash', [join(ROOT, 'scripts/control-plane/start.sh')], { env, encoding: 'utf8' });
  if (started.status !== 0) {
    throw new Error(`control plane: ${started.stderr}`);
  }
  const kubeconfig = started.stdout.trim().split('\n').at(-1)!;
  const mine: NonNullable<typeof current> = { run, env };
  current = mine;
  try {
    mine.sim = await startSimulation({
      kubeconfig,
      config,
      scenario,
      tls: { key: readFileSync(join(run, 'pki', 'apiserver.key'), 'utf8'), cert: readFileSync(join(run, 'pki', 'apiserver.crt'), 'utf8') },
    });
    await fn(mine.sim, kubeconfig);
  } finally {
    // Not when afterEach stopped it already (a timed-out drill): current is then the next one's.
    if (current === mine) {
      await stopCurrent();
    }
  }
}

/**
 * Synthesizes a config into a temporary output directory, brought down to the simulation's API
 * level (scripts/sim-cluster/api-level.ts: each change printed; test/sim-cluster/api-level.test.ts
 * shows that nothing else changes).
 */
function synth(config: ResolvedConfig): string {
  const dir = join(mkdtempSync(join(tmpdir(), 'ccsim-dist-')), 'dist');
  const files = render(config).files;
  writeOutput(dir, files);
  const level = outputAtSimulationLevel(dir, files.keys());
  if (level.changes.length > 0) {
    console.log(`not checked on the simulation's API level (1.20): ${level.changes.join('; ')}`);
  }
  return level.dir;
}

/** `apply` against the simulated cluster; its exit code and output. */
async function apply(kubeconfig: string, dir: string, args: string[]): Promise<{ code: number; stdout: string[]; stderr: string[] }> {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const code = await runCli(['apply', '--dir', dir, '--kubeconfig', kubeconfig, ...args], {
    stdout: (l) => stdout.push(l),
    stderr: (l) => stderr.push(l),
    cwd: ROOT,
    pollMs: 300,
  });
  return { code, stdout, stderr };
}

/**
 * The log lines of every pod of the Jobs whose name starts with `prefix`, read through the API
 * server from the simulated kubelet (asynchronously: the kubelet answers from this process).
 */
async function jobLogs(kubeconfig: string, namespace: string, prefix: string): Promise<string[]> {
  const run = promisify(execFile);
  const pods = (await run('kubectl', ['--kubeconfig', kubeconfig, '-n', namespace, 'get', 'pods', '-o', 'name'])).stdout
    .split('\n')
    .filter((p) => p.startsWith(`pod/${prefix}`));
  // A pod that never started (on a node that is down) has no log.
  const logs = await Promise.all(
    pods.map((pod) => run('kubectl', ['--kubeconfig', kubeconfig, '-n', namespace, 'logs', pod]).catch(() => ({ stdout: '' }))),
  );
  return logs.flatMap((l) => l.stdout.trim().split('\n')).filter((l) => l !== '');
}

/** The HTTP status a node's port 80 answers with, asked from another node's network namespace ('000': none). */
function hostPortAnswer(fromNetns: string, address: string): string {
  const curl = spawnSync(
    'ip',
    ['netns', 'exec', fromNetns, 'curl', '-s', '-o', '/dev/null', '-w', '%{http_code}', '--max-time', '5', `http://${address}:80/`],
    { encoding: 'utf8' },
  );
  return curl.stdout.trim();
}

function kubectl(kubeconfig: string, args: string[], input?: string): { code: number | null; out: string } {
  const result = spawnSync('kubectl', ['--kubeconfig', kubeconfig, ...args], { input, encoding: 'utf8', maxBuffer: 256 << 20 });
  return { code: result.status, out: result.stdout };
}

/**
 * The verification as a config for the simulation sets it: the site outside the cluster is the
 * stand-in (by a name, so the outside name resolves through cluster DNS), no ingress controller
 * unless a drill adds one, and a shorter window (the simulated network settles at once).
 */
function verifyForSimulation(data: Record<string, any>): void {
  data.verify = {
    ...data.verify,
    externalURLs: [`http://${EXTERNAL_NAME}/`],
    skip: ['ingress'],
    limits: { wait: '3m', window: '40s', consecutive: 2 },
  };
}

const example = (edit: (d: Record<string, any>) => void = () => {}): ResolvedConfig => {
  const data = exampleData();
  verifyForSimulation(data);
  edit(data);
  return load(data).config;
};

/**
 * Rewrites one synthesized object in place. The failing drills shorten a wait this way (the
 * logic that waits is the same; only the number a platform engineer would wait for is smaller).
 */
function rewrite(dir: string, file: string, edit: (obj: Record<string, any>) => void): void {
  const path = join(dir, 'manifests', file);
  const obj = parse(readFileSync(path, 'utf8'));
  edit(obj);
  writeFileSync(path, stringify(obj));
}

/** The name of the Job in one file of a synthesized output. */
function jobIn(dir: string, file: string): string {
  return parse(readFileSync(join(dir, 'manifests', file), 'utf8')).metadata.name;
}

/**
 * The calico-delete Job waits `seconds` for Calico's pods to go (not 5 minutes), or for its deleted
 * CRDs to go (not 2 minutes). Its ConfigMap is immutable and named after its content, so the
 * changed one gets a name of its own.
 */
function shortenCalicoPodWait(dir: string, seconds: number, wait: 'podWaitSeconds' | 'crdWaitSeconds' = 'podWaitSeconds'): void {
  let name = '';
  rewrite(dir, '100-calico-delete/configmap-calico-delete.yaml', (cm) => {
    const spec = JSON.parse(cm.data['calico-delete.json']);
    expect(spec[wait]).toBe(wait === 'podWaitSeconds' ? 300 : 120);
    cm.data['calico-delete.json'] = JSON.stringify({ ...spec, [wait]: seconds });
    name = cm.metadata.name;
    cm.metadata.name = `${name}-wait${seconds}`;
  });
  rewrite(dir, '100-calico-delete/job-calico-delete.yaml', (job) => {
    const volume = job.spec.template.spec.volumes.find((v: any) => v.configMap?.name === name);
    volume.configMap.name = `${name}-wait${seconds}`;
  });
}

/** The kube-proxy cleanup Jobs wait `seconds` for their node's Cilium agent, not 5 minutes. */
function shortenAgentWait(dir: string, nodes: readonly string[], seconds: number): void {
  for (const node of nodes) {
    rewrite(dir, `210-kube-proxy-cleanup/job-kube-proxy-cleanup-${node}.yaml`, (job) => {
      const wait = job.spec.template.spec.containers[0].env.find((e: any) => e.name === 'CILIUM_AGENT_WAIT_SECONDS');
      expect(wait.value).toBe('300');
      wait.value = String(seconds);
    });
  }
}

describe.skipIf(why !== undefined)('the preflight on a simulated cluster', () => {
  it('passes on the cluster the config describes: every check of both programs, as their own accounts', async () => {
    const config = example();
    await onSimulatedCluster(config, {}, async (_sim, kubeconfig) => {
      const result = await apply(kubeconfig, synth(config), ['--to', '000']);
      expect(result.stderr).toEqual([]);
      expect(result.code).toBe(0);
      const lines = await jobLogs(kubeconfig, 'cilium-cutover', 'preflight-');
      expect(lines.at(-1)).toBe('preflight: all checks passed');
      expect(lines.filter((l) => l.startsWith('FAIL'))).toEqual([]);
      for (const node of config.cluster.nodes) {
        expect(lines).toContain(`PASS node-ready ${node.name}: Ready`);
      }
      for (const node of config.cluster.nodes) {
        expect(lines).toContain(`PASS node-pressure ${node.name}: no disk, memory or PID pressure`);
        expect(lines).toContain(`PASS kubelet ${node.name}: v1.32.0+k3s1`);
        expect(lines).toContain(`PASS kernel ${node.name}: 6.8.0-51-generic (Ubuntu 24.04.1 LTS), Cilium 1.20 needs 5.10`);
      }
      expect(lines).toContain(`PASS calico kube-system/calico-node: runs ${config.calico.version} (3/3 ready)`);
      expect(lines).toContain('PASS calico-typha kube-system/calico-typha: absent, as calico.manifest calico says');
      expect(lines).toContain('PASS calico-ippools ippools.crd.projectcalico.org: 192.168.0.0/16');
      expect(lines).toContain(
        'PASS hcloud-ccm kube-system/hcloud-cloud-controller-manager: Deployment, networking and routes on, --cluster-cidr 10.42.0.0/16, host network, 1 ready',
      );
      expect(lines).toContain("PASS namespace cilium-cutover: holds nothing but the tool's own objects");
      const nodeLines = await jobLogs(kubeconfig, 'cilium-cutover', 'node-preflight-');
      expect(nodeLines.filter((l) => l.startsWith('FAIL'))).toEqual([]);
      expect(nodeLines.filter((l) => l.startsWith('PASS host-tools'))).toHaveLength(config.cluster.nodes.length);
      for (const node of config.cluster.nodes) {
        // Each node reaches the API at cluster.apiServer, the other two nodes' pods through the private network, and carries the MTU.
        expect(nodeLines).toContain(`PASS api-server ${node.name}: answers at 127.0.0.1:6444`);
        expect(nodeLines).toContain(`PASS peer-routes ${node.name}: 2 other node(s): pods via eth1`);
        expect(nodeLines).toContain(`PASS mtu ${node.name}: eth1 carries 1500, cilium.MTU is 1450`);
      }
    });
  }, 180_000);

  it('refuses a namespace someone else uses: apply before it sends anything, the preflight once an engine has labelled it', async () => {
    const config = example();
    await onSimulatedCluster(config, {}, async (_sim, kubeconfig) => {
      expect(kubectl(kubeconfig, ['create', 'namespace', 'cilium-cutover']).code).toBe(0);
      expect(kubectl(kubeconfig, ['-n', 'cilium-cutover', 'create', 'deployment', 'web', '--image=registry.k8s.io/pause:3.9']).code).toBe(
        0,
      );
      await expect
        .poll(() => kubectl(kubeconfig, ['-n', 'cilium-cutover', 'get', 'pods', '-o', 'name']).out, { timeout: 30_000 })
        .toMatch(/^pod\/web-/);
      const dir = synth(config);
      const refused = await apply(kubeconfig, dir, ['--to', '000']);
      expect(refused.code).toBe(1);
      expect(refused.stderr.join('\n')).toMatch(
        /^error: refused: namespace cilium-cutover exists already and was not created by cilium-cutover/,
      );
      expect(kubectl(kubeconfig, ['-n', 'cilium-cutover', 'get', 'jobs', '-o', 'name']).out).toBe('');

      // An engine applying step 000 labels the namespace as the tool's; the preflight still stops.
      kubectl(kubeconfig, ['label', 'namespace', 'cilium-cutover', 'app.kubernetes.io/managed-by=cilium-cutover']);
      const failed = await apply(kubeconfig, dir, ['--to', '000']);
      expect(failed.code).toBe(1);
      const lines = await jobLogs(kubeconfig, 'cilium-cutover', 'preflight-');
      // The same line from each of the Job's attempts (backoffLimit 1).
      expect([...new Set(lines.filter((l) => l.startsWith('FAIL')))]).toEqual([
        expect.stringMatching(
          /^FAIL namespace cilium-cutover: holds objects the tool did not create \(.*Deployment\/web.*\); .* set run\.namespace to a namespace of its own$/,
        ),
      ]);
      expect(lines.find((l) => l.startsWith('FAIL'))).toMatch(/Pod\/web-\w+-\w+/);
      expect(lines.find((l) => l.startsWith('FAIL'))).toMatch(/ReplicaSet\/web-\w+/);
    });
  }, 180_000);

  it('refuses each kind of Calico install it cannot remove, and accepts a manifest install with only a leftover operator CRD', async () => {
    const apply000 = async (retries: number) => {
      const config = example((d) => (d.run = { ...d.run, retries: Array.from({ length: retries }, () => '000-preflight') }));
      const dir = synth(config);
      const result = await apply(kubeconfig!, dir, ['--to', '000']);
      // This attempt's Job only (each attempt's Job has a name of its own).
      const lines = await jobLogs(kubeconfig!, 'cilium-cutover', `${jobIn(dir, '000-preflight/job-preflight.yaml')}-`);
      return { code: result.code, fails: [...new Set(lines.filter((l) => l.startsWith('FAIL')))], lines };
    };
    const yaml = (objects: Record<string, unknown>[]) => objects.map((o) => stringify(o)).join('---\n');
    let kubeconfig: string | undefined;
    await onSimulatedCluster(example(), {}, async (_sim, kc) => {
      kubeconfig = kc;
      const create = (objects: Record<string, unknown>[]) => {
        const done = spawnSync('kubectl', ['--kubeconfig', kc, 'apply', '-f', '-'], { input: yaml(objects), encoding: 'utf8' });
        expect(done.stderr).toBe('');
      };
      // The operator (its Deployment), the API server add-on (its APIService), Flux tracking, the
      // etcd datastore and the eBPF dataplane, each as its manifest or engine makes it.
      create([
        permissiveCrd('operator.tigera.io', 'Installation', 'installations', 'v1', { scope: 'Cluster' }),
        { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'tigera-operator' } },
        {
          apiVersion: 'apps/v1',
          kind: 'Deployment',
          metadata: { name: 'tigera-operator', namespace: 'tigera-operator' },
          spec: {
            replicas: 0,
            selector: { matchLabels: { name: 'tigera-operator' } },
            template: {
              metadata: { labels: { name: 'tigera-operator' } },
              spec: { containers: [{ name: 'tigera-operator', image: 'quay.io/tigera/operator:v1.32.3' }] },
            },
          },
        },
        {
          apiVersion: 'apiregistration.k8s.io/v1',
          kind: 'APIService',
          metadata: { name: 'v3.projectcalico.org' },
          spec: {
            group: 'projectcalico.org',
            version: 'v3',
            groupPriorityMinimum: 1500,
            versionPriority: 200,
            insecureSkipTLSVerify: true,
            service: { namespace: 'calico-apiserver', name: 'calico-api', port: 443 },
          },
        },
        { apiVersion: 'crd.projectcalico.org/v1', kind: 'FelixConfiguration', metadata: { name: 'default' }, spec: { bpfEnabled: true } },
      ]);
      kubectl(kc, [
        '-n',
        'kube-system',
        'label',
        'daemonset',
        'calico-node',
        'kustomize.toolkit.fluxcd.io/name=network',
        'kustomize.toolkit.fluxcd.io/namespace=flux-system',
      ]);
      kubectl(kc, [
        '-n',
        'kube-system',
        'set',
        'env',
        'daemonset/calico-node',
        '-c',
        'calico-node',
        'ETCD_ENDPOINTS=https://10.0.0.2:2379',
      ]);
      const refused = await apply000(0);
      expect(refused.code).toBe(1);
      expect(refused.fails.map((l) => l.split(':')[0])).toEqual([
        'FAIL calico-manifest tigera-operator',
        'FAIL calico-apiserver v3.projectcalico.org',
        'FAIL calico-datastore kube-system/calico-node',
        'FAIL calico-dataplane kube-system/calico-node',
        'FAIL calico-gitops kube-system/calico-node',
      ]);
      expect(refused.fails[4]).toMatch(/Flux Kustomization flux-system\/network: run flux suspend kustomization network -n flux-system/);

      // Only v3.32's native v3 CRDs.
      kubectl(kc, ['delete', 'apiservice', 'v3.projectcalico.org']);
      kubectl(kc, ['-n', 'tigera-operator', 'delete', 'deployment', 'tigera-operator']);
      kubectl(kc, ['delete', 'felixconfiguration.crd.projectcalico.org', 'default']);
      kubectl(kc, [
        '-n',
        'kube-system',
        'label',
        'daemonset',
        'calico-node',
        'kustomize.toolkit.fluxcd.io/name-',
        'kustomize.toolkit.fluxcd.io/namespace-',
      ]);
      kubectl(kc, ['-n', 'kube-system', 'set', 'env', 'daemonset/calico-node', '-c', 'calico-node', 'ETCD_ENDPOINTS-']);
      create([permissiveCrd('projectcalico.org', 'IPPool', 'ippools', 'v3', { scope: 'Cluster' })]);
      const v3 = await apply000(1);
      expect(v3.code).toBe(1);
      expect(v3.fails).toEqual([expect.stringMatching(/^FAIL calico-crds ippools\.projectcalico\.org: exists: .*calico-v3-crds\.yaml/)]);

      // A manifest install with the operator's CRD left over from an old attempt: it goes on.
      kubectl(kc, ['delete', 'crd', 'ippools.projectcalico.org']);
      const passed = await apply000(2);
      expect(passed.fails).toEqual([]);
      expect(passed.code).toBe(0);
      expect(passed.lines).toContain(
        'PASS calico-manifest tigera-operator: only a leftover installations.operator.tigera.io CRD (no operator, no Installation): a manifest install',
      );
    });
  }, 300_000);

  it('refuses AdminNetworkPolicy objects that Calico v3.30 enforces and Cilium will not, unless acknowledged', async () => {
    const config = example((d) => (d.calico.version = 'v3.30.0'));
    await onSimulatedCluster(config, {}, async (_sim, kubeconfig) => {
      // The network-policy API's CRD as Calico's v3.30 manifest ships it (cluster-scoped, v1alpha1), and one policy.
      const crd = permissiveCrd('policy.networking.k8s.io', 'AdminNetworkPolicy', 'adminnetworkpolicies', 'v1alpha1', {
        scope: 'Cluster',
        annotations: { 'api-approved.kubernetes.io': 'https://github.com/kubernetes-sigs/network-policy-api/pull/30' },
      });
      const anp = {
        apiVersion: 'policy.networking.k8s.io/v1alpha1',
        kind: 'AdminNetworkPolicy',
        metadata: { name: 'deny-metadata-api' },
        spec: {
          priority: 10,
          subject: { namespaces: {} },
          egress: [{ name: 'metadata', action: 'Deny', to: [{ networks: ['169.254.169.254/32'] }] }],
        },
      };
      expect(
        spawnSync('kubectl', ['--kubeconfig', kubeconfig, 'apply', '-f', '-'], { input: JSON.stringify(crd), encoding: 'utf8' }).status,
      ).toBe(0);
      await expect
        .poll(
          () =>
            spawnSync('kubectl', ['--kubeconfig', kubeconfig, 'apply', '-f', '-'], { input: JSON.stringify(anp), encoding: 'utf8' }).status,
          { timeout: 30_000 },
        )
        .toBe(0);
      const result = await apply(kubeconfig, synth(config), ['--to', '000']);
      expect(result.code).toBe(1);
      const lines = [...new Set(await jobLogs(kubeconfig, 'cilium-cutover', 'preflight-'))];
      expect(lines.filter((l) => l.startsWith('FAIL'))).toEqual([
        expect.stringMatching(
          /^FAIL unenforced-policies policy\.networking\.k8s\.io: 1 enforced by Calico v3\.30\.0 stay in the cluster but nothing enforces them .*: AdminNetworkPolicy deny-metadata-api; .*safety\.acknowledgeDroppedPolicies$/,
        ),
      ]);
    });
  }, 180_000);

  it('refuses a cluster that runs another Calico version, and a node without the cleanup tools; nothing is deleted', async () => {
    const config = example();
    await onSimulatedCluster(config, { calicoImageTag: 'v3.26.1', missingHostTools: ['bash'] }, async (_sim, kubeconfig) => {
      const result = await apply(kubeconfig, synth(config), ['--to', '100']);
      expect(result.code).toBe(1);
      expect(result.stderr.join('\n')).toMatch(/step 000-preflight failed: job\/cilium-cutover\/(node-)?preflight-/);
      const lines = await jobLogs(kubeconfig, 'cilium-cutover', 'preflight-');
      expect(lines.find((l) => l.startsWith('FAIL calico '))).toMatch(/v3\.26\.1/);
      expect(lines.at(-1)).toMatch(/^preflight: \d+ check\(s\) failed; nothing was changed$/);
      const nodeLines = await jobLogs(kubeconfig, 'cilium-cutover', 'node-preflight-');
      // Every node's Job failed on it (each tried twice: backoffLimit 1).
      const failedNodes = new Set(nodeLines.filter((l) => l.startsWith('FAIL host-tools')).map((l) => l.split(' ')[2]!.replace(/:$/, '')));
      expect([...failedNodes].sort()).toEqual(config.cluster.nodes.map((n) => n.name).sort());
      // Step 100 was never applied: calico-node is still there.
      expect(kubectl(kubeconfig, ['-n', 'kube-system', 'get', 'daemonset', 'calico-node']).code).toBe(0);
    });
  }, 180_000);
});

/**
 * The hcloud cloud controller a scenario shape gives, replacing the one running (a Deployment),
 * rolled out. Waited for without blocking: the simulated kubelet runs in this process.
 */
async function replaceCloudController(kubeconfig: string, config: ResolvedConfig, shape: CloudControllerShape): Promise<void> {
  const cc = config.cluster.network!.cloudController;
  const object = cloudControllerObjects(config, { cloudController: shape })[0]!;
  const replaced = spawnSync('kubectl', ['--kubeconfig', kubeconfig, 'replace', '-f', '-'], {
    input: JSON.stringify(object),
    encoding: 'utf8',
  });
  expect(replaced.stderr).toBe('');
  // Rolled out, as it would be when someone runs the preflight: the new pod ready, the old one gone.
  const run = promisify(execFile);
  const status = async () =>
    (
      await run('kubectl', [
        '--kubeconfig',
        kubeconfig,
        '-n',
        cc.namespace,
        'get',
        'deployment',
        cc.name,
        '-o',
        'jsonpath={.status.observedGeneration}/{.metadata.generation} {.status.replicas} {.status.updatedReplicas} {.status.readyReplicas}',
      ])
    ).stdout;
  await expect
    .poll(
      async () => {
        const [generation, ...counts] = (await status()).split(' ');
        const [observed, wanted] = generation!.split('/');
        return observed === wanted && counts.every((c) => c === '1');
      },
      { timeout: 120_000, interval: 1000 },
    )
    .toBe(true);
}

/** The log lines of the Jobs whose names start with `prefix`, once one of them says `want`. */
async function linesOnceSaid(kubeconfig: string, prefix: string, want: RegExp): Promise<string[]> {
  await expect
    .poll(async () => (await jobLogs(kubeconfig, 'cilium-cutover', prefix)).some((l) => want.test(l)), { timeout: 60_000 })
    .toBe(true);
  // A failed Job runs twice (backoffLimit 1): each line once.
  return [...new Set(await jobLogs(kubeconfig, 'cilium-cutover', prefix))];
}

describe.skipIf(why !== undefined)('the preflight refuses a network that would route nothing, on a simulated cluster', () => {
  it('refuses an hcloud cloud controller with its routes off, then one without --allocate-node-cidrs and --cluster-cidr; nothing is deleted', async () => {
    const config = example();
    // The chart with networking enabled and HCLOUD_NETWORK_ROUTES_ENABLED=false in its env.
    await onSimulatedCluster(config, { cloudController: { routesEnabled: 'false' } }, async (_sim, kubeconfig) => {
      const dir = synth(config);
      expect((await apply(kubeconfig, dir, ['--to', '100'])).code).toBe(1);
      const fails = async (out: string) =>
        [...new Set(await jobLogs(kubeconfig, 'cilium-cutover', `${jobIn(out, '000-preflight/job-preflight.yaml')}-`))].filter((l) =>
          l.startsWith('FAIL'),
        );
      expect(await fails(dir)).toEqual([
        'FAIL hcloud-ccm kube-system/hcloud-cloud-controller-manager: HCLOUD_NETWORK_ROUTES_ENABLED is "false": its route controller is off, so no pod CIDR is routed; remove the variable',
      ]);
      // The chart without networking.enabled, the network given by hand in its env (the Robot guide's shape, routes left on).
      await replaceCloudController(kubeconfig, config, { networking: false, network: 'secret' });
      // The preflight run again, as after a fix: its step in run.retries.
      const retry = synth(example((d) => (d.run.retries = ['000-preflight'])));
      expect((await apply(kubeconfig, retry, ['--to', '100'])).code).toBe(1);
      expect(await fails(retry)).toEqual([
        'FAIL hcloud-ccm kube-system/hcloud-cloud-controller-manager: no --cluster-cidr: its route controller never starts (the hcloud chart passes --allocate-node-cidrs=true --cluster-cidr only with networking.enabled); enable networking with networking.clusterCIDR 10.42.0.0/16; ' +
          'it does not run with hostNetwork: it stops working while the pod network is down',
      ]);
      expect(kubectl(kubeconfig, ['-n', 'kube-system', 'get', 'daemonset', 'calico-node']).code).toBe(0);
    });
  }, 300_000);

  it('finds the cloud controller deployed as a DaemonSet, and refuses it while its pods crash', async () => {
    const config = example();
    await onSimulatedCluster(config, { cloudController: { kind: 'DaemonSet', crashLooping: true } }, async (_sim, kubeconfig) => {
      expect((await apply(kubeconfig, synth(config), ['--to', '100'])).code).toBe(1);
      const fails = [...new Set(await jobLogs(kubeconfig, 'cilium-cutover', 'preflight-'))].filter((l) => l.startsWith('FAIL'));
      expect(fails).toEqual([
        'FAIL hcloud-ccm kube-system/hcloud-cloud-controller-manager: no ready pod (DaemonSet reports none): a crash-looping controller routes nothing; `kubectl -n kube-system logs` it',
      ]);
      expect(kubectl(kubeconfig, ['-n', 'kube-system', 'get', 'daemonset', 'calico-node']).code).toBe(0);
    });
  }, 240_000);

  it("passes a cloud controller whose --cluster-cidr is the chart's Flannel default, and apply shows the warning", async () => {
    const config = example();
    await onSimulatedCluster(config, { cloudController: { clusterCIDR: '10.244.0.0/16' } }, async (_sim, kubeconfig) => {
      const result = await apply(kubeconfig, synth(config), ['--to', '000']);
      expect(result.code).toBe(0);
      expect(result.stdout.filter((l) => l.includes(' WARN '))).toEqual([
        "[000-preflight] WARN hcloud-ccm kube-system/hcloud-cloud-controller-manager: --cluster-cidr is 10.244.0.0/16, cluster.podCIDR is 10.42.0.0/16: it still routes each node's pod CIDR, with a ClusterCIDRMisconfigured event each time (hcloud/routes.go CreateRoute), but never deletes one (it is outside its range), so the routes of removed nodes pile up against the network's limit of 100 routes; set the chart's networking.clusterCIDR to 10.42.0.0/16",
      ]);
    });
  }, 240_000);

  it("refuses a node whose route to the other nodes' pods leaves through its public interface; nothing is deleted", async () => {
    const config = example();
    await onSimulatedCluster(config, { noPodRoute: ['k3s-server-2'] }, async (_sim, kubeconfig) => {
      expect((await apply(kubeconfig, synth(config), ['--to', '100'])).code).toBe(1);
      const lines = await linesOnceSaid(kubeconfig, 'node-preflight-k3s-server-2-', /^FAIL peer-routes /);
      expect(lines.filter((l) => l.startsWith('FAIL'))[0]).toBe(
        "FAIL peer-routes k3s-server-2: k3s-server-1's pods 10.42.0.0/24 leave by default via 192.0.2.1 dev eth0, k3s-server-1 itself by 10.0.0.0/16 via 10.0.0.1 dev eth1; " +
          "k3s-server-3's pods 10.42.2.0/24 leave by default via 192.0.2.1 dev eth0, k3s-server-3 itself by 10.0.0.0/16 via 10.0.0.1 dev eth1; " +
          "the Hetzner network's ip_range must contain the pod CIDR, with a route for it via the network's gateway on the private interface (`ip route add <ip_range> via <network gateway>`)",
      );
      // The other nodes reach every pod CIDR through the private network.
      expect(await jobLogs(kubeconfig, 'cilium-cutover', 'node-preflight-k3s-server-1-')).toContain(
        'PASS peer-routes k3s-server-1: 2 other node(s): pods via eth1',
      );
      expect(kubectl(kubeconfig, ['-n', 'kube-system', 'get', 'daemonset', 'calico-node']).code).toBe(0);
    });
  }, 240_000);

  it('hetzner-vswitch: refuses a node that reports a public InternalIP, and one that has no other node on-link', async () => {
    const config = example((d) => {
      d.cluster.profile = 'hetzner-vswitch';
      d.cluster.network = { vSwitchSubnet: '10.0.0.0/24' };
      delete d.cilium.MTU;
    });
    const scenario: Scenario = { nodeStatus: { 'k3s-server-3': { internalIP: '88.99.10.4' } }, offLink: ['k3s-server-2'] };
    await onSimulatedCluster(config, scenario, async (_sim, kubeconfig) => {
      const dir = synth(config);
      // apply refuses before it sends anything: the output's node addresses are not the cluster's.
      const refused = await apply(kubeconfig, dir, ['--to', '100']);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toEqual([
        "error: refused: this output is not for this cluster: node k3s-server-3 has InternalIP 88.99.10.4, the output says 10.0.0.4; synthesize from this cluster's config (synth --config FILE), or check --kubeconfig and --context",
      ]);
      // An engine applies the step anyway: the preflight refuses.
      const applied = spawnSync(
        'kubectl',
        [
          '--kubeconfig',
          kubeconfig,
          'apply',
          '--server-side',
          '--field-manager=cilium-cutover',
          '-k',
          join(dir, 'manifests', '000-preflight'),
        ],
        { encoding: 'utf8' },
      );
      expect(applied.status, applied.stderr).toBe(0);
      const lines = await linesOnceSaid(kubeconfig, 'preflight-', /^preflight: /);
      expect(lines.filter((l) => l.startsWith('FAIL'))).toEqual([
        'FAIL node-address k3s-server-3: InternalIP is 88.99.10.4, config says 10.0.0.4; fix cluster.nodes',
        "FAIL vswitch-node k3s-server-3: InternalIP 88.99.10.4 is outside the vSwitch subnet 10.0.0.0/24: Cilium's direct routes would point off the vSwitch; start k3s with --node-ip on the vSwitch interface",
      ]);
      const offLink = await linesOnceSaid(kubeconfig, 'node-preflight-k3s-server-2-', /^FAIL peer-routes /);
      expect(offLink.find((l) => l.startsWith('FAIL peer-routes '))).toMatch(
        /^FAIL peer-routes k3s-server-2: k3s-server-1 \(10\.0\.0\.2\) is not on-link \(default via 10\.0\.0\.254 dev eth1\): Cilium's direct route to its pods needs both nodes on one layer-2 segment; k3s-server-3 \(10\.0\.0\.4\) is not on-link/,
      );
      expect(await linesOnceSaid(kubeconfig, 'node-preflight-k3s-server-1-', /^PASS peer-routes /)).toContain(
        'PASS peer-routes k3s-server-1: 2 other node(s): on-link',
      );
      expect(kubectl(kubeconfig, ['-n', 'kube-system', 'get', 'daemonset', 'calico-node']).code).toBe(0);
    });
  }, 240_000);
});

describe.skipIf(why !== undefined)('the preflight refuses an unfit node or a Calico unlike the config, on a simulated cluster', () => {
  it('refuses an old kernel, disk pressure, another kubelet minor, Typha and other pools than configured; nothing is deleted', async () => {
    const config = example();
    const scenario: Scenario = {
      nodeStatus: {
        'k3s-server-1': { kernelVersion: '5.4.0-216-generic', osImage: 'Ubuntu 20.04.6 LTS' },
        'k3s-server-2': { pressure: ['DiskPressure'] },
        'k3s-server-3': { kubeletVersion: 'v1.31.9+k3s1' },
      },
      calicoManifest: 'calico-typha',
      calicoIpPools: ['10.244.0.0/16'],
    };
    await onSimulatedCluster(config, scenario, async (_sim, kubeconfig) => {
      expect((await apply(kubeconfig, synth(config), ['--to', '100'])).code).toBe(1);
      const lines = await linesOnceSaid(kubeconfig, 'preflight-', /^preflight: /);
      expect(lines.filter((l) => l.startsWith('FAIL'))).toEqual([
        'FAIL kernel k3s-server-1: 5.4.0-216-generic (Ubuntu 20.04.6 LTS) is older than 5.10, the least Cilium 1.20 runs on (or 4.18 on RHEL 8.10+): its agents would fail only after Calico is deleted; upgrade the kernel, or choose an older cilium.version whose line supports it',
        "FAIL node-pressure k3s-server-2: DiskPressure: the kubelet turns away the migration's pods there and evicts running ones; free the resource first",
        'FAIL kubelet k3s-server-3: runs v1.31.9+k3s1, cluster.kubernetesVersion says v1.32: the Cilium DaemonSets are rendered for that version; set it to what the nodes run, or finish the k3s upgrade first',
        'FAIL calico-typha kube-system/calico-typha: runs, but calico.manifest is calico: the deletion would leave Typha, its Service and its PodDisruptionBudget behind; set calico.manifest: calico-typha',
        "FAIL calico-ippools ippools.crd.projectcalico.org: the cluster's IPv4 pools are 10.244.0.0/16, calico.ipPools says 192.168.0.0/16: what step 110 flushes and keeps is decided from them; set calico.ipPools to the cluster's",
      ]);
      expect(lines.at(-1)).toBe('preflight: 5 check(s) failed; nothing was changed');
      expect(kubectl(kubeconfig, ['-n', 'kube-system', 'get', 'daemonset', 'calico-node']).code).toBe(0);
    });
  }, 240_000);
});

describe.skipIf(why !== undefined)('the Calico deletion on a simulated cluster', () => {
  it('removes exactly the deletion set, waits for the Calico pods, and leaves everything else', async () => {
    const config = example();
    const scenario: Scenario = { deployments: [{ namespace: 'shop', name: 'web', replicas: 2 }] };
    await onSimulatedCluster(config, scenario, async (sim, kubeconfig) => {
      const result = await apply(kubeconfig, synth(config), ['--to', '100']);
      expect(result.stderr).toEqual([]);
      expect(result.code).toBe(0);
      const lines = await jobLogs(kubeconfig, 'cilium-cutover', 'calico-delete-');
      expect(lines).toContain('PASS calico pods: all gone');
      expect(lines.at(-1)).toBe('calico-delete: done');
      const set = deletionSet(config.calico.version, { variant: config.calico.manifest, includeForeign: false }).filter((o) => !o.optional);
      // policy/v1 PodDisruptionBudgets: this API server (1.20) does not serve policy/v1, so the
      // Job's DELETE answers 404 and it reports ABSENT while the fixture's policy/v1beta1 copy
      // stays (scripts/sim-cluster/api-level.ts). That ABSENT is the API level, not the Job's
      // doing: those objects are checked only for being reported, not as deleted.
      const newer = (kind: string) =>
        NEWER_APIS.some(
          (e) => e.what === `${KINDS[kind as keyof typeof KINDS].group}/${KINDS[kind as keyof typeof KINDS].version} ${kind}`,
        );
      expect(set.filter((o) => newer(o.kind)).map((o) => `${o.kind} ${o.name}`)).toEqual(['PodDisruptionBudget calico-kube-controllers']);
      for (const o of set) {
        const where = o.namespace ? ['-n', o.namespace] : [];
        const resource = `${o.kind.toLowerCase()}.${o.kind === 'CustomResourceDefinition' ? 'apiextensions.k8s.io' : ''}`.replace(
          /\.$/,
          '',
        );
        if (newer(o.kind)) {
          expect(
            lines.find((l) => l.includes(`${o.kind.toLowerCase()}`) || l.includes(o.kind)),
            `${o.kind} ${o.name} reported`,
          ).toMatch(/^ABSENT /);
          expect(kubectl(kubeconfig, [...where, 'get', resource, o.name]).code, `${o.kind} ${o.name} kept at v1beta1`).toBe(0);
          continue;
        }
        expect(kubectl(kubeconfig, [...where, 'get', resource, o.name]).code, `${o.kind} ${o.name}`).not.toBe(0);
        expect(
          lines.some((l) => l.startsWith('DELETED') && l.includes(`${o.name}`)),
          `${o.kind} ${o.name} reported DELETED`,
        ).toBe(true);
      }
      // What is not Calico's stays: CoreDNS, the applications, the nodes, the snapshot.
      expect(kubectl(kubeconfig, ['-n', 'kube-system', 'get', 'deployment', 'coredns']).code).toBe(0);
      expect(kubectl(kubeconfig, ['-n', 'shop', 'get', 'deployment', 'web']).code).toBe(0);
      expect(kubectl(kubeconfig, ['get', 'etcdsnapshotfiles.k3s.cattle.io', '-o', 'name']).out.trim()).not.toBe('');
      expect(parse(kubectl(kubeconfig, ['get', 'nodes', '-o', 'yaml']).out).items).toHaveLength(config.cluster.nodes.length);
      expect(sim.nodes).toHaveLength(config.cluster.nodes.length);
    });
  }, 240_000);

  /** The kube-controllers pod and its node. */
  const kubeControllers = (kubeconfig: string): [string, string] =>
    kubectl(kubeconfig, [
      '-n',
      'kube-system',
      'get',
      'pods',
      '-l',
      'k8s-app=calico-kube-controllers',
      '-o',
      'jsonpath={.items[0].metadata.name} {.items[0].spec.nodeName}',
    ]).out.split(' ') as [string, string];

  it('completes with a node down and listed in run.skipNodes, listing the Calico pod that stays there', async () => {
    await onSimulatedCluster(example(), {}, async (sim, kubeconfig) => {
      // The node of calico-kube-controllers goes down; the operator lists it in run.skipNodes.
      const [pod, node] = kubeControllers(kubeconfig);
      sim.setNodeDown(node, true);
      const config = example((d) => (d.run = { ...d.run, skipNodes: [node] }));
      const result = await apply(kubeconfig, synth(config), ['--to', '100']);
      expect(result.stderr).toEqual([]);
      expect(result.code).toBe(0);
      expect(await jobLogs(kubeconfig, 'cilium-cutover', 'preflight-')).toContain(
        `INFO node ${node}: skipped (run.skipNodes): no per-node Job runs there; clean it up by hand or reboot it when it returns`,
      );
      const lines = await jobLogs(kubeconfig, 'cilium-cutover', 'calico-delete-');
      // calico-node's pods went at once (grace period 0), the one on the node that is down too;
      // kube-controllers' (30 seconds) would wait for a kubelet that does not answer.
      expect(lines.filter((l) => l.startsWith('SKIPPED'))).toEqual([
        `SKIPPED kube-system/${pod} on ${node}: the node is in run.skipNodes, so the pod stays until the node returns; if the node is gone for good: kubectl -n kube-system delete pod ${pod} --force --grace-period=0`,
      ]);
      expect(lines).toContain('PASS calico pods: all gone but 1 on nodes that are down (SKIPPED above)');
      expect(lines.at(-1)).toBe('calico-delete: done');
      expect(kubectl(kubeconfig, ['get', 'clusterrole', 'calico-node']).code).not.toBe(0);
      expect(kubectl(kubeconfig, ['-n', 'kube-system', 'get', 'pod', pod, '-o', 'jsonpath={.metadata.deletionTimestamp}']).out).not.toBe(
        '',
      );
      expect(kubectl(kubeconfig, ['get', 'jobs', '-n', 'cilium-cutover', '-o', 'name']).out).not.toMatch(
        new RegExp(`node-preflight-${node}-`),
      );
    });
  }, 300_000);

  it('stops before the CRDs while a Calico pod on a Ready node does not go (a finalizer holds it), naming it', async () => {
    const config = example();
    await onSimulatedCluster(config, {}, async (_sim, kubeconfig) => {
      const dir = synth(config);
      const [pod, node] = kubeControllers(kubeconfig);
      // Something else put a finalizer on the pod and is not there to remove it.
      kubectl(kubeconfig, [
        '-n',
        'kube-system',
        'patch',
        'pod',
        pod,
        '--type',
        'merge',
        '-p',
        '{"metadata":{"finalizers":["example.com/hold"]}}',
      ]);
      shortenCalicoPodWait(dir, 20);
      const failed = await apply(kubeconfig, dir, ['--to', '100']);
      expect(failed.code).toBe(1);
      expect(failed.stderr.join('\n')).toMatch(
        /step 100-calico-delete failed: job\/cilium-cutover\/calico-delete-\w+ BackoffLimitExceeded/,
      );
      const lines = await jobLogs(kubeconfig, 'cilium-cutover', 'calico-delete-');
      expect(lines).toContain(
        `FAIL calico pods: still present after 20s on nodes that are Ready: ${pod} on ${node}; find what holds them (\`kubectl -n kube-system describe pod\`: a finalizer, a stuck container), then re-run this step`,
      );
      expect(lines.filter((l) => l.startsWith('DELETED CustomResourceDefinition'))).toEqual([]);
      expect(kubectl(kubeconfig, ['get', 'ippools.crd.projectcalico.org', 'default-ipv4-ippool']).code).toBe(0);
      expect(kubectl(kubeconfig, ['get', 'clusterrole', 'calico-node']).code).toBe(0);

      // The finalizer removed, the recovery PLAN.md gives: the step into run.retries, synth, and a
      // walk from the first step (as an engine syncing the new commit): the preflight stays done,
      // the deletion resumes where it stopped.
      kubectl(kubeconfig, ['-n', 'kube-system', 'patch', 'pod', pod, '--type', 'merge', '-p', '{"metadata":{"finalizers":null}}']);
      const retried = synth(example((d) => (d.run = { ...d.run, retries: ['100-calico-delete'] })));
      const rerun = await apply(kubeconfig, retried, ['--to', '100']);
      expect(rerun.stderr).toEqual([]);
      expect(rerun.code).toBe(0);
      expect(rerun.stdout.filter((l) => /^\[000-preflight\] .* completed in an earlier run; not run again/.test(l))).toHaveLength(4);
      const again = await jobLogs(kubeconfig, 'cilium-cutover', `${jobIn(retried, '100-calico-delete/job-calico-delete.yaml')}-`);
      expect(again).toContain('ABSENT DaemonSet kube-system/calico-node (already deleted)');
      expect(again).toContain('PASS calico pods: all gone');
      expect(again.at(-1)).toBe('calico-delete: done');
      expect(kubectl(kubeconfig, ['get', 'clusterrole', 'calico-node']).code).not.toBe(0);
    });
  }, 300_000);
});

describe.skipIf(why !== undefined)('a Calico CRD held by a finalizer on a simulated cluster', () => {
  it('reports the CRD TERMINATING, naming the custom resource and its finalizer, and the step fails', async () => {
    const config = example();
    await onSimulatedCluster(config, {}, async (_sim, kubeconfig) => {
      const dir = synth(config);
      // Another controller's finalizer on Calico's pool, and nothing there to remove it.
      expect(
        kubectl(kubeconfig, [
          'patch',
          'ippools.crd.projectcalico.org',
          'default-ipv4-ippool',
          '--type',
          'merge',
          '-p',
          '{"metadata":{"finalizers":["example.com/lb-ipam"]}}',
        ]).code,
      ).toBe(0);
      shortenCalicoPodWait(dir, 10, 'crdWaitSeconds');
      const failed = await apply(kubeconfig, dir, ['--to', '100']);
      expect(failed.code).toBe(1);
      expect(failed.stderr.join('\n')).toMatch(
        /step 100-calico-delete failed: job\/cilium-cutover\/calico-delete-\w+ BackoffLimitExceeded/,
      );
      const lines = [...new Set(await jobLogs(kubeconfig, 'cilium-cutover', 'calico-delete-'))];
      expect(lines.find((l) => l.startsWith('TERMINATING CustomResourceDefinition ippools.crd.projectcalico.org'))).toMatch(
        /: still present after 10s .*held by IPPool default-ipv4-ippool \(finalizer example\.com\/lb-ipam\)\. .*kubectl patch ippools\.crd\.projectcalico\.org default-ipv4-ippool --type=merge/,
      );
      expect(lines).not.toContain('DELETED CustomResourceDefinition ippools.crd.projectcalico.org');
      expect(lines).toContain('DELETED CustomResourceDefinition felixconfigurations.crd.projectcalico.org');
      expect(lines).toContain('calico-delete: 1 delete(s) failed or did not finish');
    });
  }, 300_000);
});

/** A second, empty control plane (other ports; etcd's peer port is its client port + 1): a fresh API server to restore an inventory on. */
async function onFreshApiServer(fn: (kubeconfig: string) => Promise<void>): Promise<void> {
  const run = mkdtempSync(join(tmpdir(), 'ccsim-cp-'));
  const env = { ...process.env, ETCD_PORT: '23800', APISERVER_PORT: '26454', KCM_PORT: '30267', CONTROL_PLANE_RUN: run };
  try {
    const started = spawnSync('bash', [join(ROOT, 'scripts/control-plane/start.sh')], { env, encoding: 'utf8' });
    if (started.status !== 0) {
      throw new Error(`control plane: ${started.stderr}`);
    }
    await fn(started.stdout.trim().split('\n').at(-1)!);
  } finally {
    spawnSync('bash', [join(ROOT, 'scripts/control-plane/stop.sh'), run, '--rm'], { env });
  }
}

describe.skipIf(why !== undefined)('the Calico inventory on a simulated cluster', () => {
  /** The objects of the inventory's kinds as the API server has them, by `Kind/namespace/name`. */
  const stored = (kubeconfig: string, kinds: readonly string[]): Map<string, any> => {
    const listed = kubectl(kubeconfig, ['get', kinds.map((k) => `${k}.crd.projectcalico.org`).join(','), '-A', '-o', 'json']);
    expect(listed.code).toBe(0);
    return new Map(
      JSON.parse(listed.out).items.map((o: any) => [`${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`, o] as const),
    );
  };
  /** What a restore must give back exactly: labels, annotations and the spec, byte for byte as the API server returns them. */
  const restorable = (o: any) =>
    JSON.stringify({ labels: o.metadata.labels ?? {}, annotations: o.metadata.annotations ?? {}, spec: o.spec });
  const cli = async (args: string[]) => {
    const out: string[] = [];
    const err: string[] = [];
    const code = await runCli(args, { stdout: (l) => out.push(l), stderr: (l) => err.push(l), cwd: ROOT });
    return { code, out, err };
  };

  it('keeps every configured custom resource in full, thousands of policies split under the ConfigMap limit, before deleting anything; restore brings them back byte-equal, on a fresh API server and after a back-out', async () => {
    // v3.30: the first line whose manifest has every kind (tiers and staged policies from v3.30).
    // Calico's policies are not enforced by Cilium: the preflight stops unless that is acknowledged.
    // The config lists both pools the cluster will hold (the preflight compares them): the
    // manifest's, which the fixture creates, and everyKind's extra-pool, created below.
    const config = example((d) => {
      d.calico.version = 'v3.30.0';
      d.calico.ipPools = ['192.168.0.0/16', '10.99.0.0/16'];
      d.safety = { ...d.safety, acknowledgeDroppedPolicies: true };
    });
    await onSimulatedCluster(config, { calicoIpPools: ['192.168.0.0/16'] }, async (_sim, kubeconfig) => {
      const configured = [...everyKind(), ...manyPolicies(3000)];
      const namespaces = [...new Set(configured.flatMap((o) => (o.metadata.namespace ? [o.metadata.namespace] : [])))];
      const dir = mkdtempSync(join(tmpdir(), 'ccsim-inventory-'));
      const namespaceFile = join(dir, 'namespaces.yaml');
      writeFileSync(
        namespaceFile,
        namespaces.map((n) => stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: n } })).join('---\n'),
      );
      expect(kubectl(kubeconfig, ['apply', '-f', namespaceFile]).code).toBe(0);
      writeFileSync(join(dir, 'configured.json'), JSON.stringify({ apiVersion: 'v1', kind: 'List', items: configured }));
      const created = await promisify(execFile)('kubectl', ['--kubeconfig', kubeconfig, 'create', '-f', join(dir, 'configured.json')], {
        maxBuffer: 64 << 20,
      });
      expect(created.stderr).toBe('');
      const kinds = [...new Set([...configured.map((o) => o.kind), 'IPPool'])].map((k) => CRD_PLURALS[k]!);
      const before = stored(kubeconfig, kinds);
      // Everything configured, and the pool the manifest's calico-node made.
      expect(before.size).toBe(configured.length + 1);

      const dist = synth(config);
      const result = await apply(kubeconfig, dist, ['--to', '100']);
      expect(result.stderr).toEqual([]);
      expect(result.code).toBe(0);
      const lines = await jobLogs(kubeconfig, 'cilium-cutover', 'calico-delete-');
      const kept = lines.find((l) => l.startsWith('KEPT Calico inventory '))!;
      expect(kept).toMatch(
        /^KEPT Calico inventory [0-9a-f]{8}: 3018 custom resource\(s\) \(Tier 1, FelixConfiguration 2, .*GlobalNetworkPolicy 1500, NetworkPolicy 1500, .*\) in [2-9] ConfigMap\(s\) in namespace cilium-cutover-inventory: /,
      );
      expect(lines.indexOf(kept)).toBeLessThan(lines.findIndex((l) => l.startsWith('DELETED ')));
      expect(kubectl(kubeconfig, ['get', 'crd', 'globalnetworkpolicies.crd.projectcalico.org']).code).not.toBe(0);

      // Every part under the API server's 1 MiB (it refuses more), together every object in full.
      const parts = JSON.parse(
        kubectl(kubeconfig, ['get', 'configmaps', '-n', 'cilium-cutover-inventory', '-l', 'cilium-cutover.io/inventory', '-o', 'json']).out,
      ).items;
      expect(parts.length).toBeGreaterThan(1);
      for (const part of parts) {
        expect(Buffer.byteLength(part.data['objects.json']), part.metadata.name).toBeLessThan(1024 * 1024);
      }
      const id = kept.split(' ')[3]!.replace(/:$/, '');
      const inventory = readInventory(id, parts);
      expect(inventory.objects).toHaveLength(before.size);
      for (const o of inventory.objects) {
        const original = before.get(`${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`);
        expect(restorable(o), `${o.kind} ${o.metadata.name}`).toBe(restorable(original));
      }

      // On a fresh API server: the CRDs from Calico's manifest, one part created with kubectl as
      // docs/steps.md shows, then restore from the file `inventory --out` saved.
      const saved = join(dir, 'calico-inventory.yaml');
      expect((await cli(['inventory', '--kubeconfig', kubeconfig, '--out', saved])).code).toBe(0);
      const crds = calicoObjects(config, {}).filter((o) => o.kind === 'CustomResourceDefinition');
      const crdFile = join(dir, 'crds.yaml');
      writeFileSync(crdFile, crds.map((o) => stringify(o)).join('---\n'));
      await onFreshApiServer(async (fresh) => {
        expect(kubectl(fresh, ['apply', '-f', crdFile]).code).toBe(0);
        expect(kubectl(fresh, ['wait', '--for', 'condition=established', '--timeout=60s', '-f', crdFile]).code).toBe(0);
        expect(kubectl(fresh, ['apply', '-f', namespaceFile]).code).toBe(0);
        const first = join(dir, 'part-1.json');
        writeFileSync(first, parts.find((p: any) => p.metadata.name.endsWith(`-1-of-${parts.length}`)).data['objects.json']);
        expect(kubectl(fresh, ['create', '-f', first]).code).toBe(0);
        const restored = await cli(['restore', '--kubeconfig', fresh, '--file', saved]);
        expect(restored.err).toEqual([]);
        expect(restored.code).toBe(0);
        expect(restored.out.filter((l) => !l.startsWith('RESTORED '))).toEqual([]);
        expect(restored.out.some((l) => / already as kept\)$/.test(l) && !/, 0 already as kept\)$/.test(l))).toBe(true);
        const after = stored(fresh, kinds);
        expect([...after.keys()].sort()).toEqual([...before.keys()].sort());
        for (const [key, original] of before) {
          expect(restorable(after.get(key)), key).toBe(restorable(original));
        }
      });

      // The back-out on this cluster: Calico's CRDs again (calico-node would make its default
      // pool with another spec: the restore replaces it), then restore from the cluster's inventory.
      expect(kubectl(kubeconfig, ['apply', '-f', crdFile]).code).toBe(0);
      expect(kubectl(kubeconfig, ['wait', '--for', 'condition=established', '--timeout=60s', '-f', crdFile]).code).toBe(0);
      const started = join(dir, 'calico-node-pool.yaml');
      writeFileSync(
        started,
        stringify({
          apiVersion: 'crd.projectcalico.org/v1',
          kind: 'IPPool',
          metadata: { name: 'default-ipv4-ippool' },
          spec: { cidr: '192.168.0.0/16', ipipMode: 'Always', natOutgoing: true, blockSize: 26, nodeSelector: 'all()' },
        }),
      );
      expect(kubectl(kubeconfig, ['create', '-f', started]).code).toBe(0);
      const restored = await cli(['restore', '--kubeconfig', kubeconfig]);
      expect(restored.err).toEqual([]);
      expect(restored.code).toBe(0);
      expect(restored.out[0]).toBe(`restoring Calico inventory ${id}, taken ${inventory.takenAt} from Calico ${config.calico.version}`);
      expect(restored.out).toContain('RESTORED IPPool: 2 of 2 (1 created, 1 replaced, 0 already as kept)');
      const back = stored(kubeconfig, kinds);
      for (const [key, original] of before) {
        expect(restorable(back.get(key)), key).toBe(restorable(original));
      }
      // A second run changes nothing.
      const again = await cli(['restore', '--kubeconfig', kubeconfig, '--id', id]);
      expect(
        again.out.filter((l) => l.startsWith('RESTORED ')).every((l) => / \(0 created, 0 replaced, \d+ already as kept\)$/.test(l)),
      ).toBe(true);
    });
  }, 600_000);
});

describe.skipIf(why !== undefined)('the maintenance window on a simulated cluster', () => {
  it('pauses the listed workload (its account may patch only it), and resume restores the remembered replicas', async () => {
    const config = example((d) => {
      d.maintenance = { workloads: [{ kind: 'Deployment', namespace: 'shop', name: 'web' }] };
    });
    const scenario: Scenario = {
      deployments: [
        // Its pods take 10 seconds to stop once deleted.
        { namespace: 'shop', name: 'web', replicas: 3, stopSeconds: 10 },
        { namespace: 'shop', name: 'api', replicas: 2 },
      ],
    };
    await onSimulatedCluster(config, scenario, async (_sim, kubeconfig) => {
      const dir = synth(config);
      const replicas = (name: string) =>
        Number(kubectl(kubeconfig, ['-n', 'shop', 'get', 'deployment', name, '-o', 'jsonpath={.spec.replicas}']).out);
      const paused = await apply(kubeconfig, dir, ['--to', '050']);
      expect(paused.stderr).toEqual([]);
      expect(paused.code).toBe(0);
      // The step ends once the pods are gone, not when the replicas are set.
      expect(kubectl(kubeconfig, ['-n', 'shop', 'get', 'pods', '-l', 'app=web', '-o', 'name']).out).toBe('');
      const pauseLines = await jobLogs(kubeconfig, 'cilium-cutover', 'pause-');
      expect(pauseLines).toContainEqual(expect.stringMatching(/^WAITING Deployment shop\/web: [1-3] pod\(s\) still stopping: web-/));
      expect(pauseLines).toContain('STOPPED Deployment shop/web: no pod left');
      expect(pauseLines).toContain('HELD every object still paused after 30s');
      expect(pauseLines.at(-1)).toBe('pause: done');
      expect(replicas('web')).toBe(0);
      // Pausing again (a re-run of the step) keeps what the first pause remembered.
      const again = await apply(kubeconfig, dir, ['--from', '050', '--to', '050', '--rerun']);
      expect(again.code).toBe(0);
      expect(await jobLogs(kubeconfig, 'cilium-cutover', 'pause-')).toContain('ALREADY-PAUSED Deployment shop/web (remembered: 3)');
      expect(
        kubectl(kubeconfig, [
          '-n',
          'shop',
          'get',
          'deployment',
          'web',
          '-o',
          "jsonpath={.metadata.annotations['cilium-cutover\\.io/paused-replicas']}",
        ]).out,
      ).toBe('3');
      // Not listed, not touched, and the program's account could not have.
      expect(replicas('api')).toBe(2);
      const canI = (name: string) =>
        kubectl(kubeconfig, [
          'auth',
          'can-i',
          'patch',
          `deployment/${name}`,
          '-n',
          'shop',
          '--as',
          'system:serviceaccount:cilium-cutover:cilium-cutover-pause',
        ]).out.trim();
      expect(canI('web')).toBe('yes');
      expect(canI('api')).toBe('no');
      const resumed = await apply(kubeconfig, dir, ['--from', '800', '--to', '800']);
      expect(resumed.stderr).toEqual([]);
      expect(resumed.code).toBe(0);
      expect((await jobLogs(kubeconfig, 'cilium-cutover', 'resume-')).at(-1)).toBe('resume: done');
      expect(replicas('web')).toBe(3);
    });
  }, 300_000);

  it('changes nothing when a listed workload is missing, naming it and the fix', async () => {
    const config = example((d) => {
      d.maintenance = {
        workloads: [
          { kind: 'Deployment', namespace: 'shop', name: 'web' },
          { kind: 'Deployment', namespace: 'shop', name: 'checkout' },
        ],
      };
    });
    await onSimulatedCluster(config, { deployments: [{ namespace: 'shop', name: 'web', replicas: 3 }] }, async (_sim, kubeconfig) => {
      const result = await apply(kubeconfig, synth(config), ['--to', '050']);
      expect(result.code).toBe(1);
      expect(result.stderr.join('\n')).toMatch(/step 050-pause failed: job\/cilium-cutover\/pause-\w+ BackoffLimitExceeded/);
      const lines = await jobLogs(kubeconfig, 'cilium-cutover', 'pause-');
      expect(lines).toContain('FAILED Deployment shop/checkout: not found; correct the maintenance list in the config');
      expect(lines.at(-1)).toBe('pause: nothing changed');
      expect(lines.some((l) => l.startsWith('PAUSED'))).toBe(false);
      const web = parse(kubectl(kubeconfig, ['-n', 'shop', 'get', 'deployment', 'web', '-o', 'yaml']).out);
      expect(web.spec.replicas).toBe(3);
      expect(web.metadata.annotations?.['cilium-cutover.io/paused-replicas']).toBeUndefined();
    });
  }, 180_000);
});

describe.skipIf(why !== undefined)('a maintenance window that cannot strand applications, on a simulated cluster', () => {
  const fluxCrd = () =>
    stringify(permissiveCrd('kustomize.toolkit.fluxcd.io', 'Kustomization', 'kustomizations', 'v1')) +
    '---\n' +
    stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'flux-system' } });

  it("after a failed 310, PLAN.md's command for ending the window early restores every application and engine", async () => {
    const config = example((d) => {
      d.maintenance = {
        workloads: [{ kind: 'Deployment', namespace: 'shop', name: 'web' }],
        flux: [{ kind: 'Kustomization', name: 'apps' }],
      };
    });
    await onSimulatedCluster(
      config,
      { deployments: [{ namespace: 'shop', name: 'web', replicas: 3 }], egressBlocked: true },
      async (_sim, kubeconfig) => {
        expect(kubectl(kubeconfig, ['apply', '-f', '-'], fluxCrd()).code).toBe(0);
        kubectl(kubeconfig, ['wait', '--for=condition=Established', 'crd/kustomizations.kustomize.toolkit.fluxcd.io']);
        const ks = {
          apiVersion: 'kustomize.toolkit.fluxcd.io/v1',
          kind: 'Kustomization',
          metadata: { name: 'apps', namespace: 'flux-system' },
          spec: { interval: '10m', suspend: false },
        };
        expect(kubectl(kubeconfig, ['apply', '-f', '-'], stringify(ks)).code).toBe(0);
        const dir = synth(config);
        const result = await apply(kubeconfig, dir, []);
        expect(result.code).toBe(1);
        expect(result.stderr.join('\n')).toMatch(/step 310-verify-checks failed/);
        const state = () => [
          kubectl(kubeconfig, ['-n', 'shop', 'get', 'deployment', 'web', '-o', 'jsonpath={.spec.replicas}']).out,
          kubectl(kubeconfig, ['-n', 'flux-system', 'get', 'kustomization', 'apps', '-o', 'jsonpath={.spec.suspend}']).out,
        ];
        // Stranded: paused, and the failed step between them and step 800.
        expect(state()).toEqual(['0', 'true']);
        const plan = readFileSync(join(dir, 'PLAN.md'), 'utf8');
        expect(plan).toMatch(
          /### `310-verify-checks` failed[\s\S]*?The listed applications stay paused meanwhile: "Ending the window early"/,
        );
        // The command as PLAN.md gives it, run as written (with this cluster's kubeconfig).
        const command = plan.split('\n').find((l) => l.includes(' --from 800-resume --to 800-resume'))!;
        const args = command.split(' ').slice(command.split(' ').indexOf('apply') + 1);
        expect(args.slice(0, 2)).toEqual(['--dir', 'dist']);
        const resumedErr: string[] = [];
        const resumed = await runCli(['apply', ...args.slice(2).map((a) => (a === '<kubeconfig>' ? kubeconfig : a)), '--dir', dir], {
          stdout: () => undefined,
          stderr: (l) => resumedErr.push(l),
          cwd: ROOT,
          pollMs: 300,
        });
        expect(resumedErr).toEqual([]);
        expect(resumed).toBe(0);
        expect(state()).toEqual(['3', 'false']);
      },
    );
  }, 900_000);

  it('refuses to pause a workload an engine the config does not list applies, before anything of the network changes', async () => {
    const config = example((d) => {
      d.maintenance = { workloads: [{ kind: 'Deployment', namespace: 'shop', name: 'web' }] };
    });
    const labels = { 'kustomize.toolkit.fluxcd.io/name': 'apps', 'kustomize.toolkit.fluxcd.io/namespace': 'flux-system' };
    await onSimulatedCluster(
      config,
      { deployments: [{ namespace: 'shop', name: 'web', replicas: 3, labels }] },
      async (_sim, kubeconfig) => {
        const result = await apply(kubeconfig, synth(config), []);
        expect(result.code).toBe(1);
        expect(result.stderr.join('\n')).toMatch(/step 050-pause failed/);
        const lines = await jobLogs(kubeconfig, 'cilium-cutover', 'pause-');
        expect(lines).toContain(
          'FAILED Deployment shop/web: applied by Flux Kustomization flux-system/apps, which maintenance.flux does not list; list it there too, or it undoes the pause',
        );
        expect(lines.at(-1)).toBe('pause: nothing changed');
        expect(kubectl(kubeconfig, ['-n', 'shop', 'get', 'deployment', 'web', '-o', 'jsonpath={.spec.replicas}']).out).toBe('3');
        expect(kubectl(kubeconfig, ['-n', 'kube-system', 'get', 'daemonset', 'calico-node', '-o', 'name']).code).toBe(0);
      },
    );
  }, 300_000);

  it('fails the pause that something scales back up, before step 100', async () => {
    const config = example((d) => {
      d.maintenance = { workloads: [{ kind: 'Deployment', namespace: 'shop', name: 'web' }] };
    });
    await onSimulatedCluster(config, { deployments: [{ namespace: 'shop', name: 'web', replicas: 3 }] }, async (_sim, kubeconfig) => {
      // A parent the config does not know: it scales web back to 3 whenever it finds it at 0
      // (asynchronously: the simulated kubelet runs in this process).
      const run = promisify(execFile);
      let parent = true;
      const reconcile = (async () => {
        while (parent) {
          const replicas = await run('kubectl', [
            '--kubeconfig',
            kubeconfig,
            '-n',
            'shop',
            'get',
            'deployment',
            'web',
            '-o',
            'jsonpath={.spec.replicas}',
          ])
            .then((r) => r.stdout)
            .catch(() => '');
          if (replicas === '0') {
            await run('kubectl', ['--kubeconfig', kubeconfig, '-n', 'shop', 'scale', 'deployment', 'web', '--replicas=3']).catch(
              () => undefined,
            );
          }
          await new Promise((r) => setTimeout(r, 2000));
        }
      })();
      try {
        const result = await apply(kubeconfig, synth(config), []);
        expect(result.code).toBe(1);
        expect(result.stderr.join('\n')).toMatch(/step 050-pause failed/);
        const lines = await jobLogs(kubeconfig, 'cilium-cutover', 'pause-');
        expect(lines).toContainEqual(
          expect.stringMatching(/^FAILED Deployment shop\/web: scaled back to 3 after the pause: something else manages it/),
        );
        expect(kubectl(kubeconfig, ['-n', 'kube-system', 'get', 'daemonset', 'calico-node', '-o', 'name']).code).toBe(0);
      } finally {
        parent = false;
        await reconcile;
      }
    });
  }, 300_000);
});

describe.skipIf(why !== undefined)('strategy per-node on a simulated cluster', () => {
  /** The per-node example as written. */
  const perNodeExample = (): Record<string, any> => parse(readFileSync(join(ROOT, 'examples/hetzner-3-servers-per-node.yaml'), 'utf8'));
  const perNode = (): ResolvedConfig => {
    const data = perNodeExample();
    verifyForSimulation(data);
    return load(data).config;
  };
  /** The example in phase switch, its outage acknowledged. */
  const switchPhase = (): Record<string, any> => {
    const data: Record<string, any> = { ...perNodeExample(), phase: 'switch' };
    data.perNode = { ...data.perNode, acknowledgeSwitchOutage: true };
    verifyForSimulation(data);
    return data;
  };
  /** k3s restarted without its kube-proxy on every node (what host/k3s-rollout.sh does): the node-args it then writes. */
  const withoutKubeProxy = (kubeconfig: string, config: ResolvedConfig): void => {
    for (const node of config.cluster.nodes) {
      const args = JSON.parse(
        kubectl(kubeconfig, ['get', 'node', node.name, '-o', "jsonpath={.metadata.annotations['k3s\\.io/node-args']}"]).out,
      );
      kubectl(kubeconfig, [
        'annotate',
        'node',
        node.name,
        '--overwrite',
        `k3s.io/node-args=${JSON.stringify([...args, '--disable-kube-proxy', 'true'])}`,
      ]);
    }
  };

  it('runs the migrate phase node by node, then the switch: every move, network-condition, re-addressing and check Job its real program', async () => {
    const migrate = perNode();
    await onSimulatedCluster(migrate, { calicoAutodetection: 'interface=eth1', serviceLB: true }, async (sim, kubeconfig) => {
      const first = await apply(kubeconfig, synth(migrate), []);
      expect(first.stderr).toEqual([]);
      expect(first.code).toBe(0);
      expect(first.stdout.at(-1)).toBe(
        'done: 000-preflight, 200-cilium, 400-node-k3s-server-1, 401-node-k3s-server-2, 402-node-k3s-server-3, 500-verify-workloads, 510-verify-checks, 600-calico-delete, 610-node-cleanup, 900-complete',
      );
      for (const node of migrate.cluster.nodes) {
        const moved = await jobLogs(kubeconfig, 'cilium-cutover', `move-node-${node.name}-`);
        expect(moved).toContain(`SWITCHED ${node.name}: label cilium-cutover.io/cni=cilium`);
        expect(moved).toContain(`ON-CILIUM every pod-network pod on ${node.name} has an address from ${migrate.perNode.podCIDR}`);
        expect(moved.at(-1)).toBe('move-node: done');
        // The node's check ran on it, on Cilium, and reached every other node over the overlay.
        const checked = await jobLogs(kubeconfig, 'cilium-cutover', `check-node-${node.name}-`);
        expect(checked.filter((l) => /^(PASS|FAIL) /.test(l)).map((l) => l.replace(/: .*/, ''))).toEqual([
          `PASS pod-address ${node.name}`,
          expect.stringMatching(new RegExp(`^PASS pod-api ${node.name} -> 10\\.43\\.0\\.1:443$`)),
          ...migrate.cluster.nodes
            .filter((n) => n.name !== node.name)
            .map((n) => expect.stringMatching(new RegExp(`^PASS pod-overlay ${node.name} -> ${n.name} 10\\.245\\.`))),
        ]);
        expect(await jobLogs(kubeconfig, 'cilium-cutover', 'network-condition-')).toContain(
          `OK ${node.name}: NetworkUnavailable=False (CiliumIsUp)`,
        );
      }
      const verify = await jobLogs(kubeconfig, 'cilium-cutover-verify', 'verify-');
      expect(verify.filter((l) => l.startsWith('FAIL'))).toEqual([]);
      expect(verify.some((l) => l.startsWith('PASS pod-to-pod '))).toBe(true);
      // k3s ServiceLB's hostPort 80 answers on every moved node, from another node (kube-proxy
      // replacement is off in this phase: only the chained portmap plugin publishes it).
      for (const [i, node] of migrate.cluster.nodes.entries()) {
        const from = sim.nodes[(i + 1) % sim.nodes.length]!;
        expect(`${node.name} ${hostPortAnswer(from.netns, node.internalIP)}`).toBe(`${node.name} 200`);
      }

      // Phase switch, after k3s runs without its kube-proxy on every node.
      withoutKubeProxy(kubeconfig, migrate);
      const switchData = switchPhase();
      const switchConfig = load(switchData).config;
      const second = await apply(kubeconfig, synth(switchConfig), []);
      expect(second.stderr).toEqual([]);
      expect(second.code).toBe(0);
      expect((await jobLogs(kubeconfig, 'cilium-cutover', 'readdress-')).at(-1)).toBe(
        `readdress: no pods on ${migrate.perNode.podCIDR} any more`,
      );
      const ips = kubectl(kubeconfig, [
        'get',
        'pods',
        '-A',
        '-o',
        'jsonpath={range .items[?(@.status.phase=="Running")]}{.spec.hostNetwork}{" "}{.status.podIP}{"\\n"}{end}',
      ]).out;
      const podNetwork = ips
        .split('\n')
        .filter((l) => l.startsWith(' '))
        .map((l) => l.trim());
      expect(podNetwork.length).toBeGreaterThan(0);
      expect(podNetwork.filter((ip) => !ip.startsWith('10.42.'))).toEqual([]);
      expect(sim.nodes).toHaveLength(3);

      // A retry of the phase after step 250 re-addressed pods (run.retries renames its Jobs): the
      // preflight finds them on their own node's podCIDR, reads each node by name, and passes.
      const retry = load({ ...switchData, run: { retries: ['000-preflight'] } }).config;
      const again = await apply(kubeconfig, synth(retry), ['--from', '000', '--to', '000']);
      expect(again.stderr).toEqual([]);
      expect(again.code).toBe(0);
      const preflight = await jobLogs(kubeconfig, 'cilium-cutover', 'per-node-preflight-');
      expect(preflight.some((l) => /^PASS all-moved pods: every pod-network pod .* \(\d+ already on its node's podCIDR\)$/.test(l))).toBe(
        true,
      );
    });
  }, 600_000);

  it("puts one moved node back on Calico with PLAN.md's rollback: Calico's CNI config stays in force and its pods get Calico addresses", async () => {
    const migrate = perNode();
    await onSimulatedCluster(migrate, { calicoAutodetection: 'interface=eth1', serviceLB: true }, async (sim, kubeconfig) => {
      const node = sim.nodes[0]!;
      const dir = synth(migrate);
      expect((await apply(kubeconfig, dir, ['--to', `400-node-${node.name}`])).code).toBe(0);
      expect(firstCniConfig(node)).toBe('05-cilium.conflist');
      // `namespace/name address` of each running pod on the pod network there.
      const onNode = (): string[] =>
        parse(
          kubectl(kubeconfig, ['get', 'pods', '-A', '--field-selector', `spec.nodeName=${node.name},status.phase=Running`, '-o', 'json'])
            .out,
        )
          .items.filter((p: any) => !p.spec.hostNetwork && p.status.podIP)
          .map((p: any) => `${p.metadata.namespace}/${p.metadata.name} ${p.status.podIP}`);
      expect(onNode().some((l) => inCidr(l.split(' ')[1]!, migrate.perNode.podCIDR))).toBe(true);

      // The rollback, step by step as the node step's abort guide in PLAN.md says it. Each kubectl
      // runs asynchronously: the simulated kubelet, in this process, confirms what it waits for.
      const ok = async (args: string[]) => {
        await promisify(execFile)('kubectl', ['--kubeconfig', kubeconfig, ...args]);
      };
      await ok(['-n', 'kube-system', 'delete', 'ciliumnodeconfig', `cilium-cutover-${node.name}`]);
      await ok(['label', 'node', node.name, 'cilium-cutover.io/cni-']);
      await ok(['-n', 'kube-system', 'delete', 'pod', '-l', 'k8s-app=cilium', '--field-selector', `spec.nodeName=${node.name}`]);
      const agentReady = () =>
        kubectl(kubeconfig, [
          ...`-n kube-system get pods -l k8s-app=cilium --field-selector spec.nodeName=${node.name}`.split(' '),
          '-o',
          'jsonpath={.items[*].status.conditions[?(@.type=="Ready")].status}',
        ]).out;
      await expect.poll(agentReady, { timeout: 120_000, interval: 1000 }).toBe('True');
      rmSync(join(node.root, 'etc/cni/net.d/05-cilium.conflist'));
      await ok(['drain', node.name, '--ignore-daemonsets', '--delete-emptydir-data', '--timeout=180s']);
      for (const line of onNode().filter((l) => inCidr(l.split(' ')[1]!, migrate.perNode.podCIDR))) {
        const [ns, name] = line.split(' ')[0]!.split('/');
        await ok(['-n', ns!, 'delete', 'pod', name!, '--wait=false']);
      }
      await ok(['uncordon', node.name]);

      // A few passes of the agent later, Calico's config is still the one the runtime loads.
      await new Promise((r) => setTimeout(r, 5000));
      expect(firstCniConfig(node)).toBe('10-calico.conflist');
      const pool = migrate.calico.ipPools![0]!;
      await expect.poll(() => onNode().filter((l) => !inCidr(l.split(' ')[1]!, pool)), { timeout: 120_000, interval: 2000 }).toEqual([]);
      expect(onNode().some((l) => l.startsWith('kube-system/svclb-'))).toBe(true);
    });
  }, 600_000);

  it('the switch re-creates the pods its agents left without a network, those a PodDisruptionBudget holds under run.deleteBrokenPods', async () => {
    const migrate = perNode();
    const scenario: Scenario = {
      calicoAutodetection: 'interface=eth1',
      // Two replicas, one may go: the drain moves them one by one; after the switch both are NotReady.
      deployments: [{ namespace: 'shop', name: 'web', replicas: 2, maxUnavailable: 1 }],
    };
    await onSimulatedCluster(migrate, scenario, async (_sim, kubeconfig) => {
      expect((await apply(kubeconfig, synth(migrate), [])).code).toBe(0);
      withoutKubeProxy(kubeconfig, migrate);
      const switchConfig = load({ ...switchPhase(), run: { deleteBrokenPods: true } }).config;
      const result = await apply(kubeconfig, synth(switchConfig), []);
      expect(result.stderr).toEqual([]);
      expect(result.code).toBe(0);
      const lines = await jobLogs(kubeconfig, 'cilium-cutover', 'readdress-');
      expect(
        lines.filter((l) =>
          /^DELETED shop\/web-\S+: not Ready, and a PodDisruptionBudget refuses its eviction \(run\.deleteBrokenPods\)$/.test(l),
        ),
      ).toHaveLength(2);
      expect(lines.at(-1)).toBe(`readdress: no pods on ${migrate.perNode.podCIDR} any more`);
      // Both back, Ready, on their nodes' podCIDRs.
      const web = () =>
        parse(kubectl(kubeconfig, ['-n', 'shop', 'get', 'pods', '-l', 'app=web', '-o', 'json']).out).items.map(
          (p: any) =>
            `${inCidr(p.status.podIP ?? '', migrate.cluster.podCIDR)} ${p.status.conditions?.find((c: any) => c.type === 'Ready')?.status}`,
        );
      await expect.poll(web, { timeout: 60_000, interval: 1000 }).toEqual(['true True', 'true True']);
    });
  }, 900_000);

  it("stops at the first node's check when the network drops Cilium's overlay between the nodes: the others stay on Calico", async () => {
    const migrate = perNode();
    await onSimulatedCluster(migrate, { calicoAutodetection: 'interface=eth1', overlayBlocked: true }, async (_sim, kubeconfig) => {
      const result = await apply(kubeconfig, synth(migrate), []);
      expect(result.code).toBe(1);
      expect(result.stderr.join('\n')).toMatch(/step 400-node-k3s-server-1 failed: job\/cilium-cutover\/check-node-k3s-server-1-/);
      const checked = await jobLogs(kubeconfig, 'cilium-cutover', 'check-node-k3s-server-1-');
      // On Cilium, reaching the API; not one other node over the overlay.
      expect(checked).toContainEqual(expect.stringMatching(/^PASS pod-address k3s-server-1: 10\.245\.0\.\d+, from 10\.245\.0\.0\/16$/));
      expect(checked).toContainEqual(expect.stringMatching(/^PASS pod-api k3s-server-1 -> /));
      for (const peer of ['k3s-server-2', 'k3s-server-3']) {
        expect(checked).toContainEqual(
          expect.stringMatching(new RegExp(`^FAIL pod-overlay k3s-server-1 -> ${peer} 10\\.245\\.\\d+\\.2: no answer .*, 6 tries$`)),
        );
      }
      // The next nodes never moved.
      for (const node of ['k3s-server-2', 'k3s-server-3']) {
        expect(kubectl(kubeconfig, ['get', 'node', node, '-o', "jsonpath={.metadata.labels['cilium-cutover\\.io/cni']}"]).out).toBe('');
      }
      // Nothing irreversible ran: Calico is all there, and no step after the gate applied.
      expect(kubectl(kubeconfig, ['-n', 'kube-system', 'get', 'daemonset', 'calico-node', '-o', 'name']).out.trim()).toBe(
        'daemonset.apps/calico-node',
      );
      expect(kubectl(kubeconfig, ['get', 'crd', 'ippools.crd.projectcalico.org', '-o', 'name']).code).toBe(0);
      expect(kubectl(kubeconfig, ['-n', 'cilium-cutover', 'get', 'jobs', '-o', 'name']).out).not.toMatch(/calico-delete/);
    });
  }, 600_000);

  it('stops the move of a node whose pod a PodDisruptionBudget never lets go: the node stays cordoned, not switched', async () => {
    const data = perNodeExample();
    const config = load({ ...data, perNode: { ...data.perNode, drainTimeout: '20s' } }).config;
    const scenario: Scenario = {
      calicoAutodetection: 'interface=eth1',
      deployments: [{ namespace: 'shop', name: 'web', replicas: 1, node: 'k3s-server-1', maxUnavailable: 0 }],
    };
    await onSimulatedCluster(config, scenario, async (_sim, kubeconfig) => {
      const result = await apply(kubeconfig, synth(config), []);
      expect(result.code).toBe(1);
      expect(result.stderr.join('\n')).toMatch(
        /step 400-node-k3s-server-1 failed: job\/cilium-cutover\/move-node-k3s-server-1-\w+ BackoffLimitExceeded/,
      );
      const pod = kubectl(kubeconfig, ['-n', 'shop', 'get', 'pods', '-l', 'app=web', '-o', 'jsonpath={.items[0].metadata.name}']).out;
      const lines = await jobLogs(kubeconfig, 'cilium-cutover', 'move-node-k3s-server-1-');
      expect(lines).toContain(`WAITING shop/${pod}: a PodDisruptionBudget allows no eviction now; retrying`);
      expect(lines).toContain(`FAILED drain: still waiting for shop/${pod} at the deadline`);
      expect(lines.at(-1)).toBe('move-node: stopped; the node stays cordoned. PLAN.md says how to go back or go on.');
      expect(lines.some((l) => l.startsWith('SWITCHED'))).toBe(false);
      const node = parse(kubectl(kubeconfig, ['get', 'node', 'k3s-server-1', '-o', 'yaml']).out);
      expect(node.spec.unschedulable).toBe(true);
      expect(node.metadata.labels['cilium-cutover.io/cni']).toBeUndefined();
      // The pod still runs there, on its Calico address; the next nodes were not touched.
      expect(kubectl(kubeconfig, ['-n', 'shop', 'get', 'pod', pod, '-o', 'jsonpath={.spec.nodeName} {.status.podIP}']).out).toMatch(
        /^k3s-server-1 192\.168\./,
      );
      expect(kubectl(kubeconfig, ['get', 'node', 'k3s-server-2', '-o', 'jsonpath={.spec.unschedulable}']).out).toBe('');
    });
  }, 300_000);

  it('stops after the Calico removal on a node left NetworkUnavailable (CalicoIsDown) whose Cilium agent is not ready', async () => {
    const config = perNode();
    // calico-node with a grace period, so its preStop hook runs and marks each node as it goes.
    const scenario: Scenario = { calicoAutodetection: 'interface=eth1', calicoNodeGracePeriodSeconds: 5 };
    await onSimulatedCluster(config, scenario, async (sim, kubeconfig) => {
      const dir = synth(config);
      expect((await apply(kubeconfig, dir, ['--to', '402'])).code).toBe(0);
      await sim.setAgentHealthy('k3s-server-2', false);
      const result = await apply(kubeconfig, dir, ['--from', '600']);
      expect(result.code).toBe(1);
      expect(result.stderr.join('\n')).toMatch(
        /step 610-node-cleanup failed: job\/cilium-cutover\/network-condition-\w+ BackoffLimitExceeded/,
      );
      const lines = await jobLogs(kubeconfig, 'cilium-cutover', 'network-condition-');
      expect(lines).toContain('FAILED k3s-server-2: NetworkUnavailable=True (CalicoIsDown) and no ready Cilium agent there');
      expect(lines.at(-1)).toBe('network-condition: 1 node(s) failed');
      for (const name of ['k3s-server-1', 'k3s-server-3']) {
        expect(lines.find((l) => l.includes(` ${name}: `))).toMatch(
          new RegExp(
            `^(OK ${name}: NetworkUnavailable=False \\(CiliumIsUp\\)|CLEARED ${name}: NetworkUnavailable was True \\(CalicoIsDown\\); its Cilium agent is ready)$`,
          ),
        );
      }
      expect(
        kubectl(kubeconfig, ['get', 'node', 'k3s-server-2', '-o', 'jsonpath={.status.conditions[?(@.type=="NetworkUnavailable")].reason}'])
          .out,
      ).toBe('CalicoIsDown');
    });
  }, 600_000);

  it("refuses Calico's default address detection (first-found), naming the fix", async () => {
    const config = perNode();
    await onSimulatedCluster(config, {}, async (_sim, kubeconfig) => {
      const result = await apply(kubeconfig, synth(config), ['--to', '000']);
      expect(result.code).toBe(1);
      const lines = await jobLogs(kubeconfig, 'cilium-cutover', 'per-node-preflight-');
      expect(lines).toContain('PASS calico-ready kube-system/calico-node: 3/3 Ready');
      // Calico runs on each node's InternalIP here: the Kubernetes method keeps every address.
      expect(lines.find((l) => l.startsWith('FAIL calico-autodetect'))).toMatch(
        /IP_AUTODETECTION_METHOD is unset \(first-found\).*`kubectl -n kube-system set env daemonset\/calico-node IP_AUTODETECTION_METHOD=kubernetes-internal-ip`, which keeps each node on the address Calico uses now/,
      );
    });
  }, 180_000);

  it('passes with an interface-based detection, and the common preflight runs beside it', async () => {
    const config = perNode();
    await onSimulatedCluster(config, { calicoAutodetection: 'interface=eth1' }, async (_sim, kubeconfig) => {
      const result = await apply(kubeconfig, synth(config), ['--to', '000']);
      expect(result.stderr).toEqual([]);
      expect(result.code).toBe(0);
      const lines = await jobLogs(kubeconfig, 'cilium-cutover', 'per-node-preflight-');
      expect(lines).toContain('PASS calico-autodetect kube-system/calico-node: IP_AUTODETECTION_METHOD=interface=eth1');
      expect(lines.filter((l) => l.startsWith('FAIL'))).toEqual([]);
      expect((await jobLogs(kubeconfig, 'cilium-cutover', 'preflight-')).at(-1)).toBe('preflight: all checks passed');
    });
  }, 180_000);
});

/** A command in a simulated node's network namespace (its real iptables, ipset, routes). */
function onNode(netns: string, command: string[]): string {
  return spawnSync('ip', ['netns', 'exec', netns, ...command], { encoding: 'utf8' }).stdout;
}

/** The chains of one iptables backend of a node, as `table:chain`. */
function chains(netns: string, save: string): string[] {
  let table = '';
  return onNode(netns, [save])
    .split('\n')
    .flatMap((line) => {
      if (line.startsWith('*')) {
        table = line.slice(1);
      }
      return line.startsWith(':') ? [`${table}:${line.slice(1).split(' ')[0]}`] : [];
    });
}

/** The example with an ingress to check and an external URL: the stand-in site outside the cluster. */
const withIngressAndExternal = (d: Record<string, any>): void => {
  d.verify = {
    ...d.verify,
    skip: [],
    ingress: { host: 'echo.example.com', controller: 'service', port: 80, service: { namespace: 'kube-system', name: 'traefik' } },
  };
};

describe.skipIf(why !== undefined)('the whole cutover on a simulated cluster', () => {
  it('apply runs every step of the example to 900-complete, each Job its real program, and every check passes', async () => {
    const config = example(withIngressAndExternal);
    await onSimulatedCluster(config, { ingress: { controller: 'service' } }, async (sim, kubeconfig) => {
      const result = await apply(kubeconfig, synth(config), []);
      expect(result.stderr).toEqual([]);
      expect(result.code).toBe(0);
      expect(result.stdout.at(-1)).toMatch(/^done: 000-preflight, .*, 900-complete$/);

      // Each node: Calico's and kube-proxy's host state removed with the real tools, what is not
      // theirs kept (node-host.ts lists both).
      const nodeLines = await jobLogs(kubeconfig, 'cilium-cutover', 'cleanup-node-');
      expect(nodeLines.filter((l) => l === 'calico-cleanup: done')).toHaveLength(3);
      expect(nodeLines).toContain('REMOVED iptables-nft: 7 Calico chains and 5 rules in built-in chains');
      expect(nodeLines).toContain('REMOVED iptables-legacy: 7 Calico chains and 5 rules in built-in chains');
      expect(nodeLines).toContain('REMOVED IPv4 routes: 1 with proto bird (BIRD)');
      const proxyLines = await jobLogs(kubeconfig, 'cilium-cutover', 'kube-proxy-cleanup-');
      for (const node of sim.nodes) {
        expect(proxyLines).toContain(`PASS cilium agent on ${node.name}: healthy`);
        for (const save of ['iptables-nft-save', 'iptables-legacy-save']) {
          const left = chains(node.netns, save).filter((c) => !/:(INPUT|OUTPUT|FORWARD|PREROUTING|POSTROUTING)$/.test(c));
          expect(left.sort(), `${node.name} ${save}`).toEqual([...HOST_CHAINS.foreign].sort());
        }
        expect(onNode(node.netns, ['ipset', 'list', '-n']).trim().split('\n')).toEqual(HOST_IPSETS.foreign);
        expect(onNode(node.netns, ['ip', 'route', 'show', 'proto', 'bird'])).toBe('');
        expect(readdirSync(join(node.root, 'etc/cni/net.d'))).toEqual(['05-cilium.conflist']);
        expect(readdirSync(join(node.root, 'opt/cni/bin')).sort()).toEqual([...GENERIC_PLUGINS].sort());
      }

      // The verification, through the simulated data path: every node, every pair.
      const verify = await jobLogs(kubeconfig, 'cilium-cutover-verify', 'verify-');
      expect(verify.filter((l) => l.startsWith('FAIL'))).toEqual([]);
      for (const check of ['coredns', 'cilium-agent', 'cilium-operator', 'pods-managed', 'pods-started']) {
        expect(
          verify.some((l) => l.startsWith(`PASS ${check} `)),
          check,
        ).toBe(true);
      }
      const names = sim.nodes.map((n) => n.name);
      for (const from of names) {
        for (const to of names) {
          for (const check of ['pod-to-pod', 'pod-large-payload', 'host-to-pod', 'host-large-payload']) {
            expect(
              verify.some((l) => l.startsWith(`PASS ${check} ${from} -> ${to} `)),
              `${check} ${from} -> ${to}`,
            ).toBe(true);
          }
          expect(verify.some((l) => l.startsWith(`PASS pod-nodeport ${from} -> ${to} `))).toBe(true);
          expect(verify.some((l) => l.startsWith(`PASS ingress ${from} -> echo.example.com via ${to} NodePort `))).toBe(true);
        }
        expect(verify).toContain(`PASS egress ${from} -> http://${EXTERNAL_NAME}/: HTTP 200`);
        expect(verify).toContain(`PASS dns ${EXTERNAL_NAME}: ${EXTERNAL_IP}`);
        expect(verify.some((l) => l.startsWith(`PASS pod-clusterip-backends ${from} -> `) && l.endsWith('all 3 backend(s) answered'))).toBe(
          true,
        );
        expect(
          verify.some((l) => l.startsWith(`PASS host-clusterip-backends ${from} -> `) && l.endsWith('all 3 backend(s) answered')),
        ).toBe(true);
        for (const what of ['cilium', 'kubernetes', 'controllers', 'kube-proxy-replacement', 'routing']) {
          expect(verify.some((l) => l.startsWith(`PASS agent ${from} ${what}: `))).toBe(true);
        }
        expect(verify).toContain(`PASS agent ${from} routing: inter-host Native (host Legacy), Native configured`);
        expect(verify.filter((l) => l.startsWith(`PASS health ${from} -> `))).toHaveLength(2);
        expect(verify).toContain(`PASS kube-proxy ${from}: nothing answers on 10256`);
        expect(verify).toContain(`verify pods ${from}: all checks passed`);
        expect(verify).toContain(`verify host ${from}: all checks passed`);
      }
      expect(verify.filter((l) => l.startsWith('PASS network-available'))).toHaveLength(3);
      expect(kubectl(kubeconfig, ['get', 'nodes', '-o', 'jsonpath={.items[*].status.conditions[?(@.type=="Ready")].status}']).out).toBe(
        'True True True',
      );
    });
  }, 600_000);

  it('re-addresses the pods started under Calico, and stops at the verification that fails: a site that answers 503', async () => {
    const config = example(withIngressAndExternal);
    const scenario: Scenario = {
      ingress: { controller: 'service' },
      externalStatus: 503,
      deployments: [{ namespace: 'shop', name: 'web', replicas: 2 }],
    };
    await onSimulatedCluster(config, scenario, async (_sim, kubeconfig) => {
      const result = await apply(kubeconfig, synth(config), []);
      expect(result.code).toBe(1);
      expect(result.stderr.join('\n')).toMatch(/step 310-verify-checks failed: job\/cilium-cutover-verify\/verify-pods-k3s-server-\d-/);
      // Cilium's operator restarts only CoreDNS (pod-restart-selector k8s-app=kube-dns); the
      // re-addressing step evicted the application's and Traefik's pods, still on Calico's block.
      const readdress = await jobLogs(kubeconfig, 'cilium-cutover', 'readdress-');
      expect(readdress.at(-1)).toBe('readdress: no pods without a CiliumEndpoint any more');
      const ips = kubectl(kubeconfig, ['-n', 'shop', 'get', 'pods', '-o', 'jsonpath={.items[*].status.podIP}']).out.split(' ');
      expect(ips).toHaveLength(2);
      expect(ips.every((ip) => ip.startsWith('10.42.'))).toBe(true);
      const verify = await jobLogs(kubeconfig, 'cilium-cutover-verify', 'verify-');
      // The first pod-network check to end stops the run, with its egress FAIL.
      expect(verify.some((l) => /^FAIL egress k3s-server-\d -> http:\/\/outside\.example\.net\/: HTTP 503, not 200$/.test(l))).toBe(true);
      for (const check of ['pods-managed', 'ingress', 'dns', 'pod-clusterip', 'pod-to-pod']) {
        expect(
          verify.some((l) => l.startsWith(`PASS ${check} `)),
          check,
        ).toBe(true);
      }
    });
  }, 600_000);
});

/**
 * The verification's lines once every pattern has been printed: a Job prints its verdict when its
 * window ends, and `apply` stops at the first Job that failed, while the others may still judge.
 */
async function verifyLinesOnceSaid(kubeconfig: string, wants: readonly RegExp[]): Promise<string[]> {
  await expect
    .poll(
      async () => {
        const lines = await jobLogs(kubeconfig, 'cilium-cutover-verify', 'verify-');
        return wants.filter((w) => !lines.some((l) => w.test(l))).map(String);
      },
      { timeout: 150_000, interval: 2000 },
    )
    .toEqual([]);
  return jobLogs(kubeconfig, 'cilium-cutover-verify', 'verify-');
}

describe.skipIf(why !== undefined)('verification that cannot pass a broken cluster, on a simulated cluster', () => {
  it('fails every pair with the node whose pod CIDR the network does not route, and egress from every node, naming them', async () => {
    const config = example();
    await onSimulatedCluster(config, { missingNetworkRoutes: ['k3s-server-3'], egressBlocked: true }, async (_sim, kubeconfig) => {
      const result = await apply(kubeconfig, synth(config), []);
      expect(result.code).toBe(1);
      expect(result.stderr.join('\n')).toMatch(/step 310-verify-checks failed: job\/cilium-cutover-verify\/verify-/);
      const verify = await verifyLinesOnceSaid(kubeconfig, [
        /^verify pods k3s-server-1: /,
        /^verify pods k3s-server-2: /,
        /^verify host k3s-server-1: /,
        /^verify host k3s-server-2: /,
      ]);
      for (const from of ['k3s-server-1', 'k3s-server-2']) {
        const other = from === 'k3s-server-1' ? 'k3s-server-2' : 'k3s-server-1';
        // The pair with the unrouted node fails, the pair between routed nodes passes.
        expect(verify.some((l) => l.startsWith(`FAIL pod-to-pod ${from} -> k3s-server-3 10.42.2.`))).toBe(true);
        expect(verify.some((l) => l.startsWith(`PASS pod-to-pod ${from} -> ${other} `))).toBe(true);
        expect(verify.some((l) => l.startsWith(`FAIL host-to-pod ${from} -> k3s-server-3 `))).toBe(true);
        expect(verify.filter((l) => /^(PASS|FAIL) health /.test(l) && l.includes(` ${from} -> `)).sort()).toEqual([
          expect.stringMatching(new RegExp(`^FAIL health ${from} -> k3s-server-3: health endpoint 10\\.42\\.2\\.2: HTTP `)),
          `PASS health ${from} -> ${other}: node and health endpoint answer`,
        ]);
        // Half the ClusterIP's backends unreachable from here: the Service cannot pass by luck.
        expect(verify.some((l) => l.startsWith(`FAIL pod-clusterip ${from} -> cilium-cutover-verify/echo `))).toBe(true);
        expect(verify.some((l) => l.startsWith(`FAIL egress ${from} -> http://${EXTERNAL_NAME}/: no answer`))).toBe(true);
        expect(verify).toContain(`PASS dns ${EXTERNAL_NAME}: ${EXTERNAL_IP}`);
      }
    });
  }, 600_000);

  it('fails the large payloads to and from the node whose link drops full-size packets, while small requests pass', async () => {
    const config = example();
    await onSimulatedCluster(config, { linkMtu: { 'k3s-server-2': 1400 } }, async (_sim, kubeconfig) => {
      const result = await apply(kubeconfig, synth(config), []);
      expect(result.code).toBe(1);
      const verify = await verifyLinesOnceSaid(kubeconfig, [/^verify pods k3s-server-1: /, /^verify host k3s-server-3: /]);
      expect(verify.some((l) => l.startsWith('PASS pod-to-pod k3s-server-1 -> k3s-server-2 '))).toBe(true);
      expect(verify.some((l) => l.startsWith('FAIL pod-large-payload k3s-server-1 -> k3s-server-2 '))).toBe(true);
      expect(verify.some((l) => l.startsWith('PASS pod-large-payload k3s-server-1 -> k3s-server-3 '))).toBe(true);
      expect(verify.some((l) => l.startsWith('PASS host-to-pod k3s-server-3 -> k3s-server-2 '))).toBe(true);
      expect(verify.some((l) => l.startsWith('FAIL host-large-payload k3s-server-3 -> k3s-server-2 '))).toBe(true);
    });
  }, 600_000);

  it('fails an agent with a failing controller, one that restarts between looks, and agents that run another routing mode than configured', async () => {
    const config = example();
    await onSimulatedCluster(config, { agentRestarting: ['k3s-server-2'] }, async (sim, kubeconfig) => {
      const dir = synth(config);
      // A key the release does not read: the agents fall back to their default, tunnel.
      rewrite(dir, '200-cilium/configmap-cilium-config.yaml', (cm) => delete cm.data['routing-mode']);
      expect((await apply(kubeconfig, dir, ['--to', '300'])).code).toBe(0);
      await sim.setAgentStatus('k3s-server-1', {
        failingController: { name: 'sync-to-k8s-ciliumendpoint (1471)', message: 'ciliumendpoints.cilium.io is forbidden' },
      });
      expect((await apply(kubeconfig, dir, ['--from', '310', '--to', '310'])).code).toBe(1);
      const verify = await verifyLinesOnceSaid(kubeconfig, [
        /^verify cluster: /,
        /^verify host k3s-server-1: /,
        /^verify host k3s-server-3: /,
      ]);
      expect(verify).toContain(
        'FAIL agent k3s-server-1 controllers: failing: sync-to-k8s-ciliumendpoint (1471) (6x: ciliumendpoints.cilium.io is forbidden)',
      );
      expect(verify.some((l) => /^FAIL agent-pod k3s-server-2: cilium-\w+ restarted \d+ time\(s\) during the check/.test(l))).toBe(true);
      expect(verify.some((l) => l.startsWith('PASS agent-pod k3s-server-1: '))).toBe(true);
      expect(verify).toContain('FAIL agent k3s-server-3 routing: inter-host Tunnel (host Legacy), Native configured');
      // The data path itself works: the pairs pass.
      expect(verify.some((l) => l.startsWith('PASS host-to-pod k3s-server-3 -> k3s-server-1 '))).toBe(true);
    });
  }, 600_000);

  it('fails a pod that waits for its sandbox because the CNI ADD fails on its node, and a CiliumEndpoint that is not ready', async () => {
    const config = example();
    await onSimulatedCluster(config, {}, async (sim, kubeconfig) => {
      const dir = synth(config);
      expect((await apply(kubeconfig, dir, ['--to', '300'])).code).toBe(0);
      // Node 3's agent stays Ready while its CNI plugin fails (no address left): a new pod there waits.
      sim.setCniFailing('k3s-server-3', true);
      const run = promisify(execFile);
      const kc = ['--kubeconfig', kubeconfig];
      await run('kubectl', [
        ...kc,
        '-n',
        'default',
        'run',
        'stuck',
        '--image=docker.io/library/nginx:1.27',
        '--overrides',
        '{"spec":{"nodeName":"k3s-server-3"}}',
      ]);
      const cep = (await run('kubectl', [...kc, '-n', 'kube-system', 'get', 'ciliumendpoints', '-o', 'name'])).stdout
        .trim()
        .split('\n')[0]!;
      await run('kubectl', [...kc, '-n', 'kube-system', 'patch', cep, '--type', 'merge', '-p', '{"status":{"state":"not-ready"}}']);
      // Past the two minutes a sandbox may take.
      await new Promise((r) => setTimeout(r, 125_000));
      expect((await apply(kubeconfig, dir, ['--from', '310', '--to', '310'])).code).toBe(1);
      const verify = await verifyLinesOnceSaid(kubeconfig, [/^verify cluster: /]);
      expect(
        verify.some((l) =>
          /^FAIL pods-started cluster: no sandbox for over 120s, FailedCreatePodSandBox: default\/stuck on k3s-server-3 \(Failed to create pod sandbox: .*plugin type="cilium-cni" failed \(add\)/.test(
            l,
          ),
        ),
      ).toBe(true);
      expect(
        verify.some(
          (l) =>
            l.startsWith('FAIL pods-managed cluster: ') &&
            l.includes(`kube-system/${cep.split('/')[1]} endpoint state not-ready, not ready`),
        ),
      ).toBe(true);
    });
  }, 600_000);

  it('passes a healthy cluster that is slow to settle, with an evicted CoreDNS pod and a host-network ingress controller on one node that redirects to HTTPS', async () => {
    const config = example((d) => {
      d.verify.skip = [];
      d.verify.ingress = { host: 'echo.example.com', controller: 'hostNetwork', port: 80 };
      // A slow cluster: the replaced echo pod's endpoints and routes settle inside the window.
      d.verify.limits = { ...d.verify.limits, window: '90s' };
    });
    const scenario: Scenario = {
      evictedCoreDns: true,
      // On the node whose agent stalls: the agent that comes back keeps CoreDNS's address, the
      // replaced echo pod gets another.
      coreDnsNode: 'k3s-server-3',
      ingress: { controller: 'hostNetwork', nodes: ['k3s-server-1'], redirectHttps: true },
    };
    await onSimulatedCluster(config, scenario, async (sim, kubeconfig) => {
      const dir = synth(config);
      expect((await apply(kubeconfig, dir, ['--to', '300'])).code).toBe(0);
      // Node 3's agent stalls and its echo pod is replaced: nothing there for longer than a fixed minute.
      await sim.setAgentHealthy('k3s-server-3', false);
      const echo = kubectl(kubeconfig, [
        '-n',
        'cilium-cutover-verify',
        'get',
        'pods',
        '--field-selector',
        'spec.nodeName=k3s-server-3',
        '-o',
        'name',
      ]).out.trim();
      await promisify(execFile)('kubectl', ['--kubeconfig', kubeconfig, '-n', 'cilium-cutover-verify', 'delete', echo, '--wait=false']);
      const checks = apply(kubeconfig, dir, ['--from', '310', '--to', '310']);
      await new Promise((r) => setTimeout(r, 75_000));
      await sim.setAgentHealthy('k3s-server-3', true);
      const result = await checks;
      const verify = await jobLogs(kubeconfig, 'cilium-cutover-verify', 'verify-');
      // The checks' own lines say why, should the step fail.
      expect(verify.filter((l) => l.startsWith('FAIL'))).toEqual([]);
      expect(result.stderr).toEqual([]);
      expect(result.code).toBe(0);
      expect(verify.some((l) => l.startsWith('WAIT echo k3s-server-3: no Ready echo pod on this node'))).toBe(true);
      expect(verify).toContain(
        'PASS coredns kube-system/coredns: 1 pod(s) Running and Ready; 1 finished or terminating pod(s) not counted',
      );
      for (const from of ['k3s-server-1', 'k3s-server-2', 'k3s-server-3']) {
        expect(
          verify.some((l) => l.startsWith(`PASS ingress ${from} -> echo.example.com via k3s-server-1 10.0.0.2:80: echo answered`)),
        ).toBe(true);
        expect(verify.some((l) => l.startsWith(`PASS ingress ${from} -> echo.example.com via k3s-server-2 `))).toBe(false);
      }
    });
  }, 600_000);
});

describe.skipIf(why !== undefined)('node readiness on a simulated cluster', () => {
  const readyOf = (kubeconfig: string): string[] =>
    parse(kubectl(kubeconfig, ['get', 'nodes', '-o', 'json']).out).items.map((n: any) => {
      const c = n.status.conditions.find((x: any) => x.type === 'Ready');
      return `${n.metadata.name} ${c.status} ${c.reason}: ${c.message}`;
    });

  it("goes NotReady (NetworkPluginNotReady) once the node cleanup removed Calico's CNI config, and Ready once Cilium wrote its own", async () => {
    const config = example();
    await onSimulatedCluster(config, {}, async (_sim, kubeconfig) => {
      const dir = synth(config);
      expect((await apply(kubeconfig, dir, ['--to', '110'])).code).toBe(0);
      // containerd's CRI status as the kubelet reports it (scripts/sim-cluster/kubelet.ts cites both).
      expect(readyOf(kubeconfig)).toEqual(
        config.cluster.nodes.map(
          (n) =>
            `${n.name} False KubeletNotReady: container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady message:Network plugin returns error: cni plugin not initialized`,
        ),
      );
      expect((await apply(kubeconfig, dir, ['--from', '200', '--to', '200'])).code).toBe(0);
      await expect
        .poll(() => readyOf(kubeconfig).map((l) => l.split(':')[0]), { timeout: 20_000 })
        .toEqual(config.cluster.nodes.map((n) => `${n.name} True KubeletReady`));
    });
  }, 240_000);

  it('refuses to start with a node whose kubelet is down: the preflight names it, nothing is deleted', async () => {
    const config = example();
    await onSimulatedCluster(config, { nodesDown: ['k3s-server-3'] }, async (_sim, kubeconfig) => {
      const result = await apply(kubeconfig, synth(config), ['--to', '100']);
      expect(result.code).toBe(1);
      expect(result.stderr.join('\n')).toMatch(/step 000-preflight failed: job\/cilium-cutover\/preflight-/);
      const lines = await jobLogs(kubeconfig, 'cilium-cutover', 'preflight-');
      expect(lines).toContain(
        'FAIL node-ready k3s-server-3: not Ready (Unknown, NodeStatusUnknown); a Job pinned to it would never finish: bring it back first',
      );
      expect(lines).toContain('PASS node-ready k3s-server-1: Ready');
      expect(kubectl(kubeconfig, ['-n', 'kube-system', 'get', 'daemonset', 'calico-node']).code).toBe(0);
    });
  }, 240_000);
});

describe.skipIf(why !== undefined)('stopping and resuming on a simulated cluster', () => {
  const stepLines = (lines: string[]) => lines.filter((l) => /^step \d+\/\d+: /.test(l)).map((l) => l.split(' ')[2]);

  it('stops at a failed preflight; fixed, a second run keeps what completed, runs the failed Job again and every later step in order', async () => {
    const config = example();
    await onSimulatedCluster(config, { calicoImageTag: 'v3.26.1' }, async (_sim, kubeconfig) => {
      const dir = synth(config);
      const failed = await apply(kubeconfig, dir, []);
      expect(failed.code).toBe(1);
      expect(stepLines(failed.stdout)).toEqual(['000-preflight']);
      expect(failed.stderr.join('\n')).toMatch(/step 000-preflight failed: job\/cilium-cutover\/preflight-\w+ BackoffLimitExceeded/);
      expect(failed.stdout).toContain('--- last lines of job/cilium-cutover/' + failed.stderr.join('').match(/preflight-\w+/)![0] + ' ---');
      expect(kubectl(kubeconfig, ['get', 'job', '-n', 'cilium-cutover', '-o', 'name']).out).not.toMatch(/calico-delete/);

      // The operator fixes the cluster: calico-node on the configured version.
      kubectl(kubeconfig, [
        '-n',
        'kube-system',
        'set',
        'image',
        'daemonset/calico-node',
        `calico-node=docker.io/calico/node:${config.calico.version}`,
      ]);
      // Polled with short calls: the simulated kubelet runs in this process and must not be blocked.
      await expect
        .poll(
          () =>
            kubectl(kubeconfig, [
              '-n',
              'kube-system',
              'get',
              'daemonset',
              'calico-node',
              '-o',
              'jsonpath={.status.updatedNumberScheduled}/{.status.numberAvailable}',
            ]).out,
          { timeout: 60_000, interval: 500 },
        )
        .toBe('3/3');

      const resumed = await apply(kubeconfig, dir, []);
      expect(resumed.stderr).toEqual([]);
      expect(resumed.code).toBe(0);
      expect(stepLines(resumed.stdout)).toEqual(render(config).steps.map((s) => s.step.dir));
      expect(
        resumed.stdout.filter((l) =>
          /^\[000-preflight\] job\/cilium-cutover\/node-preflight-.* completed in an earlier run; not run again/.test(l),
        ),
      ).toHaveLength(3);
      expect(resumed.stdout.join('\n')).toMatch(
        /\[000-preflight\] job\/cilium-cutover\/preflight-\w+ failed in an earlier run; deleting it to run it again/,
      );
      expect((await jobLogs(kubeconfig, 'cilium-cutover', 'preflight-')).at(-1)).toBe('preflight: all checks passed');
      // Each step is done before the next one starts.
      const starts = resumed.stdout.flatMap((l, i) => (/^step \d+\/\d+: /.test(l) ? [i] : []));
      const dones = resumed.stdout.flatMap((l, i) => (/^\[[\w-]+\] done in /.test(l) ? [i] : []));
      for (let i = 1; i < starts.length; i++) {
        expect(dones.some((d) => d > starts[i - 1]! && d < starts[i]!)).toBe(true);
      }

      // One step's completed Jobs, again.
      const rerun = await apply(kubeconfig, dir, ['--from', '310', '--to', '310-verify-checks', '--rerun']);
      expect(rerun.code).toBe(0);
      expect(stepLines(rerun.stdout)).toEqual(['310-verify-checks']);
      expect(rerun.stdout.filter((l) => /completed in an earlier run; deleting it to run it again$/.test(l))).toHaveLength(7);

      // Hand-over: an object no GitOps engine co-owns yet is kept and listed, unchanged.
      const released = await apply(kubeconfig, dir, ['--release', '--from', '300', '--to', '300']);
      expect(released.code).toBe(0);
      expect(released.stdout).toContain(
        '[300-verify-workloads] service/cilium-cutover-verify/echo kept: no other server-side apply manager co-owns it yet (sync the GitOps engine first)',
      );
    });
  }, 600_000);
});

describe.skipIf(why !== undefined)('the preflight gate of apply on a simulated cluster', () => {
  it('refuses to start at the Calico deletion on a cluster where this output has no passed preflight, and creates nothing', async () => {
    const config = example();
    await onSimulatedCluster(config, {}, async (_sim, kubeconfig) => {
      const result = await apply(kubeconfig, synth(config), ['--from', '100', '--to', '110']);
      expect(result.code).toBe(1);
      expect(result.stderr).toHaveLength(1);
      expect(result.stderr[0]).toMatch(
        /^error: refused to start at 100-calico-delete: this output's preflight has not passed on this cluster \(job\/cilium-cutover\/[\w-]+ not found, /,
      );
      expect(result.stdout.filter((l) => l.startsWith('step '))).toEqual([]);
      expect(kubectl(kubeconfig, ['get', 'namespace', config.run.namespace]).code).not.toBe(0);
      expect(kubectl(kubeconfig, ['-n', 'kube-system', 'get', 'daemonset', 'calico-node']).code).toBe(0);
    });
  }, 180_000);

  it("refuses another cluster's output before sending anything, dry-run included, naming what differs", async () => {
    const config = example();
    await onSimulatedCluster(config, {}, async (_sim, kubeconfig) => {
      const other = synth(example((d) => (d.cluster.nodes[2].name = 'k3s-server-4')));
      for (const args of [['--dry-run=server'], []]) {
        const result = await apply(kubeconfig, other, args);
        expect(result.code).toBe(1);
        expect(result.stderr).toEqual([
          "error: refused: this output is not for this cluster: node k3s-server-4 (10.0.0.4) is not in the cluster; the cluster's node k3s-server-3 is not in the output; synthesize from this cluster's config (synth --config FILE), or check --kubeconfig and --context",
        ]);
        expect(result.stdout).toEqual([]);
      }
      expect(kubectl(kubeconfig, ['get', 'namespace', config.run.namespace]).code).not.toBe(0);
    });
  }, 180_000);
});

describe.skipIf(why !== undefined)('a dry-run of apply on a simulated cluster', () => {
  it('passes on an untouched cluster that matches the config, saying which objects it checked in default', async () => {
    const config = example();
    await onSimulatedCluster(config, {}, async (_sim, kubeconfig) => {
      const result = await apply(kubeconfig, synth(config), ['--dry-run=server']);
      expect(result.stderr).toEqual([]);
      expect(result.code).toBe(0);
      expect(result.stdout.at(-1)).toMatch(/^dry-run passed: 000-preflight, .*, 900-complete$/);
      expect(
        result.stdout.filter((l) =>
          l.includes('checked in namespace default: cilium-cutover does not exist yet (000-preflight creates it)'),
        ).length,
      ).toBeGreaterThan(0);
      expect(
        result.stdout.filter((l) => l.includes('checked in namespace default: cilium-cutover-verify does not exist yet')).length,
      ).toBeGreaterThan(0);
      // Nothing was created.
      expect(kubectl(kubeconfig, ['get', 'namespace', config.run.namespace]).code).not.toBe(0);
      expect(kubectl(kubeconfig, ['-n', 'kube-system', 'get', 'daemonset', 'cilium']).code).not.toBe(0);
    });
  }, 180_000);
});

describe.skipIf(why !== undefined)('cluster variants on a simulated cluster', () => {
  it('refuses an hcloud cloud controller without networking, off the host network', async () => {
    const config = example();
    await onSimulatedCluster(config, { cloudController: { network: 'none', hostNetwork: false } }, async (_sim, kubeconfig) => {
      const result = await apply(kubeconfig, synth(config), ['--to', '000']);
      expect(result.code).toBe(1);
      const line = (await jobLogs(kubeconfig, 'cilium-cutover', 'preflight-')).find((l) => l.startsWith('FAIL hcloud-ccm '));
      expect(line).toMatch(/networking is off \(no HCLOUD_NETWORK\)/);
      expect(line).toMatch(/does not run with hostNetwork/);
    });
  }, 240_000);

  it('refuses a Cilium release with cilium/cilium#44730 where k3s ServiceLB runs, naming its DaemonSet; nothing is deleted', async () => {
    const config = example((d) => (d.cilium.version = '1.19.6'));
    await onSimulatedCluster(config, { serviceLB: true }, async (_sim, kubeconfig) => {
      const result = await apply(kubeconfig, synth(config), ['--to', '100']);
      expect(result.code).toBe(1);
      const lines = [...new Set(await jobLogs(kubeconfig, 'cilium-cutover', 'preflight-'))];
      expect(lines.filter((l) => l.startsWith('FAIL'))).toEqual([
        expect.stringMatching(
          /^FAIL servicelb k3s: ServiceLB runs kube-system\/svclb-traefik-1b7a2a41: Cilium 1\.19\.6 .*\(1\.19\.7 and 1\.20\.0\)/,
        ),
      ]);
      expect(kubectl(kubeconfig, ['-n', 'kube-system', 'get', 'daemonset', 'calico-node']).code).toBe(0);
    });
  }, 180_000);

  it('takes networking from the hcloud Secret; an aggregated API without endpoints and ServiceLB change nothing: Calico goes, svclb stays', async () => {
    const config = example();
    const scenario: Scenario = { cloudController: { network: 'secret' }, unavailableApiService: true, serviceLB: true };
    await onSimulatedCluster(config, scenario, async (_sim, kubeconfig) => {
      const result = await apply(kubeconfig, synth(config), ['--to', '100']);
      expect(result.stderr).toEqual([]);
      expect(result.code).toBe(0);
      expect(await jobLogs(kubeconfig, 'cilium-cutover', 'preflight-')).toContain(
        'PASS hcloud-ccm kube-system/hcloud-cloud-controller-manager: Deployment, networking and routes on, --cluster-cidr 10.42.0.0/16, host network, 1 ready',
      );
      expect(
        kubectl(kubeconfig, ['get', 'apiservice', 'v1beta1.metrics.k8s.io', '-o', 'jsonpath={.status.conditions[0].status}']).out,
      ).toBe('False');
      expect(kubectl(kubeconfig, ['-n', 'kube-system', 'get', 'daemonset', 'svclb-traefik-1b7a2a41']).code).toBe(0);
      expect(kubectl(kubeconfig, ['-n', 'kube-system', 'get', 'daemonset', 'calico-node']).code).not.toBe(0);
    });
  }, 240_000);
});

describe.skipIf(why !== undefined)('node cleanup failing on a simulated cluster', () => {
  it('stops on a node whose host has no bash, naming the node and the way out, and changes nothing there', async () => {
    const config = example();
    await onSimulatedCluster(config, { missingHostTools: ['bash'] }, async (sim, kubeconfig) => {
      // Straight to step 110 (the node preflight would refuse this cluster first, so the gate is
      // passed by name), in the namespace step 000 creates.
      kubectl(kubeconfig, ['create', 'namespace', config.run.namespace]);
      const result = await apply(kubeconfig, synth(config), ['--from', '110', '--to', '110', '--without-preflight']);
      expect(result.code).toBe(1);
      expect(result.stderr.join('\n')).toMatch(
        /step 110-node-cleanup failed: job\/cilium-cutover\/cleanup-node-k3s-server-\d-\w+ BackoffLimitExceeded/,
      );
      const lines = await jobLogs(kubeconfig, 'cilium-cutover', 'cleanup-node-');
      expect(lines).toContain(
        'FAILED k3s-server-1: the host has no bash; run calico-cleanup.sh by hand or reboot the node instead (host/rolling-reboot.sh in the output)',
      );
      for (const node of sim.nodes) {
        expect(readdirSync(join(node.root, 'etc/cni/net.d')).sort()).toEqual(['10-calico.conflist', 'calico-kubeconfig']);
        expect(chains(node.netns, 'iptables-nft-save').filter((c) => c.includes(':cali-'))).toHaveLength(HOST_CHAINS.calico.length);
      }
    });
  }, 240_000);
});

describe.skipIf(why !== undefined)('kube-proxy cleanup failing on a simulated cluster', () => {
  it("keeps kube-proxy's rules on a node whose Cilium agent is not healthy, and stops naming it", async () => {
    const config = example();
    await onSimulatedCluster(config, {}, async (sim, kubeconfig) => {
      const dir = synth(config);
      expect((await apply(kubeconfig, dir, ['--to', '200'])).code).toBe(0);
      // The agent on k3s-server-2 stops answering after the rollout.
      await sim.setAgentHealthy('k3s-server-2', false);
      shortenAgentWait(
        dir,
        config.cluster.nodes.map((n) => n.name),
        15,
      );
      const result = await apply(kubeconfig, dir, ['--from', '210', '--to', '210']);
      expect(result.code).toBe(1);
      expect(result.stderr.join('\n')).toMatch(
        /step 210-kube-proxy-cleanup failed: job\/cilium-cutover\/kube-proxy-cleanup-k3s-server-2-\w+ BackoffLimitExceeded/,
      );
      const lines = await jobLogs(kubeconfig, 'cilium-cutover', 'kube-proxy-cleanup-k3s-server-2-');
      expect(lines).toContain(
        'FAILED cilium agent on k3s-server-2: not healthy on 127.0.0.1:9879 after 15s; the kube-proxy rules are kept',
      );
      expect(lines.some((l) => l.startsWith('REMOVED'))).toBe(false);
      // kube-proxy's chains stay on that node; the healthy nodes lose theirs.
      const kubeProxyChains = (netns: string) =>
        chains(netns, 'iptables-nft-save').filter((c) => (HOST_CHAINS.kubeProxy as readonly string[]).includes(c));
      for (const node of sim.nodes) {
        await expect
          .poll(() => kubeProxyChains(node.netns).length, { timeout: 60_000, interval: 1000 })
          .toBe(node.name === 'k3s-server-2' ? HOST_CHAINS.kubeProxy.length : 0);
      }

      // The agent is healthy again; PLAN.md's recovery: the step into run.retries, synth, and a walk
      // from the first step (as an engine syncing the new commit).
      await sim.setAgentHealthy('k3s-server-2', true);
      const retried = example((d) => (d.run = { ...d.run, retries: ['210-kube-proxy-cleanup'] }));
      const rerun = await apply(kubeconfig, synth(retried), ['--to', '210']);
      expect(rerun.stderr).toEqual([]);
      expect(rerun.code).toBe(0);
      expect(rerun.stdout.filter((l) => /^\[(000|100|110)-[a-z-]+\] .* completed in an earlier run; not run again/.test(l))).toHaveLength(
        8,
      );
      expect(await jobLogs(kubeconfig, 'cilium-cutover', 'kube-proxy-cleanup-k3s-server-2-')).toContain(
        'PASS cilium agent on k3s-server-2: healthy',
      );
      for (const node of sim.nodes) {
        expect(kubeProxyChains(node.netns), node.name).toEqual([]);
      }
    });
  }, 400_000);
});

describe.skipIf(why !== undefined)('re-addressing failing on a simulated cluster', () => {
  it('lists a pod without a controller that is still on Calico, and stops before the verification', async () => {
    const config = example();
    const scenario: Scenario = {
      barePods: [{ namespace: 'shop', name: 'debug' }],
      deployments: [{ namespace: 'shop', name: 'web', replicas: 1 }],
    };
    await onSimulatedCluster(config, scenario, async (_sim, kubeconfig) => {
      const result = await apply(kubeconfig, synth(config), []);
      expect(result.code).toBe(1);
      expect(result.stderr.join('\n')).toMatch(/step 250-readdress-pods failed: job\/cilium-cutover\/readdress-\w+ BackoffLimitExceeded/);
      const lines = await jobLogs(kubeconfig, 'cilium-cutover', 'readdress-');
      expect(lines).toContain('FAILED shop/debug has no controller and is not managed by Cilium: restart it by hand');
      expect(lines.at(-1)).toBe('readdress: 1 pod(s) left');
      // The application's pod was moved; the bare pod was not touched.
      expect(kubectl(kubeconfig, ['-n', 'shop', 'get', 'pod', 'debug', '-o', 'jsonpath={.status.podIP}']).out).toMatch(/^192\.168\./);
      expect(kubectl(kubeconfig, ['-n', 'shop', 'get', 'pods', '-l', 'app=web', '-o', 'jsonpath={.items[*].status.podIP}']).out).toMatch(
        /^10\.42\./,
      );
      expect(kubectl(kubeconfig, ['get', 'namespace', 'cilium-cutover-verify']).code).not.toBe(0);
    });
  }, 300_000);
});

/**
 * Recovery after a failed step. `apply` run again from the first step stands in for an engine that
 * walks the steps again after a new commit (Argo CD's sync waves, Flux's dependsOn chain): each
 * step applied and awaited in order, a completed Job left as it is.
 */
describe.skipIf(why !== undefined)('recovery on a simulated cluster', () => {
  const jobNames = (kubeconfig: string, prefix: RegExp) =>
    kubectl(kubeconfig, ['get', 'jobs', '-n', 'cilium-cutover', '-o', 'name'])
      .out.trim()
      .split('\n')
      .filter((j) => prefix.test(j))
      .sort();

  it('a node lost during step 110: with the step in run.retries, a walk from the first step keeps the preflight and the deletion and completes', async () => {
    const config = example();
    await onSimulatedCluster(config, {}, async (sim, kubeconfig) => {
      const dir = synth(config);
      expect((await apply(kubeconfig, dir, ['--to', '100'])).code).toBe(0);
      const preflights = jobNames(kubeconfig, /^job\.batch\/(node-)?preflight-/);
      expect(preflights).toHaveLength(4);

      // k3s-server-2 goes away while step 110 runs: its Job's pod cannot start there, and the step
      // waits until its timeout (--timeout 30s here, 15 minutes by default). The other two nodes
      // lose Calico's CNI config.
      sim.setNodeDown('k3s-server-2', true);
      const failed = await apply(kubeconfig, dir, ['--from', '110', '--to', '110', '--timeout', '30s']);
      expect(failed.code).toBe(1);
      expect(failed.stderr.join('\n')).toMatch(
        /step 110-node-cleanup failed: timed out after 30s waiting for job\/cilium-cutover\/cleanup-node-k3s-server-2-\w+ /,
      );

      // The node is back; the operator does what PLAN.md says: the step into run.retries, synth, sync.
      sim.setNodeDown('k3s-server-2', false);
      const retried = example((d) => (d.run = { ...d.run, retries: ['110-node-cleanup'] }));
      const resumed = await apply(kubeconfig, synth(retried), []);
      expect(resumed.stderr).toEqual([]);
      expect(resumed.code).toBe(0);
      expect(resumed.stdout.at(-1)).toMatch(/^done: 000-preflight, 100-calico-delete, 110-node-cleanup, .*, 900-complete$/);
      expect(
        resumed.stdout.filter((l) => /^\[(000-preflight|100-calico-delete)\] .* completed in an earlier run; not run again/.test(l)),
      ).toHaveLength(5);
      // No preflight Job was created again: the half-migrated cluster was never judged by it.
      expect(jobNames(kubeconfig, /^job\.batch\/(node-)?preflight-/)).toEqual(preflights);
      const cleanup = await jobLogs(kubeconfig, 'cilium-cutover', 'cleanup-node-k3s-server-2-');
      expect(cleanup).toContain('calico-cleanup: done');
      expect(readdirSync(join(sim.nodes[1]!.root, 'etc/cni/net.d'))).toEqual(['05-cilium.conflist']);
      expect(kubectl(kubeconfig, ['get', 'nodes', '-o', 'jsonpath={.items[*].status.conditions[?(@.type=="Ready")].status}']).out).toBe(
        'True True True',
      );
    });
  }, 600_000);

  it("step 200 waits for a node's Cilium agent that does not become ready; once it does, a walk from the first step completes", async () => {
    const config = example();
    await onSimulatedCluster(config, { agentsNotReady: ['k3s-server-2'] }, async (sim, kubeconfig) => {
      const dir = synth(config);
      // --timeout 60s: each step waits at most a minute here (step 200 waits 20 minutes by default).
      const failed = await apply(kubeconfig, dir, ['--timeout', '60s']);
      expect(failed.code).toBe(1);
      expect(failed.stderr.join('\n')).toMatch(/step 200-cilium failed: timed out after 1m00s waiting for daemonset\/kube-system\/cilium/);
      expect(
        kubectl(kubeconfig, ['get', 'node', 'k3s-server-2', '-o', 'jsonpath={.status.conditions[?(@.type=="Ready")].status}']).out,
      ).toBe('False');

      // PLAN.md for step 200: fix the cause on that node, and sync again.
      await sim.setAgentHealthy('k3s-server-2', true);
      const resumed = await apply(kubeconfig, dir, []);
      expect(resumed.stderr).toEqual([]);
      expect(resumed.code).toBe(0);
      expect(resumed.stdout.at(-1)).toMatch(/^done: 000-preflight, .*, 900-complete$/);
      expect(resumed.stdout.filter((l) => /^\[(000|100|110)-[a-z-]+\] .* completed in an earlier run; not run again/.test(l))).toHaveLength(
        8,
      );
      expect((await jobLogs(kubeconfig, 'cilium-cutover-verify', 'verify-')).filter((l) => l.startsWith('FAIL'))).toEqual([]);
    });
  }, 600_000);

  it('a node gone for good during step 110: listed in run.skipNodes and its Node deleted, a walk from the first step judges the half-migrated cluster and completes', async () => {
    const config = example();
    await onSimulatedCluster(config, {}, async (sim, kubeconfig) => {
      const dir = synth(config);
      expect((await apply(kubeconfig, dir, ['--to', '100'])).code).toBe(0);
      sim.setNodeDown('k3s-server-2', true);
      expect((await apply(kubeconfig, dir, ['--from', '110', '--to', '110', '--timeout', '30s'])).code).toBe(1);

      // What PLAN.md says for a node that does not come back: list it in run.skipNodes, and delete
      // its Node before step 200 (Cilium's DaemonSet would wait for it).
      kubectl(kubeconfig, ['delete', 'node', 'k3s-server-2', '--wait=false']);
      const skipped = example((d) => (d.run = { ...d.run, skipNodes: ['k3s-server-2'] }));
      const resumed = await apply(kubeconfig, synth(skipped), []);
      expect(resumed.stderr).toEqual([]);
      expect(resumed.code).toBe(0);
      expect(resumed.stdout.at(-1)).toMatch(/^done: 000-preflight, .*, 900-complete$/);
      // run.skipNodes is part of the preflight's input, so it ran again, on a cluster without Calico
      // whose other nodes had lost their CNI config in step 110.
      const preflight = await jobLogs(kubeconfig, 'cilium-cutover', `${jobIn(synth(skipped), '000-preflight/job-preflight.yaml')}-`);
      expect(preflight.at(-1)).toBe('preflight: all checks passed');
      expect(preflight).toContain(
        'INFO node k3s-server-2: skipped (run.skipNodes): no per-node Job runs there; clean it up by hand or reboot it when it returns',
      );
      for (const node of ['k3s-server-1', 'k3s-server-3']) {
        expect(preflight).toContain(
          `INFO node-ready ${node}: not Ready only because it has no CNI config (NetworkPluginNotReady): Calico is removed, and Cilium writes its config in step 200`,
        );
      }
      expect(kubectl(kubeconfig, ['get', 'nodes', '-o', 'jsonpath={.items[*].status.conditions[?(@.type=="Ready")].status}']).out).toBe(
        'True True',
      );
    });
  }, 600_000);

  it('a preflight run again after step 110 reports the nodes without a CNI config, and still stops on a node whose kubelet stopped', async () => {
    const config = example();
    await onSimulatedCluster(config, {}, async (sim, kubeconfig) => {
      expect((await apply(kubeconfig, synth(config), ['--to', '110'])).code).toBe(0);
      sim.setNodeDown('k3s-server-3', true);
      // A retry from the first step runs the preflight again, on a cluster without Calico.
      const again = example((d) => (d.run = { ...d.run, retries: ['000-preflight'] }));
      const result = await apply(kubeconfig, synth(again), ['--to', '000']);
      expect(result.code).toBe(1);
      const lines = await jobLogs(kubeconfig, 'cilium-cutover', 'preflight-');
      // Nothing else on the half-migrated cluster fails the preflight (the first run failed nothing).
      expect([...new Set(lines.filter((l) => l.startsWith('FAIL')))]).toEqual([
        'FAIL node-ready k3s-server-3: not Ready (Unknown, NodeStatusUnknown); a Job pinned to it would never finish: bring it back first',
      ]);
      expect((await jobLogs(kubeconfig, 'cilium-cutover', 'node-preflight-')).filter((l) => l.startsWith('FAIL'))).toEqual([]);
      for (const node of ['k3s-server-1', 'k3s-server-2']) {
        expect(lines).toContain(
          `INFO node-ready ${node}: not Ready only because it has no CNI config (NetworkPluginNotReady): Calico is removed, and Cilium writes its config in step 200`,
        );
      }
      expect(lines).toContain(
        'FAIL node-ready k3s-server-3: not Ready (Unknown, NodeStatusUnknown); a Job pinned to it would never finish: bring it back first',
      );
      expect(lines).toContain('PASS calico kube-system/calico-node: absent (already removed)');
    });
  }, 300_000);
});

/**
 * Every object of the tool left in the cluster (labelled `app.kubernetes.io/managed-by:
 * cilium-cutover`), as `Kind/namespace/name`, over the kinds the example's steps create.
 */
function toolObjects(kubeconfig: string): string[] {
  const kinds =
    'jobs,deployments,daemonsets,services,ingresses,configmaps,secrets,serviceaccounts,roles,rolebindings,clusterroles,clusterrolebindings,namespaces';
  const format = '{range .items[*]}{.kind}/{.metadata.namespace}/{.metadata.name}{"\\n"}{end}';
  const listed = kubectl(kubeconfig, ['get', kinds, '-A', '-l', 'app.kubernetes.io/managed-by=cilium-cutover', '-o', `jsonpath=${format}`]);
  expect(listed.code).toBe(0);
  return listed.out
    .trim()
    .split('\n')
    .filter((l) => l !== '')
    .sort();
}

const refKey = (o: ManifestObject): string => `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`;

/**
 * What graduation must leave: from the migration's own output its Cilium step, the status record
 * with the node check, and the inventory's namespace; and the inventory step 100 kept there (read before graduating).
 */
function survivors(migration: string, kubeconfig: string): string[] {
  const steps = readDist(migration);
  const cilium = steps.find((s) => s.dir === '200-cilium')!.objects.map(refKey);
  const record = steps.find((s) => s.dir === '900-complete')!.objects.map(refKey);
  // The record and the node check that stays with it.
  expect(record.map((r) => r.replace(/-[0-9a-f]{8}$/, '')).sort()).toEqual([
    'ClusterRole//cilium-cutover-node-check',
    'ClusterRoleBinding//cilium-cutover-node-check',
    'ConfigMap/kube-system/cilium-cutover-status',
    'ConfigMap/kube-system/node-check',
    'Job/kube-system/node-check',
    'ServiceAccount/kube-system/cilium-cutover-node-check',
  ]);
  const inventory = kubectl(kubeconfig, [
    'get',
    'configmaps',
    '-n',
    'cilium-cutover-inventory',
    '-l',
    'cilium-cutover.io/inventory',
    '-o',
    'name',
  ])
    .out.trim()
    .split('\n')
    .map((n) => `ConfigMap/cilium-cutover-inventory/${n.replace('configmap/', '')}`);
  expect(inventory).toHaveLength(1);
  return [...cilium, ...record, 'Namespace//cilium-cutover-inventory', ...inventory].sort();
}

/**
 * What Argo CD's prune deletes when its Application's source goes from the migration's output to
 * the steady one: every object the Kustomize root of `before` rendered that the root of `after`
 * lacks, but an object whose live annotation says `Prune=false` (gitops-engine's sync, "Prune=false").
 */
function argoPrune(kubeconfig: string, before: string, after: string): ManifestObject[] {
  const application = parse(readFileSync(join(before, 'argocd', readdirSync(join(before, 'argocd'))[0]!), 'utf8'));
  expect(application.spec.source.path).toBe('dist/manifests');
  const kept = new Set(readDist(after).flatMap((s) => s.objects.map(refKey)));
  return readDist(before)
    .flatMap((s) => s.objects)
    .filter((o) => !kept.has(refKey(o)))
    .filter((o) => {
      const live = kubectl(kubeconfig, [
        'get',
        o.kind,
        o.metadata.name,
        ...(o.metadata.namespace ? ['-n', o.metadata.namespace] : []),
        '-o',
        'json',
      ]);
      return !/Prune=false/.test(JSON.parse(live.out || '{}').metadata?.annotations?.['argocd.argoproj.io/sync-options'] ?? '');
    });
}

/**
 * What Flux deletes when dist/flux goes from the migration's to the steady one: a step
 * Kustomization that is gone is deleted, and with `prune: true` its finalizer garbage-collects its
 * inventory (the objects of its path); a Kustomization that stays prunes what its path lost. An
 * object annotated `kustomize.toolkit.fluxcd.io/prune: disabled` is never collected.
 */
function fluxPrune(before: string, after: string): ManifestObject[] {
  const kustomizations = (dir: string) =>
    readdirSync(join(dir, 'flux'))
      .filter((f) => f.startsWith('kustomization-'))
      .map((f) => parse(readFileSync(join(dir, 'flux', f), 'utf8')));
  const stays = new Map(kustomizations(after).map((k) => [k.metadata.name, k]));
  const objectsOf = (dir: string, path: string) => readDist(dir).find((s) => `./dist/manifests/${s.dir}` === path)?.objects ?? [];
  return kustomizations(before).flatMap((k) => {
    expect(k.spec.prune).toBe(true);
    const kept = stays.get(k.metadata.name);
    const left = new Set(kept ? objectsOf(after, kept.spec.path).map(refKey) : []);
    return objectsOf(before, k.spec.path).filter(
      (o) => !left.has(refKey(o)) && o.metadata.annotations?.['kustomize.toolkit.fluxcd.io/prune'] !== 'disabled',
    );
  });
}

/**
 * Deletes objects as an engine's prune does (dependents in the background) and waits until they
 * are gone. Asynchronously: the simulated kubelet in this process confirms the pods' deletion.
 */
async function prune(kubeconfig: string, objects: readonly ManifestObject[]): Promise<void> {
  const file = join(mkdtempSync(join(tmpdir(), 'ccsim-prune-')), 'prune.yaml');
  writeFileSync(file, objects.map((o) => stringify({ apiVersion: o.apiVersion, kind: o.kind, metadata: o.metadata })).join('---\n'));
  const deleted = await promisify(execFile)('kubectl', [
    '--kubeconfig',
    kubeconfig,
    'delete',
    '-f',
    file,
    '--ignore-not-found',
    '--wait',
    '--timeout=180s',
  ]);
  expect(deleted.stderr).toBe('');
}

describe.skipIf(why !== undefined)('handing over and graduating on a simulated cluster', () => {
  const jobUids = (kubeconfig: string) =>
    kubectl(kubeconfig, ['get', 'jobs', '-A', '-o', 'jsonpath={range .items[*]}{.metadata.name}={.metadata.uid}{"\\n"}{end}']).out;
  const podCount = (kubeconfig: string) => kubectl(kubeconfig, ['get', 'pods', '-A', '-o', 'name']).out.trim().split('\n').length;

  it('an engine syncing the commit apply used re-creates no Job; apply --graduate on the steady output leaves Cilium, the status record, the node check and the Calico inventory', async () => {
    const config = example();
    await onSimulatedCluster(config, {}, async (_sim, kubeconfig) => {
      const migration = synth(config);
      expect((await apply(kubeconfig, migration, [])).code).toBe(0);

      // The hand-over: Flux applies the same files server-side, taking ownership of what another
      // manager holds (ForceOwnership, fluxcd/pkg ssa/manager_apply.go); Argo CD applies them
      // client-side (the Application does not set ServerSideApply=true).
      const jobs = jobUids(kubeconfig);
      const pods = podCount(kubeconfig);
      expect(jobs.split('\n').filter((l) => l !== '').length).toBe(
        readDist(migration)
          .flatMap((s) => s.objects)
          .filter((o) => o.kind === 'Job').length,
      );
      for (const args of [['--server-side', '--force-conflicts', '--field-manager=kustomize-controller'], []]) {
        const synced = spawnSync('kubectl', ['--kubeconfig', kubeconfig, 'apply', ...args, '-k', join(migration, 'manifests')], {
          encoding: 'utf8',
        });
        expect(synced.stderr.replace(/^Warning: .*\n/gm, '')).toBe('');
        expect(synced.status).toBe(0);
      }
      expect(jobUids(kubeconfig)).toBe(jobs);
      expect(podCount(kubeconfig)).toBe(pods);

      // Graduation: the steady output, its dry-run first.
      const steady = synth(example((d) => (d.phase = 'steady')));
      const left = survivors(migration, kubeconfig);
      const before = toolObjects(kubeconfig);
      const dry = await apply(kubeconfig, steady, ['--graduate', '--dry-run=server']);
      expect(dry.stderr).toEqual([]);
      expect(dry.code).toBe(0);
      expect(toolObjects(kubeconfig)).toEqual(before);
      const graduated = await apply(kubeconfig, steady, ['--graduate']);
      expect(graduated.stderr).toEqual([]);
      expect(graduated.code).toBe(0);
      expect(graduated.stdout.filter((l) => l.startsWith('deleted ')).length).toBe(
        dry.stdout.filter((l) => l.startsWith('would delete')).length,
      );
      expect(toolObjects(kubeconfig)).toEqual(left);
      expect(kubectl(kubeconfig, ['get', 'pods', '-n', 'cilium-cutover', '-o', 'name']).out).toBe('');
      expect(
        kubectl(kubeconfig, ['get', 'namespace', 'cilium-cutover', 'cilium-cutover-verify', '--ignore-not-found', '-o', 'name']).out,
      ).toBe('');
      // Cilium stays up.
      expect(kubectl(kubeconfig, ['get', 'nodes', '-o', 'jsonpath={.items[*].status.conditions[?(@.type=="Ready")].status}']).out).toBe(
        'True True True',
      );
    });
  }, 600_000);

  it.each([
    ['Argo CD', argoPrune],
    ['Flux', (_kubeconfig: string, before: string, after: string) => fluxPrune(before, after)],
  ] as const)(
    'graduation by %s prune of the steady output leaves Cilium, the status record, the node check and the Calico inventory',
    async (_engine, pruned) => {
      const config = example();
      await onSimulatedCluster(config, {}, async (_sim, kubeconfig) => {
        const migration = synth(config);
        expect((await apply(kubeconfig, migration, [])).code).toBe(0);
        const steady = synth(example((d) => (d.phase = 'steady')));
        const left = survivors(migration, kubeconfig);
        // The engine applies the steady commit first (the Cilium objects gain their annotations), then prunes.
        const synced = spawnSync(
          'kubectl',
          [
            '--kubeconfig',
            kubeconfig,
            'apply',
            '--server-side',
            '--force-conflicts',
            '--field-manager=gitops',
            '-k',
            join(steady, 'manifests'),
          ],
          {
            encoding: 'utf8',
          },
        );
        expect(synced.status).toBe(0);
        await prune(kubeconfig, pruned(kubeconfig, migration, steady));
        expect(toolObjects(kubeconfig)).toEqual(left);
      });
    },
    600_000,
  );
});
