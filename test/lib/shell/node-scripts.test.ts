/**
 * The node scripts, run with bash: their selection functions on fixture outputs written to look
 * like a k3s node with Calico, Flannel, kube-proxy, kube-router, kubelet and Cilium rules, and
 * the whole scripts against stub commands in an isolated PATH and a fake host root.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { enterHostScript, nodeScript, type NodeScript } from '../../../lib/shell/scripts.ts';
import { requireTool } from '../../support/tools.ts';

const fixture = (name: string) => readFileSync(new URL(`../../fixtures/${name}`, import.meta.url), 'utf8');
const IPTABLES = fixture('iptables-save-mixed.txt');
const dir = mkdtempSync(join(tmpdir(), 'cilium-cutover-scripts-'));
for (const name of ['calico-cleanup', 'kube-proxy-cleanup'] as const) {
  writeFileSync(join(dir, `${name}.sh`), nodeScript(name));
}

/** The Calico sets in fixtures/ipset-list-names.txt, in its order. */
const CALICO_SETS = [
  'cali40all-ipam-pools',
  'cali40masq-ipam-pools',
  'cali40all-vxlan-net',
  'cali40all-hosts-net',
  'cali40this-host',
  'cali4t-s:Rxjt7Vh0_qi7bYJ9FhA',
  'cali40s:Rxjt7Vh0_qi7bYJ9FhA',
  'felix-masq-ipam-pools',
];

/** The flush, then delete, lines of a batch for these chains. */
const flushAndDelete = (chains: string[]) => [...chains.map((c) => `-F ${c}`), ...chains.map((c) => `-X ${c}`)];

/** Runs `fn` from a script (sourced, main not run) with `input` on stdin. */
function call(script: NodeScript, fn: string, input: string): string {
  const result = spawnSync('bash', ['-c', `SOURCE_ONLY=true source ${join(dir, `${script}.sh`)}; ${fn}`], { input, encoding: 'utf8' });
  expect(result.stderr).toBe('');
  expect(result.status).toBe(0);
  return result.stdout;
}

