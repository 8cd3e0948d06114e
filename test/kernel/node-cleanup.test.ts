/**
 * The node cleanup Jobs (110 calico-cleanup, 210 kube-proxy-cleanup) on real kernel state: each
 * case loads a node's state (test/support/node-state.ts, shapes from Felix's and kube-proxy's
 * source) into a host of its own (test/support/node-host.ts: a network namespace and a mount
 * namespace, nothing of the machine's) and runs the synthesized Job's container as the kubelet
 * would: busybox `sh enter-host.sh <script>` with the Job's env, `nsenter -t 1` reaching the host.
 *
 * What a run must leave is not written down here: a second host is loaded with the same state
 * minus the parts of the owner being removed, and the two hosts' full snapshots (both iptables
 * backends and families, nftables, ipsets, links, addresses, routes, files, mounts) must be equal.
 *
 * Needs root, iproute2, iptables (legacy and nft), ipset, nftables, busybox and util-linux. Without
 * them it prints one SKIP line; under CILIUM_CUTOVER_REQUIRE_KERNEL=1 (.ci/run) it fails instead.
 */
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { startContainer, type PodJson } from '../../scripts/sim-cluster/pod-runner.ts';
import { manifestObjects, renderExample } from '../support/helpers.ts';
import { startNodeHost, type NodeHost } from '../support/node-host.ts';
import { buildNodeState, loadNodeState, type NodeState, type NodeStateOptions, type Owner } from '../support/node-state.ts';
import { snapshotHost, type HostSnapshot } from '../support/host-snapshot.ts';
import { hasTool } from '../support/tools.ts';

const TOOLS = ['ip', 'unshare', 'chroot', 'iptables-legacy-restore', 'iptables-nft-restore', 'ipset', 'nft', 'busybox'] as const;

function missing(): string | undefined {
  if (process.getuid?.() !== 0) {
    return 'not root (network and mount namespaces need it)';
  }
  const absent = TOOLS.find((t) => !hasTool(t));
  return absent && `${absent} is not installed`;
}
const why = missing();
if (why !== undefined) {
  if (process.env.CILIUM_CUTOVER_REQUIRE_KERNEL === '1') {
    throw new Error(`the real-kernel suite cannot run: ${why} (CILIUM_CUTOVER_REQUIRE_KERNEL=1)`);
  }
  console.log(`SKIP real-kernel node cleanup: ${why}`);
}

const work = mkdtempSync(join(tmpdir(), 'cilium-cutover-kernel-'));
const hosts: NodeHost[] = [];
let count = 0;
afterAll(() => {
  hosts.splice(0).forEach((h) => h.stop());
  rmSync(work, { recursive: true, force: true });
});

function newHost(): NodeHost {
  const n = ++count;
  const host = startNodeHost({ dir: join(work, `host-${n}`), netns: `cck-${process.pid}-${n}`, createNetns: true });
  hosts.push(host);
  return host;
}

type Script = 'calico-cleanup' | 'kube-proxy-cleanup';
const STEP: Record<Script, string> = { 'calico-cleanup': '110-node-cleanup', 'kube-proxy-cleanup': '210-kube-proxy-cleanup' };

interface RunOptions {
  /** A change to the example config before synth. */
  readonly edit?: (data: Record<string, any>) => void;
  /** Variables added to the Job's env. */
  readonly env?: Readonly<Record<string, string>>;
}

/** Runs the synthesized Job of the first node on `host`: its output and exit code. */
async function runJob(host: NodeHost, script: Script, options: RunOptions = {}): Promise<{ exitCode: number; lines: string[] }> {
  const rendered = renderExample(options.edit);
  const objects = manifestObjects(rendered, `manifests/${STEP[script]}/`).map(({ obj }) => obj);
  const job = objects.find((o) => o.kind === 'Job' && o.spec.template.spec.nodeName === 'k3s-server-1');
  const spec = job.spec.template.spec;
  const configMap = objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name === spec.volumes[0].configMap.name);
  const dir = join(work, `job-${++count}`);
  const files = join(dir, 'files');
  mkdirSync(files, { recursive: true });
  for (const [name, content] of Object.entries(configMap.data as Record<string, string>)) {
    writeFileSync(join(files, name), content, { mode: 0o444 });
  }
  const container = {
    ...spec.containers[0],
    env: [...spec.containers[0].env, ...Object.entries(options.env ?? {}).map(([name, value]) => ({ name, value }))],
  };
  const pod: PodJson = {
    metadata: { name: job.metadata.name, namespace: job.metadata.namespace, uid: 'uid' },
    spec: { ...spec, containers: [container] },
  };
  const node = { name: 'k3s-server-1', index: 0, netns: host.netns, root: host.files, host };
  const run = await startContainer(
    {
      pod,
      container,
      volumes: new Map([['files', files]]),
      node,
      setting: { netns: host.netns, resolvConf: 'nameserver 127.0.0.53\n', busybox: true, defaultEnv: {} },
    },
    dir,
    120_000,
  ).done;
  return { exitCode: run.exitCode, lines: run.output.trim().split('\n') };
}

