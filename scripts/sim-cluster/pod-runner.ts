/**
 * Runs one container of a pod the way a kubelet would, with the real bundled program: in its
 * node's network namespace (every pod the tool generates that talks to the API runs with
 * hostNetwork), in a private mount namespace whose root holds the host's programs read-only and the
 * pod's volumes at their mount paths: ConfigMaps, the ServiceAccount token from TokenRequest with
 * `ca.crt` and `namespace`, hostPath volumes from the node's own root directory. The environment
 * is the pod spec's (values and the downward-API fields it uses), the user the container's. A
 * hostPID pod's `nsenter -t 1` reaches its node's host (test/support/node-host.ts).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { bindProgramDirs, nsenterStandIn, type NodeHost } from '../../test/support/node-host.ts';
import type { SimApi } from './api.ts';

/** The parts of a pod the runner reads. */
export interface PodJson {
  readonly metadata: { readonly name: string; readonly namespace: string; readonly uid: string };
  readonly spec: {
    readonly nodeName?: string;
    readonly serviceAccountName?: string;
    readonly automountServiceAccountToken?: boolean;
    readonly hostNetwork?: boolean;
    readonly hostPID?: boolean;
    readonly containers: readonly ContainerJson[];
    readonly initContainers?: readonly ContainerJson[];
    readonly volumes?: readonly {
      readonly name: string;
      readonly configMap?: { readonly name: string };
      readonly hostPath?: { readonly path: string };
    }[];
  };
  readonly status?: { readonly phase?: string; readonly podIP?: string };
}

export interface ContainerJson {
  readonly name: string;
  readonly image: string;
  readonly command?: readonly string[];
  readonly args?: readonly string[];
  readonly env?: readonly {
    readonly name: string;
    readonly value?: string;
    readonly valueFrom?: { readonly fieldRef?: { readonly fieldPath: string } };
  }[];
  readonly volumeMounts?: readonly { readonly name: string; readonly mountPath: string; readonly readOnly?: boolean }[];
  readonly securityContext?: { readonly runAsUser?: number; readonly runAsGroup?: number };
}

/** Where a node lives in the simulation. */
export interface SimNode {
  readonly name: string;
  /** Its position in the config's node list. */
  readonly index: number;
  /** Its network namespace (made by the simulation). */
  readonly netns: string;
  /** The directory standing in for its root file system (hostPath volumes resolve below it). */
  readonly root: string;
  /** Its host, which `nsenter -t 1` in a hostPID pod enters. */
  readonly host: Pick<NodeHost, 'pid' | 'root'>;
}

const SA_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';
/** Machine directories a container sees read-only: the programs and libraries, nothing else. */
const HOST_DIRS = ['bin', 'sbin', 'lib', 'lib64', 'lib32', 'usr', 'opt'];

function shellQuote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

function fieldValue(pod: PodJson, fieldPath: string): string {
  switch (fieldPath) {
    case 'spec.nodeName':
      return pod.spec.nodeName ?? '';
    case 'metadata.name':
      return pod.metadata.name;
    case 'metadata.namespace':
      return pod.metadata.namespace;
    case 'status.podIP':
      return pod.status?.podIP ?? '';
    default:
      throw new Error(`the simulated kubelet does not provide the downward-API field ${fieldPath}`);
  }
}

