/**
 * The workstation scripts in host/, run with bash against stub `kubectl` and `ssh` in an isolated
 * PATH: the stubs log every call and answer like a cluster whose nodes come back after a restart.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { ResolvedConfig } from '../../../lib/config/resolve.ts';
import { hostFiles, k3sDropIn, rebootOrder } from '../../../lib/output/host-files.ts';
import { exampleConfig } from '../../support/helpers.ts';
import { requireTool } from '../../support/tools.ts';

const haveShellcheck = requireTool('shellcheck', 'host scripts shellcheck', 'the scripts were checked with bash -n only');

const mixed = exampleConfig((d) => {
  d.cluster.profile = 'generic';
  d.cilium.autoDirectNodeRoutes = true;
  d.cluster.nodes = [
    { name: 'agent-1', role: 'agent', internalIP: '10.0.0.11' },
    { name: 'server-1', role: 'server', internalIP: '10.0.0.2' },
    { name: 'agent-2', role: 'agent', internalIP: '10.0.0.12' },
    { name: 'server-2', role: 'server', internalIP: '10.0.0.3' },
  ];
});

interface StubOptions {
  /** node-args of a server before its k3s restarts. */
  readonly joinTarget?: string;
  /** An agent that keeps answering on the kube-proxy port. */
  readonly kubeProxyOn?: string;
}

/** Writes the host files to a temp dir and runs one of them with stub kubectl and ssh. */
function run(config: ResolvedConfig, script: string, args: string[], options: StubOptions = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'cilium-cutover-host-'));
  for (const [path, content] of hostFiles(config)) {
    mkdirSync(join(dir, path, '..'), { recursive: true });
    writeFileSync(join(dir, path), content);
  }
  const bin = join(dir, 'bin');
  mkdirSync(bin);
  for (const tool of ['grep', 'sleep', 'cat', 'dirname']) {
    symlinkSync(spawnSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).stdout.trim(), join(bin, tool));
  }
  const log = join(dir, 'calls');
  const ips = Object.fromEntries(config.cluster.nodes.map((n) => [n.name, n.internalIP]));
  const join_ = options.joinTarget ?? '10.0.0.2';
  writeFileSync(
    join(bin, 'kubectl'),
    [
      '#!/bin/bash',
      `echo "kubectl $*" >> ${log}`,
      '[ "$1" = get ] || exit 0',
      'case "$3" in',
      ...Object.entries(ips).map(([name, ip]) => `  ${name}) ip=${ip} ;;`),
      'esac',
      `restarted() { grep -q "@$ip sudo systemctl re" ${log}; }`,
      'case "$*" in',
      '  *bootID*) if restarted; then echo new; else echo old; fi ;;',
      '  *Ready*) echo True ;;',
      `  *node-args*) if restarted; then printf '%s' '["server","--server","https://${join_}:6443","--flannel-backend","none","--disable-network-policy","true","--disable-kube-proxy","true"]'; else printf '%s' '["server","--server","https://${join_}:6443"]'; fi ;;`,
      'esac',
      '',
    ].join('\n'),
  );
  writeFileSync(
    join(bin, 'ssh'),
    [
      '#!/bin/bash',
      `echo "ssh $*" >> ${log}`,
      `case "$*" in *tee*) cat > ${dir}/received-"\${@: -2:1}" ;; esac`,
      `case "$*" in *10256*) case "$*" in *"@${options.kubeProxyOn ? ips[options.kubeProxyOn] : 'none'} "*) exit 0 ;; *) exit 1 ;; esac ;; esac`,
      '',
    ].join('\n'),
  );
  chmodSync(join(bin, 'kubectl'), 0o755);
  chmodSync(join(bin, 'ssh'), 0o755);
  const result = spawnSync('/bin/bash', [join(dir, 'host', script), ...args], {
    env: { PATH: bin, READY_TIMEOUT: '20' },
    encoding: 'utf8',
  });
  const calls = existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n') : [];
  return { ...result, dir, calls, actions: calls.filter((c) => !c.startsWith('kubectl get')) };
}

describe('host files', () => {
  it('orders servers first, then agents', () => {
    expect(rebootOrder(mixed).map((n) => n.name)).toEqual(['server-1', 'server-2', 'agent-1', 'agent-2']);
  });

  it('the drop-in sets the three server flags, and disable-kube-proxy only with kube-proxy replacement', () => {
    expect(parse(k3sDropIn(exampleConfig()))).toEqual({
      'flannel-backend': 'none',
      'disable-network-policy': true,
      'disable-kube-proxy': true,
    });
    expect(parse(k3sDropIn(exampleConfig((d) => (d.cilium.kubeProxyReplacement = false))))).toEqual({
      'flannel-backend': 'none',
      'disable-network-policy': true,
    });
    // Never the CIDRs: a changed service CIDR is fatal.
    expect(Object.keys(parse(k3sDropIn(exampleConfig())))).not.toContain('cluster-cidr');
    expect(Object.keys(parse(k3sDropIn(exampleConfig())))).not.toContain('service-cidr');
  });

  for (const script of ['k3s-rollout.sh', 'rolling-reboot.sh']) {
    it(`${script} passes bash -n`, () => {
      const dir = mkdtempSync(join(tmpdir(), 'cilium-cutover-host-'));
      writeFileSync(join(dir, script), hostFiles(mixed).get(`host/${script}`)!);
      expect(spawnSync('bash', ['-n', join(dir, script)]).status).toBe(0);
    });
    it.skipIf(!haveShellcheck)(`${script} passes shellcheck`, () => {
      const dir = mkdtempSync(join(tmpdir(), 'cilium-cutover-host-'));
      writeFileSync(join(dir, script), hostFiles(mixed).get(`host/${script}`)!);
      expect(spawnSync('shellcheck', ['-S', 'warning', join(dir, script)], { encoding: 'utf8' }).stdout).toBe('');
    });
  }
});