/** A host loaded with `state`, and the snapshot of a second one loaded without `removed`'s parts. */
function prepare(
  state: NodeState,
  removed: readonly Owner[],
  extra: (host: NodeHost) => void = () => {},
): { host: NodeHost; expected: HostSnapshot } {
  const baseline = newHost();
  extra(baseline);
  loadNodeState(baseline, state, (owner) => !removed.includes(owner));
  const expected = snapshotHost(baseline);
  const host = newHost();
  extra(host);
  loadNodeState(host, state, () => true);
  return { host, expected };
}

/** Holds the host's xtables lock for `seconds`, as another iptables writer would; resolves once it is held. */
async function holdXtablesLock(host: NodeHost, seconds: number): Promise<ChildProcess> {
  const holder = spawn('nsenter', [
    '-t',
    String(host.pid),
    '-m',
    '-n',
    '--',
    'chroot',
    host.root,
    'flock',
    '/run/xtables.lock',
    'sleep',
    String(seconds),
  ]);
  await expect.poll(() => host.run(['flock', '-n', '/run/xtables.lock', 'true']).status).not.toBe(0);
  return holder;
}

/** The lines that say something was (or would be) changed or failed. */
const actions = (lines: string[]) => lines.filter((l) => /^(REMOVED|WOULD-REMOVE|FAILED|WARN) /.test(l));

const CALICO_IPIP: NodeStateOptions = {
  backends: ['legacy'],
  ipv6: false,
  calico: { dataplane: 'iptables', backend: 'bird' },
  kubeProxy: 'iptables',
};