/** Writes the pod's volumes into `dir`; returns volume name → host directory. */
async function materializeVolumes(api: SimApi, pod: PodJson, node: SimNode, dir: string): Promise<Map<string, string>> {
  const volumes = new Map<string, string>();
  for (const volume of pod.spec.volumes ?? []) {
    if (volume.configMap) {
      const cm = await api.call<{ data?: Record<string, string> }>(
        'GET',
        `/api/v1/namespaces/${pod.metadata.namespace}/configmaps/${volume.configMap.name}`,
      );
      if (cm.status !== 200) {
        throw new Error(`configmap ${volume.configMap.name}: HTTP ${cm.status}`);
      }
      const target = join(dir, 'volumes', volume.name);
      mkdirSync(target, { recursive: true });
      for (const [file, content] of Object.entries(cm.body.data ?? {})) {
        writeFileSync(join(target, file), content, { mode: 0o444 });
      }
      volumes.set(volume.name, target);
    } else if (volume.hostPath) {
      const target = join(node.root, volume.hostPath.path);
      mkdirSync(target, { recursive: true });
      volumes.set(volume.name, target);
    }
  }
  if (pod.spec.automountServiceAccountToken !== false && pod.spec.serviceAccountName) {
    const requested = await api.call<{ status?: { token?: string } }>(
      'POST',
      `/api/v1/namespaces/${pod.metadata.namespace}/serviceaccounts/${pod.spec.serviceAccountName}/token`,
      {
        apiVersion: 'authentication.k8s.io/v1',
        kind: 'TokenRequest',
        spec: { audiences: ['https://kubernetes.default.svc'], expirationSeconds: 3600 },
      },
    );
    const token = requested.body.status?.token;
    if (requested.status !== 201 || !token) {
      throw new Error(`token for ${pod.metadata.namespace}/${pod.spec.serviceAccountName}: HTTP ${requested.status}`);
    }
    const target = join(dir, 'volumes', 'kube-api-access');
    mkdirSync(target, { recursive: true });
    writeFileSync(join(target, 'token'), token, { mode: 0o644 });
    writeFileSync(join(target, 'ca.crt'), api.ca, { mode: 0o644 });
    writeFileSync(join(target, 'namespace'), pod.metadata.namespace, { mode: 0o644 });
    volumes.set('kube-api-access', target);
  }
  return volumes;
}

/** How a container runs: where, with what name resolution, and which image's tools. */
export interface ContainerSetting {
  /** The network namespace: the pod's own, or its node's for a host-network pod. */
  readonly netns: string;
  /** The pod's /etc/resolv.conf, as the kubelet writes it for the pod's dnsPolicy. */
  readonly resolvConf: string;
  /** The image is busybox: its applets come first on the PATH, as in the image. */
  readonly busybox: boolean;
  /** Variables every container gets (the kubelet's KUBERNETES_SERVICE_HOST and _PORT). */
  readonly defaultEnv: Readonly<Record<string, string>>;
}

/** One container of a pod, with what it runs with. */
export interface ContainerInput {
  readonly pod: PodJson;
  readonly container: ContainerJson;
  /** Volume name → host directory. */
  readonly volumes: ReadonlyMap<string, string>;
  readonly node: SimNode;
  readonly setting: ContainerSetting;
}

/** The shell script that builds the container's root (below `dir`) and runs its command there. */
function containerScript({ pod, container, volumes, node, setting }: ContainerInput, dir: string): string {
  const root = join(dir, 'root');
  mkdirSync(dir, { recursive: true });
  const mounts = [
    ...(container.volumeMounts ?? []).map((m) => ({ from: volumes.get(m.name), to: m.mountPath, ro: m.readOnly === true })),
    ...(volumes.has('kube-api-access') ? [{ from: volumes.get('kube-api-access'), to: SA_DIR, ro: true }] : []),
  ];
  const explicit = new Set((container.env ?? []).map((e) => e.name));
  const env = [
    ...Object.entries(setting.defaultEnv)
      .filter(([name]) => !explicit.has(name))
      .map(([name, value]) => `${name}=${value}`),
    ...(container.env ?? []).map(
      (e) => `${e.name}=${e.valueFrom?.fieldRef ? fieldValue(pod, e.valueFrom.fieldRef.fieldPath) : (e.value ?? '')}`,
    ),
  ];
  writeFileSync(join(dir, 'resolv.conf'), setting.resolvConf);
  writeFileSync(join(dir, 'nsenter'), nsenterStandIn(node.host), { mode: 0o755 });
  const user = container.securityContext?.runAsUser ?? 0;
  const group = container.securityContext?.runAsGroup ?? user;
  const command = [...(container.command ?? []), ...(container.args ?? [])];
  const lines = [
    'set -eu',
    `R=${shellQuote(root)}`,
    `D=${shellQuote(dir)}`,
    'mkdir -p "$R"',
    'mount -t tmpfs -o mode=755 tmpfs "$R"',
    ...bindProgramDirs('$R', HOST_DIRS),
    'mkdir -p "$R/proc" "$R/dev" "$R/sys" "$R/tmp" "$R/etc" "$R/var/run"',
    'chmod 1777 "$R/tmp"',
    'mount --rbind /proc "$R/proc"',
    'mount --rbind /dev "$R/dev"',
    'mount --rbind /sys "$R/sys"',
    'for f in passwd group nsswitch.conf hosts; do [ -e /etc/$f ] && cp /etc/$f "$R/etc/$f"; done',
    'cp "$D/resolv.conf" "$R/etc/resolv.conf"',
    ...(setting.busybox
      ? [
          // The image's shell and applets (busybox sh, nsenter, ...) before the machine's own; not
          // wget: Debian's busybox 1.35 crashes on `wget -T`, so GNU wget (same options) stands in.
          'mount -t tmpfs tmpfs "$R/usr/local/bin"',
          'for applet in $(busybox --list); do [ "$applet" = wget ] || ln -s /usr/bin/busybox "$R/usr/local/bin/$applet"; done',
        ]
      : []),
    ...(pod.spec.hostPID ? ['mount -t tmpfs tmpfs "$R/usr/local/sbin"', 'cp "$D/nsenter" "$R/usr/local/sbin/nsenter"'] : []),
    ...mounts.flatMap((m) =>
      m.from === undefined
        ? []
        : [
            `mkdir -p "$R${m.to}"`,
            `mount --bind ${shellQuote(m.from)} "$R${m.to}"`,
            ...(m.ro ? [`mount -o remount,bind,ro "$R${m.to}"`] : []),
          ],
    ),
    `exec chroot --userspec=${user}:${group} "$R" /usr/bin/env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/tmp ${env
      .map(shellQuote)
      .join(' ')} ${command.map(shellQuote).join(' ')}`,
  ];
  return `${lines.join('\n')}\n`;
}