describe('host/k3s-rollout.sh', () => {
  it('installs the drop-in on every server, restarts the first server, the others, then the agents', () => {
    const result = run(mixed, 'k3s-rollout.sh', []);
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    const ssh = (ip: string, cmd: string) => `ssh -o BatchMode=yes -o ConnectTimeout=10 root@${ip} ${cmd}`;
    const install =
      'sudo mkdir -p /etc/rancher/k3s/config.yaml.d && sudo tee /etc/rancher/k3s/config.yaml.d/90-cilium-cutover.yaml >/dev/null';
    expect(result.actions).toEqual([
      ssh('10.0.0.2', install),
      ssh('10.0.0.3', install),
      ssh('10.0.0.2', 'sudo systemctl restart k3s'),
      ssh('10.0.0.3', 'sudo systemctl restart k3s'),
      ssh('10.0.0.11', 'sudo systemctl restart k3s-agent'),
      ssh('10.0.0.11', "ss -ltn | grep -q ':10256 '"),
      ssh('10.0.0.12', 'sudo systemctl restart k3s-agent'),
      ssh('10.0.0.12', "ss -ltn | grep -q ':10256 '"),
    ]);
    for (const ip of ['10.0.0.2', '10.0.0.3']) {
      expect(readFileSync(join(result.dir, `received-root@${ip}`), 'utf8')).toBe(k3sDropIn(mixed));
    }
    // server-2 is restarted only after server-1 runs the new flags.
    const firstRestart = result.calls.indexOf(ssh('10.0.0.2', 'sudo systemctl restart k3s'));
    const secondRestart = result.calls.indexOf(ssh('10.0.0.3', 'sudo systemctl restart k3s'));
    expect(result.calls.slice(firstRestart, secondRestart).some((c) => c.includes('get node server-1') && c.includes('node-args'))).toBe(
      true,
    );
    expect(result.stdout.trim().split('\n').at(-1)).toBe('k3s rollout: done');
  });

  it('refuses when the servers join through another server', () => {
    const result = run(mixed, 'k3s-rollout.sh', [], { joinTarget: '10.0.0.3' });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('FAILED server-2 does not join through server-1 (10.0.0.2)');
    expect(result.actions.some((a) => a.includes('restart'))).toBe(false);
  });

  it('stops at an agent that still runs kube-proxy', () => {
    const result = run(mixed, 'k3s-rollout.sh', [], { kubeProxyOn: 'agent-1' });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('FAILED agent-1 still runs kube-proxy (port 10256)');
    expect(result.actions.some((a) => a.includes('10.0.0.12'))).toBe(false);
  });

  it('resumes with --from: the drop-in still goes everywhere, restarts start at that node', () => {
    const result = run(mixed, 'k3s-rollout.sh', ['--from', 'agent-2']);
    expect(result.status).toBe(0);
    expect(result.actions.filter((a) => a.includes('restart'))).toEqual([
      'ssh -o BatchMode=yes -o ConnectTimeout=10 root@10.0.0.12 sudo systemctl restart k3s-agent',
    ]);
    expect(result.actions.filter((a) => a.includes('tee'))).toHaveLength(2);
  });

  it('dry run prints and runs nothing', () => {
    const result = run(mixed, 'k3s-rollout.sh', ['--dry-run']);
    expect(result.status).toBe(0);
    expect(result.calls).toEqual([]);
    expect(result.stdout).toContain('+ ssh -o BatchMode=yes -o ConnectTimeout=10 root@10.0.0.2 sudo systemctl restart k3s');
    expect(result.stdout.trim().split('\n').at(-1)).toBe('k3s rollout: dry run, nothing was done');
  });
});

describe('host/rolling-reboot.sh', () => {
  it('drains, reboots, waits for a new boot ID and uncordons each node before the next, servers first', () => {
    const result = run(mixed, 'rolling-reboot.sh', []);
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    const node = (name: string, ip: string) => [
      `kubectl drain ${name} --ignore-daemonsets --delete-emptydir-data --timeout=10m`,
      `ssh -o BatchMode=yes -o ConnectTimeout=10 root@${ip} sudo systemctl reboot`,
      `kubectl uncordon ${name}`,
    ];
    expect(result.actions).toEqual([
      ...node('server-1', '10.0.0.2'),
      ...node('server-2', '10.0.0.3'),
      ...node('agent-1', '10.0.0.11'),
      ...node('agent-2', '10.0.0.12'),
    ]);
    expect(result.stdout.trim().split('\n').at(-1)).toBe('rolling reboot: done');
  });

  it('dry run prints the commands in order and runs none', () => {
    const result = run(mixed, 'rolling-reboot.sh', ['--dry-run']);
    expect(result.status).toBe(0);
    expect(result.calls).toEqual([]);
    expect(
      result.stdout
        .split('\n')
        .filter((l) => l.startsWith('+ kubectl drain'))
        .map((c) => c.split(' ')[3]),
    ).toEqual(['server-1', 'server-2', 'agent-1', 'agent-2']);
  });

  it('resumes with --from and rejects an unknown node', () => {
    const resumed = run(mixed, 'rolling-reboot.sh', ['--dry-run', '--from', 'agent-1']);
    expect(resumed.stdout).toContain('skip server-1 (before --from agent-1)');
    expect(resumed.stdout).not.toContain('+ kubectl drain server-2');
    expect(resumed.stdout).toContain('+ kubectl drain agent-2');
    const unknown = run(mixed, 'rolling-reboot.sh', ['--dry-run', '--from', 'nope']);
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toContain('FAILED --from nope: no such node in this plan');
  });
});
