import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { rebootOrder, rollingRebootScript } from '../lib/output/host-files.ts';
import { exampleConfig } from './helpers.ts';

const mixed = exampleConfig((d) => {
  d.cluster.profile = 'generic';
  d.cluster.nodes = [
    { name: 'agent-1', role: 'agent', internalIP: '10.0.0.11' },
    { name: 'server-1', role: 'server', internalIP: '10.0.0.2' },
    { name: 'agent-2', role: 'agent', internalIP: '10.0.0.12' },
    { name: 'server-2', role: 'server', internalIP: '10.0.0.3' },
  ];
});

/** Runs the script with stub kubectl and ssh; kubectl reports a new boot ID once the node was rebooted. */
function run(args: string[]) {
  const dir = mkdtempSync(join(tmpdir(), 'cilium-cutover-reboot-'));
  const bin = join(dir, 'bin');
  mkdirSync(bin);
  for (const tool of ['grep', 'sleep']) {
    symlinkSync(spawnSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).stdout.trim(), join(bin, tool));
  }
  const log = join(dir, 'calls');
  const ips = Object.fromEntries(mixed.cluster.nodes.map((n) => [n.name, n.internalIP]));
  // kubectl: the boot ID changes once ssh was asked to reboot the node's address; Ready is always True.
  writeFileSync(
    join(bin, 'kubectl'),
    [
      '#!/bin/bash',
      `echo "kubectl $*" >> ${log}`,
      '[ "$1" = get ] || exit 0',
      'case "$3" in',
      ...Object.entries(ips).map(([name, ip]) => `  ${name}) ip=${ip} ;;`),
      'esac',
      'case "$*" in',
      `  *bootID*) if grep -q "@$ip " ${log}; then echo new; else echo old; fi ;;`,
      '  *Ready*) echo True ;;',
      'esac',
      '',
    ].join('\n'),
  );
  writeFileSync(join(bin, 'ssh'), `#!/bin/bash\necho "ssh $*" >> ${log}\n`);
  chmodSync(join(bin, 'kubectl'), 0o755);
  chmodSync(join(bin, 'ssh'), 0o755);
  writeFileSync(join(dir, 'script.sh'), rollingRebootScript(mixed));
  const result = spawnSync('/bin/bash', [join(dir, 'script.sh'), ...args], { env: { PATH: bin, READY_TIMEOUT: '20' }, encoding: 'utf8' });
  let calls = '';
  try {
    calls = readFileSync(log, 'utf8');
  } catch {
    calls = '';
  }
  return { ...result, calls: calls.trim().split('\n').filter(Boolean) };
}

describe('host/rolling-reboot.sh', () => {
  it('reboots servers first, one at a time, then agents', () => {
    expect(rebootOrder(mixed).map((n) => n.name)).toEqual(['server-1', 'server-2', 'agent-1', 'agent-2']);
    expect(rollingRebootScript(mixed)).toContain(
      'NODES=(\n  "server server-1 10.0.0.2"\n  "server server-2 10.0.0.3"\n  "agent agent-1 10.0.0.11"\n  "agent agent-2 10.0.0.12"\n)',
    );
  });

  it('passes bash -n (and shellcheck where installed)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cilium-cutover-reboot-'));
    writeFileSync(join(dir, 's.sh'), rollingRebootScript(mixed));
    expect(spawnSync('bash', ['-n', join(dir, 's.sh')]).status).toBe(0);
    if (spawnSync('shellcheck', ['--version']).status === 0) {
      expect(spawnSync('shellcheck', ['-S', 'warning', join(dir, 's.sh')], { encoding: 'utf8' }).stdout).toBe('');
    }
  });

  it('dry run prints the commands in order and runs none', () => {
    const result = run(['--dry-run']);
    expect(result.status).toBe(0);
    expect(result.calls).toEqual([]);
    const commands = result.stdout
      .split('\n')
      .filter((l) => l.startsWith('+ kubectl drain') || l.startsWith('+ kubectl uncordon') || l.startsWith('+ ssh'));
    expect(commands.slice(0, 3)).toEqual([
      '+ kubectl drain server-1 --ignore-daemonsets --delete-emptydir-data --timeout=10m',
      '+ ssh -o BatchMode=yes -o ConnectTimeout=10 root@10.0.0.2 sudo systemctl reboot',
      '+ kubectl uncordon server-1',
    ]);
    expect(commands.filter((c) => c.startsWith('+ kubectl drain')).map((c) => c.split(' ')[3])).toEqual([
      'server-1',
      'server-2',
      'agent-1',
      'agent-2',
    ]);
  });

  it('drains, reboots, waits for a new boot ID and uncordons each node before the next', () => {
    const result = run([]);
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    const actions = result.calls.filter((c) => !c.startsWith('kubectl get'));
    expect(actions.slice(0, 6)).toEqual([
      'kubectl drain server-1 --ignore-daemonsets --delete-emptydir-data --timeout=10m',
      'ssh -o BatchMode=yes -o ConnectTimeout=10 root@10.0.0.2 sudo systemctl reboot',
      'kubectl uncordon server-1',
      'kubectl drain server-2 --ignore-daemonsets --delete-emptydir-data --timeout=10m',
      'ssh -o BatchMode=yes -o ConnectTimeout=10 root@10.0.0.3 sudo systemctl reboot',
      'kubectl uncordon server-2',
    ]);
    expect(result.stdout.trim().split('\n').at(-1)).toBe('rolling reboot: done');
  });

  it('resumes with --from and rejects an unknown node', () => {
    const resumed = run(['--dry-run', '--from', 'agent-1']);
    expect(resumed.stdout).toContain('skip server-1 (before --from agent-1)');
    expect(resumed.stdout).not.toContain('+ kubectl drain server-2');
    expect(resumed.stdout).toContain('+ kubectl drain agent-2');
    const unknown = run(['--dry-run', '--from', 'nope']);
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toContain('FAILED --from nope: no such node in this plan');
  });
});