describe('script syntax', () => {
  for (const name of ['calico-cleanup', 'kube-proxy-cleanup'] as const) {
    it(`${name}.sh passes bash -n and has its shared functions inlined`, () => {
      const result = spawnSync('bash', ['-n', join(dir, `${name}.sh`)], { encoding: 'utf8' });
      expect(result.stderr).toBe('');
      expect(result.status).toBe(0);
      expect(nodeScript(name)).toContain('chain_removal_batch()');
      expect(nodeScript(name)).not.toContain('# @include');
      expect(nodeScript(name)).toMatch(/^#!\/usr\/bin\/env bash\n/);
      expect(nodeScript(name)).toContain('set -euo pipefail');
    });
  }

  it('enter-host.sh passes sh -n', () => {
    writeFileSync(join(dir, 'enter-host.sh'), enterHostScript());
    expect(spawnSync('sh', ['-n', join(dir, 'enter-host.sh')]).status).toBe(0);
  });

  const haveShellcheck = requireTool('shellcheck', 'node scripts shellcheck', 'the scripts were checked with sh -n only');
  it.skipIf(!haveShellcheck)('passes shellcheck', () => {
    writeFileSync(join(dir, 'enter-host.sh'), enterHostScript());
    const result = spawnSync(
      'shellcheck',
      ['-S', 'warning', ...['calico-cleanup.sh', 'kube-proxy-cleanup.sh', 'enter-host.sh'].map((f) => join(dir, f))],
      {
        encoding: 'utf8',
      },
    );
    expect(result.stdout).toBe('');
    expect(result.status).toBe(0);
  });
});

describe('Calico chain selection', () => {
  it('removes only cali- chains and the jumps into them, table by table', () => {
    expect(call('calico-cleanup', 'chain_removal_batch "$CALICO_CHAINS"', IPTABLES)).toBe(
      [
        '*mangle',
        '-D PREROUTING -m comment --comment "cali:6gwbT8clXdHdC1b1" -j cali-PREROUTING',
        ...flushAndDelete(['cali-PREROUTING', 'cali-from-host-endpoint']),
        'COMMIT',
        '*filter',
        '-D INPUT -m comment --comment "cali:Cz_u1IQiXIMmKD4c" -j cali-INPUT',
        '-D FORWARD -m comment --comment "cali:wUHhoiAYhphO9Mso" -j cali-FORWARD',
        '-D OUTPUT -m comment --comment "cali:tVnHkvAo15HuiPy0" -j cali-OUTPUT',
        ...flushAndDelete([
          'cali-FORWARD',
          'cali-INPUT',
          'cali-OUTPUT',
          'cali-from-hep-forward',
          'cali-from-wl-dispatch',
          'cali-to-wl-dispatch',
          'cali-wl-to-host',
        ]),
        'COMMIT',
        '*nat',
        '-D PREROUTING -m comment --comment "cali:6gwbT8clXdHdC1b1" -j cali-PREROUTING',
        '-D OUTPUT -m comment --comment "cali:tVnHkvAo15HuiPy0" -j cali-OUTPUT',
        '-D POSTROUTING -m comment --comment "cali:O3lYWMrLQYEMJtB5" -j cali-POSTROUTING',
        ...flushAndDelete(['cali-OUTPUT', 'cali-POSTROUTING', 'cali-PREROUTING', 'cali-fip-dnat', 'cali-fip-snat', 'cali-nat-outgoing']),
        'COMMIT',
        '',
      ].join('\n'),
    );
  });

  it('prints nothing for a node without Calico', () => {
    const clean = IPTABLES.split('\n')
      .filter((l) => !/cali/.test(l))
      .join('\n');
    expect(call('calico-cleanup', 'chain_removal_batch "$CALICO_CHAINS"', clean)).toBe('');
  });

  it('selects Calico ipsets only', () => {
    expect(call('calico-cleanup', 'select_ipsets "$CALICO_IPSETS"', fixture('ipset-list-names.txt')).trim().split('\n')).toEqual(
      CALICO_SETS,
    );
  });

  it('selects the routes BIRD installed, blackholes included', () => {
    expect(call('calico-cleanup', 'select_bird_routes', fixture('ip-route-show.txt')).trim().split('\n')).toEqual([
      'blackhole 192.168.12.0/26 proto bird',
      '192.168.77.128/26 via 10.0.0.3 dev tunl0 proto bird onlink',
      '192.168.201.0/26 via 10.0.0.4 dev tunl0 proto bird onlink',
    ]);
  });
});

describe('kube-proxy chain selection', () => {
  it("removes kube-proxy's chains by name and keeps the kubelet's, kube-router's, Flannel's and Cilium's", () => {
    const batch = call('kube-proxy-cleanup', 'chain_removal_batch "$KUBE_PROXY_CHAINS"', IPTABLES);
    expect(batch).toBe(
      [
        '*mangle',
        '-F KUBE-PROXY-CANARY',
        '-X KUBE-PROXY-CANARY',
        'COMMIT',
        '*filter',
        '-D INPUT -m conntrack --ctstate NEW -m comment --comment "kubernetes load balancer firewall" -j KUBE-PROXY-FIREWALL',
        '-D INPUT -m comment --comment "kubernetes health check service ports" -j KUBE-NODEPORTS',
        '-D INPUT -m conntrack --ctstate NEW -m comment --comment "kubernetes externally-visible service portals" -j KUBE-EXTERNAL-SERVICES',
        '-D FORWARD -m conntrack --ctstate NEW -m comment --comment "kubernetes load balancer firewall" -j KUBE-PROXY-FIREWALL',
        '-D FORWARD -m comment --comment "kubernetes forwarding rules" -j KUBE-FORWARD',
        '-D FORWARD -m conntrack --ctstate NEW -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
        '-D OUTPUT -m conntrack --ctstate NEW -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
        ...flushAndDelete([
          'KUBE-EXTERNAL-SERVICES',
          'KUBE-FORWARD',
          'KUBE-NODEPORTS',
          'KUBE-PROXY-CANARY',
          'KUBE-PROXY-FIREWALL',
          'KUBE-SERVICES',
        ]),
        'COMMIT',
        '*nat',
        '-D PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
        '-D OUTPUT -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
        '-D POSTROUTING -m comment --comment "kubernetes postrouting rules" -j KUBE-POSTROUTING',
        ...flushAndDelete([
          'KUBE-EXT-UQMCRMJZLI3FTLDP',
          'KUBE-MARK-DROP',
          'KUBE-MARK-MASQ',
          'KUBE-NODEPORTS',
          'KUBE-POSTROUTING',
          'KUBE-PROXY-CANARY',
          'KUBE-SEP-IT2ZTR26TO4XFPTO',
          'KUBE-SERVICES',
          'KUBE-SVC-NPX46M4PTMTKRN6Y',
          'KUBE-SVC-UQMCRMJZLI3FTLDP',
        ]),
        'COMMIT',
        '',
      ].join('\n'),
    );
    for (const kept of [
      'KUBE-FIREWALL',
      'KUBE-KUBELET-CANARY',
      'KUBE-IPTABLES-HINT',
      'KUBE-ROUTER-',
      'KUBE-NWPLCY-',
      'KUBE-POD-FW-',
      'FLANNEL-',
      'CILIUM_',
      'cali-',
    ]) {
      expect(batch, kept).not.toContain(kept);
    }
  });

  it('keeps a kube-proxy chain that a chain of another owner still jumps to, and what it jumps to', () => {
    const input = [
      '*nat',
      ':POSTROUTING ACCEPT [0:0]',
      ':KUBE-MARK-MASQ - [0:0]',
      ':KUBE-POSTROUTING - [0:0]',
      ':CUSTOM-SNAT - [0:0]',
      '-A POSTROUTING -j KUBE-POSTROUTING',
      '-A CUSTOM-SNAT -j KUBE-MARK-MASQ',
      '-A KUBE-POSTROUTING -j KUBE-MARK-MASQ',
      'COMMIT',
      '',
    ].join('\n');
    expect(call('kube-proxy-cleanup', 'chain_removal_batch "$KUBE_PROXY_CHAINS"', input)).toBe(
      [
        '#KEPT nat KUBE-MARK-MASQ CUSTOM-SNAT',
        '*nat',
        '-D POSTROUTING -j KUBE-POSTROUTING',
        '-F KUBE-POSTROUTING',
        '-X KUBE-POSTROUTING',
        'COMMIT',
        '',
      ].join('\n'),
    );
  });

  it("selects kube-router's network-policy chains and ipsets as their own step", () => {
    const batch = call('kube-proxy-cleanup', 'chain_removal_batch "$KUBE_ROUTER_CHAINS"', IPTABLES);
    expect(batch.split('\n').filter((l) => l.startsWith('-X '))).toEqual([
      '-X KUBE-NWPLCY-DEFAULT',
      '-X KUBE-POD-FW-4FYUSGPYAXZDA6WN',
      '-X KUBE-ROUTER-FORWARD',
      '-X KUBE-ROUTER-INPUT',
      '-X KUBE-ROUTER-OUTPUT',
    ]);
    expect(batch.split('\n').filter((l) => l.startsWith('-D '))).toEqual([
      '-D INPUT -m comment --comment "kube-router netpol - 4IA2OSFRMVNDXBVV" -j KUBE-ROUTER-INPUT',
      '-D FORWARD -m comment --comment "kube-router netpol - TEMCG2JMHZYE7H7T" -j KUBE-ROUTER-FORWARD',
      '-D OUTPUT -m comment --comment "kube-router netpol - VEAAIY32XVBHCSCY" -j KUBE-ROUTER-OUTPUT',
    ]);
    expect(call('kube-proxy-cleanup', 'select_ipsets "$KUBE_ROUTER_IPSETS"', fixture('ipset-list-names.txt')).trim().split('\n')).toEqual([
      'KUBE-SRC-ECH4TYH5VFWKAMO3',
      'KUBE-DST-UQO6AVK3J3WBA2RL',
    ]);
  });
});

/**
 * A fake host: stub iptables-nft-save/-restore, ipset and ip that keep their state in files, a
 * fake root with Calico's files, and a PATH with nothing else of the machine's networking tools.
 */
function fakeHost() {
  const root = mkdtempSync(join(tmpdir(), 'cilium-cutover-host-'));
  const bin = join(root, 'stub-bin');
  const state = join(root, 'state');
  mkdirSync(bin);
  mkdirSync(state);
  // Only basic tools from the machine; no real iptables, ipset or ip can be reached.
  for (const tool of ['awk', 'grep', 'sed', 'rm', 'mv', 'wc', 'head', 'tr', 'cat', 'mkdir', 'hostname', 'sort']) {
    const found = spawnSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).stdout.trim();
    if (found.startsWith('/')) {
      symlinkSync(found, join(bin, tool));
    }
  }
  const stub = (name: string, body: string) => {
    writeFileSync(join(bin, name), `#!/bin/bash\nSTATE=${state}\n${body}\n`);
    chmodSync(join(bin, name), 0o755);
  };
  writeFileSync(join(state, 'iptables'), IPTABLES);
  writeFileSync(join(state, 'ipsets'), fixture('ipset-list-names.txt'));
  writeFileSync(join(state, 'routes'), fixture('ip-route-show.txt'));
  writeFileSync(join(state, 'links'), 'lo\neth0\nenp7s0\ntunl0\ncilium_host\n');
  stub('iptables-nft-save', 'cat "$STATE/iptables"');
  // Applies a --noflush batch the way iptables-restore would: -D removes the rule, -X the chain.
  stub(
    'iptables-nft-restore',
    `batch="$(cat)"; printf '%s\\n---\\n' "$batch" >> "$STATE/restore-calls"
awk -v batch="$batch" 'BEGIN { n = split(batch, lines, "\\n"); for (i = 1; i <= n; i++) { l = lines[i]
    if (l ~ /^\\*/) t = substr(l, 2); else if (l ~ /^-D /) del[t, substr(l, 4)] = 1; else if (l ~ /^-X /) gone[t, substr(l, 4)] = 1 } }
  /^\\*/ { t = substr($0, 2) }
  /^:/ && ((t, substr($1, 2)) in gone) { next }
  /^-A / && (((t, substr($0, 4)) in del) || ((t, $2) in gone)) { next }
  { print }' "$STATE/iptables" > "$STATE/iptables.new" && mv "$STATE/iptables.new" "$STATE/iptables"`,
  );
  stub(
    'ipset',
    `case "$1" in list) cat "$STATE/ipsets" ;; destroy) grep -vxF "$2" "$STATE/ipsets" > "$STATE/ipsets.new"; mv "$STATE/ipsets.new" "$STATE/ipsets" ;; esac`,
  );
  stub(
    'ip',
    `echo "ip $*" >> "$STATE/ip-calls"
case "$*" in
  "-4 route show") cat "$STATE/routes" ;;
  "-4 route flush proto bird") grep -v ' proto bird' "$STATE/routes" > "$STATE/routes.new"; mv "$STATE/routes.new" "$STATE/routes" ;;
  "link show "*) grep -qxF "$3" "$STATE/links" ;;
  "link delete "*) grep -vxF "$3" "$STATE/links" > "$STATE/links.new"; mv "$STATE/links.new" "$STATE/links" ;;
  "addr flush dev tunl0"|"link set tunl0 down") ;;
  *) exit 1 ;;
esac`,
  );
  stub(
    'umount',
    `echo "umount $*" >> "$STATE/umount-calls"; grep -v " /run/calico/cgroup " "${root}/proc/self/mounts" > "$STATE/mounts.new"; mv "$STATE/mounts.new" "${root}/proc/self/mounts"`,
  );
  const files = [
    'etc/cni/net.d/10-calico.conflist',
    'etc/cni/net.d/10-calico.conflist.cilium_bak',
    'etc/cni/net.d/calico-kubeconfig',
    'etc/cni/net.d/05-cilium.conflist',
    'opt/cni/bin/calico',
    'opt/cni/bin/calico-ipam',
    'opt/cni/bin/loopback',
    'opt/cni/bin/portmap',
    'run/calico/bird.ctl',
    'var/lib/calico/nodename',
    'run/xtables.lock',
    'sys/fs/bpf/tc/globals/cilium_lxc',
  ];
  for (const f of files) {
    mkdirSync(join(root, f, '..'), { recursive: true });
    writeFileSync(join(root, f), 'x');
  }
  mkdirSync(join(root, 'run/calico/cgroup'), { recursive: true });
  mkdirSync(join(root, 'proc/self'), { recursive: true });
  writeFileSync(
    join(root, 'proc/self/mounts'),
    'cgroup2 /sys/fs/cgroup cgroup2 rw 0 0\nnone /run/calico/cgroup cgroup2 rw 0 0\nbpf /sys/fs/bpf bpf rw 0 0\n',
  );
  const run = (script: NodeScript, env: Record<string, string> = {}) =>
    spawnSync('/bin/bash', [join(dir, `${script}.sh`)], {
      env: { PATH: bin, HOST_ROOT: root, NODE_NAME: 'node-a', ...env },
      encoding: 'utf8',
    });
  const read = (f: string) => (existsSync(join(state, f)) ? readFileSync(join(state, f), 'utf8') : '');
  return { root, run, read, exists: (f: string) => existsSync(join(root, f)) };
}

