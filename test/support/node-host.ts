/**
 * A node's host for tests that run node programs on real kernel state: a network namespace, a
 * mount namespace held open by one process, and in it a root directory made of the machine's
 * programs (read-only) and the node's own `/etc`, `/opt`, `/run` and `/var` (a directory of the
 * test's). Nothing of the machine's own tables, routes, mounts or /run is touched: every command
 * runs in the namespaces made here, chrooted to that root.
 *
 * The simulated cluster's nodes (scripts/sim-cluster) and the real-kernel suite
 * (test/kernel) both use it; a privileged hostPID pod reaches it through `nsenterStandIn`, which
 * stands in for `nsenter -t 1` (PID 1 of the machine is not the node).
 *
 * Facts of this kernel the harness works around: it may lack CONFIG_NET_IPIP and CONFIG_DUMMY, so a
 * real `tunl0` cannot be made (tests use a stand-in device of another type under that name).
 */
import { spawn, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { closeSync, copyFileSync, cpSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

/** The machine's directories of programs and libraries, seen read-only on the host. */
export const PROGRAM_DIRS = ['bin', 'sbin', 'lib', 'lib64', 'lib32', 'usr'];
/** The node's own directories (writable, kept in `files`). */
const NODE_DIRS = ['etc', 'opt', 'run', 'var'];
/**
 * Files of the machine's /etc a host needs for its programs: user and protocol names, route
 * protocol names for `ip`, and the alternatives that pick `awk` and the iptables backend.
 */
const MACHINE_ETC = ['passwd', 'group', 'nsswitch.conf', 'protocols', 'services', 'hosts', 'iproute2', 'alternatives'];

export interface NodeHostOptions {
  /** A directory of the test's: the node's files go to `<dir>/files`, its root is `<dir>/root`. */
  readonly dir: string;
  /** The network namespace. */
  readonly netns: string;
  /** Make the namespace here (and delete it in `stop`); false when the caller made it. */
  readonly createNetns: boolean;
  /** Programs the host does not have: masked in /usr/bin and /usr/sbin. */
  readonly missingTools?: readonly string[];
}

export interface NodeHost {
  readonly netns: string;
  /** The node's own file system: `etc`, `opt`, `run`, `var` below it are the host's. */
  readonly files: string;
  /** The host's root directory, as a path in its mount namespace. */
  readonly root: string;
  /** The process that holds the mount namespace. */
  readonly pid: number;
  /** Runs a command on the host; `env` replaces the environment (PATH defaults to the usual one). */
  run(command: readonly string[], options?: { input?: string; env?: Record<string, string> }): SpawnSyncReturns<string>;
  /** Like `run`, but the command's failure throws with what it printed. */
  must(command: readonly string[], input?: string): string;
  /** Takes programs away from the host's /usr/bin and /usr/sbin. */
  mask(tools: readonly string[]): void;
  /** Gives back every masked program. */
  unmask(): void;
  /** Ends the holder; deletes the namespace when it was made here. */
  stop(): void;
}

export const HOST_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

function quote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

/** Shell lines that bind the machine's directories (its programs by default) read-only below `target`. */
export function bindProgramDirs(target: string, dirs: readonly string[] = PROGRAM_DIRS): string[] {
  return dirs.map(
    (d) =>
      `if [ -L /${d} ]; then ln -s "$(readlink /${d})" "${target}/${d}"; elif [ -d /${d} ]; then mkdir -p "${target}/${d}"; mount --rbind -o ro /${d} "${target}/${d}"; fi`,
  );
}

/** Makes the host and waits until its mount namespace is ready. */
export function startNodeHost(options: NodeHostOptions): NodeHost {
  const { dir, netns } = options;
  const files = join(dir, 'files');
  const root = join(dir, 'root');
  for (const d of NODE_DIRS) {
    mkdirSync(join(files, d), { recursive: true });
  }
  // util-linux's mount table of its own, which every host has (umount writes there).
  mkdirSync(join(files, 'run', 'mount'), { recursive: true });
  for (const entry of MACHINE_ETC.filter((e) => existsSync(`/etc/${e}`))) {
    if (existsSync(join(files, 'etc', entry))) {
      continue;
    }
    if (entry === 'iproute2' || entry === 'alternatives') {
      cpSync(`/etc/${entry}`, join(files, 'etc', entry), { recursive: true, verbatimSymlinks: true });
    } else {
      copyFileSync(`/etc/${entry}`, join(files, 'etc', entry));
    }
  }
  mkdirSync(root, { recursive: true });
  const ready = join(dir, 'ready');
  rmSync(ready, { force: true });
  const errors = join(dir, 'host.err');
  const lines = [
    'set -eu',
    `R=${quote(root)}`,
    'mount -t tmpfs -o mode=755 tmpfs "$R"',
    ...bindProgramDirs('$R'),
    'mkdir -p "$R/proc" "$R/dev" "$R/sys" "$R/tmp"',
    'chmod 1777 "$R/tmp"',
    'mount --rbind /proc "$R/proc"',
    'mount --rbind /dev "$R/dev"',
    'mount --rbind /sys "$R/sys"',
    ...NODE_DIRS.flatMap((d) => [`mkdir -p "$R/${d}"`, `mount --bind ${quote(join(files, d))} "$R/${d}"`]),
    // /usr/bin and /usr/sbin as overlays on the machine's, so a test can take programs away.
    `O=${quote(join(dir, 'overlay'))}`,
    'mkdir -p "$O"',
    'mount -t tmpfs tmpfs "$O"',
    ...['bin', 'sbin'].flatMap((d) => [
      `mkdir -p "$O/${d}/upper" "$O/${d}/work"`,
      `mount -t overlay overlay -o lowerdir=/usr/${d},upperdir="$O/${d}/upper",workdir="$O/${d}/work" "$R/usr/${d}"`,
    ]),
    `echo $$ > ${quote(ready)}.tmp`,
    `mv ${quote(ready)}.tmp ${quote(ready)}`,
    'exec sleep infinity',
  ];
  writeFileSync(join(dir, 'host.sh'), `${lines.join('\n')}\n`);
  if (options.createNetns) {
    mustRun('ip', ['netns', 'add', netns]);
    mustRun('ip', ['-n', netns, 'link', 'set', 'lo', 'up']);
  }
  // What `ip netns exec`, unshare and the script say goes to host.err.
  const errorFile = openSync(errors, 'w');
  const holder = spawn('ip', ['netns', 'exec', netns, 'unshare', '--mount', '--propagation', 'private', 'sh', join(dir, 'host.sh')], {
    stdio: ['ignore', 'ignore', errorFile],
    detached: true,
  });
  closeSync(errorFile);
  holder.unref();
  // Waited for synchronously: the callers are synchronous.
  const deadline = Date.now() + 10_000;
  while (!existsSync(ready)) {
    if (Date.now() > deadline) {
      const said = existsSync(errors) ? readFileSync(errors, 'utf8').trim() : '';
      throw new Error(`the node host in ${netns} did not start within 10s: ${said || 'no output'}`);
    }
    spawnSync('sleep', ['0.02']);
  }
  const pid = Number(readFileSync(ready, 'utf8').trim());

  const masked: string[] = [];
  const inMountNs = (script: string) => mustRun('nsenter', ['-t', String(pid), '-m', '--', 'sh', '-c', script]);
  const run: NodeHost['run'] = (command, runOptions = {}) =>
    spawnSync('nsenter', ['-t', String(pid), '-m', '-n', '--', 'chroot', root, 'env', '-i', ...envArgs(runOptions.env), ...command], {
      encoding: 'utf8',
      input: runOptions.input,
      maxBuffer: 256 * 1024 * 1024,
    });
  const host: NodeHost = {
    netns,
    files,
    root,
    pid,
    run,
    mask(tools) {
      for (const tool of tools) {
        for (const d of ['usr/bin', 'usr/sbin']) {
          const path = join(root, d, tool);
          const away = join(root, d, `.masked.${tool}`);
          inMountNs(`if [ -e ${quote(path)} ] || [ -L ${quote(path)} ]; then mv ${quote(path)} ${quote(away)}; fi`);
          masked.push(path);
        }
      }
    },
    unmask() {
      for (const path of masked.splice(0)) {
        const away = join(dirname(path), `.masked.${basename(path)}`);
        inMountNs(`if [ -e ${quote(away)} ] || [ -L ${quote(away)} ]; then mv ${quote(away)} ${quote(path)}; fi`);
      }
    },
    must(command, input) {
      const result = run(command, { input });
      if (result.status !== 0) {
        throw new Error(`${command.join(' ')} on the host in ${netns}: ${(result.stderr || result.stdout).trim()}`);
      }
      return result.stdout;
    },
    stop() {
      spawnSync('kill', ['-KILL', String(pid)]);
      if (options.createNetns) {
        const pids = spawnSync('ip', ['netns', 'pids', netns], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean);
        pids.forEach((p) => spawnSync('kill', ['-KILL', p]));
        spawnSync('ip', ['netns', 'delete', netns]);
      }
    },
  };
  host.mask(options.missingTools ?? []);
  return host;
}

function envArgs(env: Record<string, string> | undefined): string[] {
  const all = { PATH: HOST_PATH, HOME: '/root', ...env };
  return Object.entries(all).map(([k, v]) => `${k}=${v}`);
}

function mustRun(command: string, args: string[]): void {
  const result = spawnSync(command, args, { encoding: 'utf8' });
  if (result.status !== 0) {
    throw new Error(`${command} ${args.join(' ')}: ${result.stderr.trim()}`);
  }
}

/**
 * The stand-in for `nsenter -t 1 ...` inside a hostPID pod of this host: whatever namespaces are
 * asked for, the command after `--` runs in the host's mount and network namespaces, chrooted to
 * its root, with the caller's environment. The pod needs the machine's /proc (the holder's PID).
 */
export function nsenterStandIn(host: Pick<NodeHost, 'pid' | 'root'>): string {
  return [
    '#!/bin/sh',
    'while [ $# -gt 0 ] && [ "$1" != "--" ]; do shift; done',
    '[ "${1:-}" = "--" ] && shift',
    `exec /usr/bin/nsenter -t ${host.pid} -m -n -- /usr/sbin/chroot ${quote(host.root)} "$@"`,
    '',
  ].join('\n');
}