describe.skipIf(why !== undefined)('calico-cleanup on real kernel state', () => {
  const cases: [string, NodeStateOptions][] = [
    ['iptables-legacy, BIRD with IPIP', CALICO_IPIP],
    ['iptables-nft, BIRD with IPIP', { ...CALICO_IPIP, backends: ['nft'] }],
    ['both iptables backends populated at once, dual-stack', { ...CALICO_IPIP, backends: ['legacy', 'nft'], ipv6: true }],
    [
      'VXLAN backend (Felix routes, protocol 80), dual-stack',
      { backends: ['nft'], ipv6: true, calico: { dataplane: 'iptables', backend: 'vxlan' }, kubeProxy: 'iptables' },
    ],
    [
      'nftables dataplane (v3.29+), with the v3.32 ARP table, dual-stack',
      { backends: ['nft'], ipv6: true, calico: { dataplane: 'nftables', backend: 'vxlan', arpTable: true }, kubeProxy: 'iptables' },
    ],
    ['chains and rules of Felix releases before hash comments', { ...CALICO_IPIP, calico: { ...CALICO_IPIP.calico!, historic: true } }],
  ];
  for (const [name, options] of cases) {
    it(`${name}: removes everything Calico left and changes nothing else`, async () => {
      const { host, expected } = prepare(buildNodeState(options), ['calico']);
      const run = await runJob(host, 'calico-cleanup');
      expect(run.lines.filter((l) => l.startsWith('FAILED'))).toEqual([]);
      expect(run.exitCode).toBe(0);
      expect(run.lines.at(-1)).toBe('calico-cleanup: done');
      expect(snapshotHost(host)).toEqual(expected);
    });
  }

  it('says what it removed, routes by family and protocol', async () => {
    const { host } = prepare(
      buildNodeState({ backends: ['nft'], ipv6: true, calico: { dataplane: 'iptables', backend: 'vxlan' }, kubeProxy: 'iptables' }),
      ['calico'],
    );
    const run = await runJob(host, 'calico-cleanup');
    expect(run.lines).toEqual(
      expect.arrayContaining([
        'REMOVED /etc/cni/net.d/10-calico.conflist',
        'REMOVED IPv4 routes: 2 with proto 80 (Felix)',
        'REMOVED IPv6 routes: 2 with proto 80 (Felix)',
        'REMOVED interface vxlan.calico',
        'REMOVED interface vxlan-v6.calico',
        'REMOVED mount /run/calico/cgroup',
        'ABSENT iptables-legacy: no Calico chains or rules',
      ]),
    );
    expect(run.lines.filter((l) => l.startsWith('REMOVED iptables-nft') || l.startsWith('REMOVED ip6tables-nft'))).toHaveLength(2);
  });

  it("keeps a Calico chain an administrator's chain still jumps to, and says so", async () => {
    const state = buildNodeState({ ...CALICO_IPIP, calico: { ...CALICO_IPIP.calico!, referencedByUser: true } });
    const { host, expected } = prepare(state, ['calico']);
    const run = await runJob(host, 'calico-cleanup');
    expect(run.exitCode).toBe(0);
    expect(run.lines).toContain('KEPT iptables-legacy cali-cidr-block (filter table): still referenced by admin-audit');
    expect(snapshotHost(host)).toEqual(expected);
  });

  it('a second run changes nothing and reports nothing to do', async () => {
    const { host } = prepare(buildNodeState({ ...CALICO_IPIP, backends: ['legacy', 'nft'], ipv6: true }), ['calico']);
    expect((await runJob(host, 'calico-cleanup')).exitCode).toBe(0);
    const after = snapshotHost(host);
    const again = await runJob(host, 'calico-cleanup');
    expect(again.exitCode).toBe(0);
    expect(actions(again.lines)).toEqual([]);
    expect(again.lines).toContain('ABSENT addresses of tunl0: it has none and is down (the device goes at the next reboot)');
    expect(snapshotHost(host)).toEqual(after);
  });

  it('DRY_RUN (cleanup.dryRun) changes nothing and lists what it would remove', async () => {
    const { host } = prepare(
      buildNodeState({
        backends: ['legacy', 'nft'],
        ipv6: true,
        calico: { dataplane: 'nftables', backend: 'vxlan', arpTable: true },
        kubeProxy: 'iptables',
      }),
      ['calico'],
    );
    const before = snapshotHost(host);
    const run = await runJob(host, 'calico-cleanup', { edit: (d) => (d.cleanup = { ...d.cleanup, dryRun: true }) });
    expect(run.exitCode).toBe(0);
    expect(run.lines.at(-1)).toBe('calico-cleanup: done (dry run: nothing was changed)');
    expect(run.lines).toEqual(expect.arrayContaining(['WOULD-REMOVE nftables table ip calico', 'WOULD-REMOVE interface vxlan.calico']));
    expect(snapshotHost(host)).toEqual(before);
  });

  it('waits for the xtables lock another writer holds, then removes', async () => {
    const { host, expected } = prepare(buildNodeState(CALICO_IPIP), ['calico']);
    const holder = await holdXtablesLock(host, 3);
    const run = await runJob(host, 'calico-cleanup', { env: { XTABLES_WAIT_SECONDS: '30' } });
    holder.kill();
    expect(run.exitCode).toBe(0);
    expect(snapshotHost(host)).toEqual(expected);
  });

  it('fails, naming the lock, when the xtables lock stays held', async () => {
    const { host } = prepare(buildNodeState(CALICO_IPIP), ['calico']);
    const holder = await holdXtablesLock(host, 60);
    const run = await runJob(host, 'calico-cleanup', { env: { XTABLES_WAIT_SECONDS: '1' } });
    holder.kill();
    expect(run.exitCode).toBe(1);
    expect(run.lines.find((l) => l.startsWith('FAILED iptables-legacy'))).toMatch(
      /another program held the xtables lock \(\/run\/xtables.lock\) for more than 1s/,
    );
    expect(host.must(['iptables-legacy-save', '-t', 'filter'])).toContain(':cali-INPUT');
  });

  it("uses k3s's own tools (data/current/bin and bin/aux) when the host has none", async () => {
    const bundle = (host: NodeHost) => {
      const data = join(host.files, 'var/lib/rancher/k3s/data');
      const bin = join(data, '0123abcd', 'bin');
      mkdirSync(join(bin, 'aux'), { recursive: true });
      symlinkSync('0123abcd', join(data, 'current'));
      copyFileSync('/usr/sbin/ipset', join(bin, 'ipset'));
      copyFileSync('/usr/sbin/nft', join(bin, 'aux', 'nft'));
      for (const family of ['iptables', 'ip6tables']) {
        for (const backend of ['legacy', 'nft']) {
          for (const suffix of ['save', 'restore']) {
            symlinkSync(`/usr/sbin/xtables-${backend}-multi`, join(bin, 'aux', `${family}-${backend}-${suffix}`));
          }
        }
      }
    };
    const { host, expected } = prepare(buildNodeState({ ...CALICO_IPIP, backends: ['legacy', 'nft'], ipv6: true }), ['calico'], bundle);
    host.mask(HOST_FIREWALL_TOOLS);
    const run = await runJob(host, 'calico-cleanup');
    host.unmask();
    expect(run.lines.filter((l) => l.startsWith('FAILED'))).toEqual([]);
    expect(run.exitCode).toBe(0);
    expect(snapshotHost(host)).toEqual(expected);
  });

  it('fails loudly when a backend holding rules has no tools, here or in k3s', async () => {
    const { host } = prepare(buildNodeState({ ...CALICO_IPIP, backends: ['legacy', 'nft'] }), ['calico']);
    host.mask(HOST_FIREWALL_TOOLS.filter((t) => t.includes('legacy') || t === 'ipset' || t === 'nft'));
    // Calico v3.29+ may have run its nftables dataplane: without nft that cannot be checked.
    const run = await runJob(host, 'calico-cleanup', { edit: (d) => (d.calico.version = 'v3.30.0') });
    host.unmask();
    expect(run.exitCode).toBe(1);
    expect(run.lines.find((l) => l.startsWith('FAILED iptables-legacy'))).toMatch(
      /not installed.*install iptables on the host, or reboot the node/,
    );
    expect(run.lines.find((l) => l.startsWith('FAILED ipset'))).toMatch(/not installed/);
    expect(run.lines.find((l) => l.startsWith('FAILED nftables'))).toMatch(/nft is not installed/);
    // The IPv6 legacy backend holds nothing: without its tools that is still known.
    expect(run.lines).toContain('ABSENT ip6tables-legacy: the kernel holds no ip6tables-legacy table (its tools are not installed)');
    expect(run.lines.at(-1)).toMatch(/^calico-cleanup: 3 action\(s\) failed$/);
  });
});