/** The result of a container: its exit code and everything it printed. */
export interface ContainerRun {
  readonly exitCode: number;
  readonly output: string;
}

/** A container started in the background (a server): its process and its end. */
export interface RunningContainer {
  readonly child: ChildProcess;
  readonly done: Promise<ContainerRun>;
  /** Its output so far. */
  output(): string;
}

/** Starts one container whose volumes are already written (`input.volumes`), below `dir`. */
export function startContainer(input: ContainerInput, dir: string, timeoutMs: number): RunningContainer {
  const { container, setting } = input;
  const script = join(dir, `${container.name}.sh`);
  writeFileSync(script, containerScript(input, join(dir, container.name)));
  chmodSync(script, 0o700);
  const child = spawn('ip', ['netns', 'exec', setting.netns, 'unshare', '--mount', '--propagation', 'private', 'sh', script], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let text = '';
  child.stdout!.on('data', (d: Buffer) => (text += d.toString('utf8')));
  child.stderr!.on('data', (d: Buffer) => (text += d.toString('utf8')));
  const done = new Promise<ContainerRun>((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ exitCode: code ?? 137, output: text });
    });
  });
  return { child, done, output: () => text };
}

/**
 * Runs a pod's containers on its node: the init containers one after another, then the first
 * container. A container whose image `runs` refuses (another project's image, such as an init
 * container that only pulls the Cilium images onto the node) counts as having run and exited 0.
 * Resolves with the running main container (a server keeps running; a Job's ends), or with the
 * failed init container's result.
 */
export async function startPod(
  api: SimApi,
  pod: PodJson,
  node: SimNode,
  dir: string,
  runs: (image: string) => boolean,
  setting: ContainerSetting,
  timeoutMs: number,
): Promise<RunningContainer | ContainerRun> {
  mkdirSync(dir, { recursive: true });
  const volumes = await materializeVolumes(api, pod, node, dir);
  let output = '';
  for (const container of (pod.spec.initContainers ?? []).filter((c) => runs(c.image))) {
    const run = await startContainer({ pod, container, volumes, node, setting }, dir, timeoutMs).done;
    output += run.output;
    if (run.exitCode !== 0) {
      return { exitCode: run.exitCode, output };
    }
  }
  const main = pod.spec.containers.find((c) => runs(c.image));
  if (!main) {
    return { exitCode: 0, output };
  }
  const running = startContainer({ pod, container: main, volumes, node, setting }, dir, timeoutMs);
  return {
    child: running.child,
    done: running.done.then((r) => ({ exitCode: r.exitCode, output: output + r.output })),
    output: () => output + running.output(),
  };
}