describe('calico-cleanup.sh on a fake host', () => {
  let host: ReturnType<typeof fakeHost>;
  beforeEach(() => {
    host = fakeHost();
  });

  it('dry run prints what it would remove and changes nothing', () => {
    const result = host.run('calico-cleanup', { DRY_RUN: 'true' });
    expect(result.status).toBe(0);
    expect(result.stdout).toContain('WOULD-REMOVE /etc/cni/net.d/10-calico.conflist\n');
    expect(result.stdout).toContain('WOULD-REMOVE iptables-nft: 15 Calico chains and 7 jumps into them:');
    expect(result.stdout).toContain('WOULD-REMOVE ipset cali40all-ipam-pools');
    expect(result.stdout).toContain('  blackhole 192.168.12.0/26 proto bird');
    expect(result.stdout.trim().split('\n').at(-1)).toBe('calico-cleanup: done (dry run: nothing was changed)');
    expect(host.exists('etc/cni/net.d/10-calico.conflist')).toBe(true);
    expect(host.read('restore-calls')).toBe('');
    expect(host.read('ipsets')).toContain('cali40all-ipam-pools');
    expect(host.read('routes')).toContain('proto bird');
    expect(host.read('umount-calls')).toBe('');
  });

  it('removes what Calico left, reports the backends it cannot inspect, and keeps everything else', () => {
    const result = host.run('calico-cleanup');
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    const lines = result.stdout.trim().split('\n');
    expect(lines).toEqual([
      'calico-cleanup on node-a',
      'REMOVED /etc/cni/net.d/10-calico.conflist',
      'REMOVED /etc/cni/net.d/10-calico.conflist.cilium_bak',
      'REMOVED /etc/cni/net.d/calico-kubeconfig',
      'ABSENT /etc/cni/net.d/calico-tls',
      'REMOVED /opt/cni/bin/calico',
      'REMOVED /opt/cni/bin/calico-ipam',
      'CANNOT-INSPECT iptables-legacy: its tools are not installed on this host (Calico rules there, if any, stay until reboot)',
      'REMOVED iptables-nft: 15 Calico chains and 7 jumps into them',
      'CANNOT-INSPECT ip6tables-legacy: its tools are not installed on this host (Calico rules there, if any, stay until reboot)',
      'CANNOT-INSPECT ip6tables-nft: its tools are not installed on this host (Calico rules there, if any, stay until reboot)',
      ...CALICO_SETS.map((s) => `REMOVED ipset ${s}`),
      'REMOVED routes: 3 with proto bird',
      'REMOVED addresses of tunl0 and set it down (it disappears at the next reboot)',
      'ABSENT interface vxlan.calico',
      'ABSENT interface vxlan-v6.calico',
      'ABSENT interface wireguard.cali',
      'ABSENT interface wg-v6.cali',
      'REMOVED mount /run/calico/cgroup',
      'REMOVED /run/calico',
      'REMOVED /var/lib/calico',
      'calico-cleanup: done',
    ]);
    // Untouched: Cilium's CNI config, generic plugins, bpffs, the xtables lock, foreign rules and sets.
    for (const kept of [
      'etc/cni/net.d/05-cilium.conflist',
      'opt/cni/bin/loopback',
      'opt/cni/bin/portmap',
      'sys/fs/bpf/tc/globals/cilium_lxc',
      'run/xtables.lock',
    ]) {
      expect(host.exists(kept), kept).toBe(true);
    }
    const rules = host.read('iptables');
    expect(rules).not.toMatch(/cali-/);
    for (const kept of ['KUBE-FIREWALL', 'KUBE-SERVICES', 'KUBE-ROUTER-INPUT', 'FLANNEL-FWD', 'CILIUM_FORWARD']) {
      expect(rules, kept).toContain(kept);
    }
    expect(host.read('ipsets').trim().split('\n')).toEqual([
      'KUBE-SRC-ECH4TYH5VFWKAMO3',
      'KUBE-DST-UQO6AVK3J3WBA2RL',
      'cilium_node_set_v4',
      'kube-router-pod-subnets',
      'calico-lookalike',
    ]);
    expect(host.read('routes')).not.toContain('proto bird');
    expect(host.read('routes')).toContain('10.99.0.0/16 via 10.0.0.1 dev enp7s0 proto static');
    expect(host.read('ip-calls')).toContain('ip addr flush dev tunl0\nip link set tunl0 down\n');
  });

  it('is idempotent: a second run finds everything absent', () => {
    host.run('calico-cleanup');
    const second = host.run('calico-cleanup');
    expect(second.status).toBe(0);
    const lines = second.stdout.trim().split('\n');
    expect(lines.filter((l) => l.startsWith('REMOVED'))).toEqual([
      'REMOVED addresses of tunl0 and set it down (it disappears at the next reboot)',
    ]);
    expect(lines).toContain('ABSENT iptables-nft: no Calico chains');
    expect(lines).toContain('ABSENT ipsets: no Calico sets');
    expect(lines).toContain('ABSENT routes: none with proto bird');
    expect(lines).toContain('ABSENT /var/lib/calico');
  });

  it('keeps BIRD routes when told to', () => {
    const result = host.run('calico-cleanup', { FLUSH_BIRD_ROUTES: 'false' });
    expect(result.stdout).toContain('KEPT routes: 3 with proto bird (cleanup.birdRoutes is false)');
    expect(host.read('routes')).toContain('proto bird');
  });
});