/** Every firewall program of the host: iptables in both backends and families, ipset, nft. */
const HOST_FIREWALL_TOOLS = [
  ...['iptables', 'ip6tables'].flatMap((f) =>
    ['', '-save', '-restore', '-legacy', '-legacy-save', '-legacy-restore', '-nft', '-nft-save', '-nft-restore'].map((s) => `${f}${s}`),
  ),
  'ipset',
  'nft',
];

describe.skipIf(why !== undefined)('kube-proxy-cleanup on real kernel state', () => {
  /** Cilium's agent health endpoint on the host, which the Job waits for. */
  const healthy = (host: NodeHost) => {
    mkdirSync(join(host.files, 'run', 'health'), { recursive: true });
    writeFileSync(join(host.files, 'run', 'health', 'healthz'), 'ok\n');
    spawn('ip', ['netns', 'exec', host.netns, 'busybox', 'httpd', '-f', '-p', '127.0.0.1:9879', '-h', join(host.files, 'run', 'health')], {
      stdio: 'ignore',
    });
  };

  for (const [name, options] of [
    ['iptables mode, both backends, dual-stack', { backends: ['legacy', 'nft'], ipv6: true, kubeProxy: 'iptables' }],
    ['nftables mode, dual-stack', { backends: ['nft'], ipv6: true, kubeProxy: 'nftables' }],
  ] as [string, NodeStateOptions][]) {
    it(`${name}: removes kube-proxy's and kube-router's rules and sets, nothing else`, async () => {
      const { host, expected } = prepare(buildNodeState(options), ['kube-proxy', 'kube-router'], healthy);
      await new Promise((r) => setTimeout(r, 200));
      const run = await runJob(host, 'kube-proxy-cleanup');
      expect(run.lines.filter((l) => l.startsWith('FAILED'))).toEqual([]);
      expect(run.exitCode).toBe(0);
      expect(run.lines).toContain('PASS cilium agent on k3s-server-1: healthy');
      expect(snapshotHost(host)).toEqual(expected);
      const again = await runJob(host, 'kube-proxy-cleanup');
      expect(actions(again.lines)).toEqual([]);
    });
  }
});