describe('kube-proxy-cleanup.sh on a fake host', () => {
  it('removes kube-proxy rules, and kube-router rules and ipsets only when asked', () => {
    const host = fakeHost();
    const without = host.run('kube-proxy-cleanup', { KUBE_ROUTER_POLICY: 'false' });
    expect(without.status).toBe(0);
    expect(without.stdout).toContain('REMOVED iptables-nft: 17 kube-proxy chains and 10 jumps into them');
    expect(without.stdout).toContain('step kube-router-policy: skipped (cleanup.kubeRouterPolicy is false)');
    expect(host.read('iptables')).toContain('KUBE-ROUTER-INPUT');
    expect(host.read('iptables')).toContain('KUBE-FIREWALL');
    expect(host.read('iptables')).not.toContain('KUBE-SERVICES');

    const withRouter = host.run('kube-proxy-cleanup', { KUBE_ROUTER_POLICY: 'true' });
    expect(withRouter.status).toBe(0);
    expect(withRouter.stdout).toContain('ABSENT iptables-nft: no kube-proxy chains');
    expect(withRouter.stdout).toContain('REMOVED iptables-nft: 5 kube-router chains and 3 jumps into them');
    expect(withRouter.stdout).toContain('REMOVED ipset KUBE-SRC-ECH4TYH5VFWKAMO3');
    expect(host.read('iptables')).not.toContain('KUBE-ROUTER');
    expect(host.read('iptables')).toContain('KUBE-FIREWALL');
    expect(host.read('iptables')).toContain('KUBE-KUBELET-CANARY');
    expect(host.read('ipsets')).toContain('cali40all-ipam-pools');
  });

  it('fails (exit 1) when a backend refuses the batch', () => {
    const host = fakeHost();
    writeFileSync(
      join(host.root, 'stub-bin', 'iptables-nft-restore'),
      '#!/bin/bash\ncat >/dev/null; echo "iptables-restore: line 3 failed" >&2; exit 1\n',
    );
    const result = host.run('kube-proxy-cleanup');
    expect(result.status).toBe(1);
    expect(result.stdout).toContain('FAILED iptables-nft: iptables-nft-restore refused the removal of the kube-proxy chains');
    expect(result.stdout.trim().split('\n').at(-1)).toBe('kube-proxy-cleanup: 1 action(s) failed');
  });
});
