/**
 * The bundled verification script, run as the Jobs run it, against a fake API server, a real echo
 * server on loopback and, for the host check, Unix sockets answering as the agent and
 * cilium-health do (test/fixtures/cilium-agent). No cluster network is involved; the simulated
 * cluster runs the same script on every node.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifySpecFile } from '../../../charts/verify-checks.ts';
import { bundleInCluster } from '../../../lib/constructs/bundle.ts';
import type { VerifySpecFile } from '../../../lib/incluster/verify-spec.ts';
import { exampleConfig } from '../../support/helpers.ts';
import { startFakeApi, type FakeApi } from '../../support/fake-api.ts';
import { requireTool } from '../../support/tools.ts';

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

const HAVE_OPENSSL = requireTool('openssl', 'verify-runner', 'the fake API server has no test certificate');
const fixture = (name: string) => JSON.parse(readFileSync(new URL(`../../fixtures/cilium-agent/${name}`, import.meta.url), 'utf8'));
const pods = `/api/v1/namespaces/cilium-cutover-verify/pods?labelSelector=${encodeURIComponent('app.kubernetes.io/name=cilium-cutover-echo')}`;

describe.skipIf(!HAVE_OPENSSL)('verify script', () => {
  let api: FakeApi;
  let echo: ChildProcess;
  let echoPort: number;
  let objects: Record<string, unknown> = {};
  const sockets: Server[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'cilium-cutover-verify-'));
  let spec: VerifySpecFile;
  const NODE_LIST = '/api/v1/namespaces/cilium-cutover-verify/configmaps/verify-nodes';
  const nodeList = (nodes: { name: string; internalIP: string }[]) => ({ data: { 'nodes.json': JSON.stringify(nodes) } });
  const ONE = [{ name: 'k3s-server-1', internalIP: '127.0.0.1' }];

  /** Serves `answer` on a Unix socket in `dir`, mode 0660 as the agent leaves it. */
  const socket = (name: string, answer: () => unknown) =>
    new Promise<void>((resolve) => {
      const server = createHttpServer((req, res) => {
        res.writeHead(req.url?.startsWith('/v1') ? 200 : 404, { 'content-type': 'application/json' }).end(JSON.stringify(answer()));
      });
      server.listen(join(dir, name), () => {
        chmodSync(join(dir, name), 0o660);
        resolve();
      });
      sockets.push(server);
    });

  beforeAll(async () => {
    api = await startFakeApi((method, url) => (method === 'GET' && objects[url] ? [200, objects[url]] : undefined));
    echoPort = await freePort();
    writeFileSync(join(dir, 'echo.mjs'), bundleInCluster('echo-server'));
    echo = spawn(process.execPath, [join(dir, 'echo.mjs')], {
      env: { ECHO_PORT: String(echoPort), POD_NAME: 'echo-b', NODE_NAME: 'k3s-server-1', POD_IP: '127.0.0.1' },
    });
    await new Promise<void>((resolve) => echo.stdout!.once('data', () => resolve()));
    const health = fixture('health-1.19.json');
    await socket('cilium.sock', () => fixture('status-1.19.json'));
    await socket('health.sock', () => ({ ...health, nodes: health.nodes.map((n: { name: string }) => ({ ...n, name: 'k3s-server-1' })) }));
    const base = verifySpecFile(exampleConfig());
    spec = {
      ...base,
      echo: { ...base.echo, servicePort: echoPort, podPort: echoPort },
      cilium: { ...base.cilium, agentSocket: join(dir, 'cilium.sock'), healthSocket: join(dir, 'health.sock') },
      kubeProxyGone: false,
      limits: { waitSeconds: 2, windowSeconds: 5, consecutive: 2, roundSeconds: 0, payloadBytes: 200_000 },
    };
    objects = {
      // One node on loopback: its echo pod, the ClusterIP and the NodePort are the one echo server.
      [NODE_LIST]: nodeList(ONE),
      [pods]: {
        items: [
          {
            metadata: { name: 'echo-b' },
            spec: { nodeName: 'k3s-server-1' },
            status: { phase: 'Running', podIP: '127.0.0.1', conditions: [{ type: 'Ready', status: 'True' }] },
          },
        ],
      },
      '/api/v1/namespaces/cilium-cutover-verify/services/echo': { spec: { clusterIP: '127.0.0.1' } },
      '/api/v1/namespaces/cilium-cutover-verify/services/echo-nodeport': { spec: { ports: [{ port: 80, nodePort: echoPort }] } },
    };
  });
  afterAll(async () => {
    echo.kill();
    sockets.forEach((s) => s.close());
    await api.close();
  });

  it('host: asks the agent on its socket, then the echo directly, through the ClusterIP and the NodePort, with a large payload', async () => {
    const result = await api.runScript('verify-main', spec, { args: ['host'], env: { NODE_NAME: 'k3s-server-1' } });
    expect(result.lines).toEqual([
      'PASS agent k3s-server-1 cilium: Ok: 1.19.6 (v1.19.6-3f1a2b4c)',
      expect.stringMatching(/^PASS agent k3s-server-1 kubernetes: Ok/),
      'PASS agent k3s-server-1 controllers: 5 controller(s), none failing',
      'PASS agent k3s-server-1 kube-proxy-replacement: mode True, True configured',
      'PASS agent k3s-server-1 routing: inter-host Native (host BPF), Native configured',
      'PASS host-to-pod k3s-server-1 -> k3s-server-1 127.0.0.1: echo answered from echo-b on k3s-server-1',
      'PASS host-large-payload k3s-server-1 -> k3s-server-1 127.0.0.1: 200000 bytes each way with echo-b',
      `PASS host-clusterip k3s-server-1 -> cilium-cutover-verify/echo 127.0.0.1:${echoPort}: 6 of 6 requests answered by the echo`,
      `PASS host-clusterip-backends k3s-server-1 -> cilium-cutover-verify/echo 127.0.0.1:${echoPort}: all 1 backend(s) answered`,
      `PASS host-nodeport k3s-server-1 -> k3s-server-1 127.0.0.1:${echoPort}: echo answered from echo-b on k3s-server-1`,
      'verify host k3s-server-1: all checks passed',
    ]);
    expect(result.code).toBe(0);
  });

  it('host: an agent whose routing is not the configured one fails, and names the node', async () => {
    const result = await api.runScript(
      'verify-main',
      { ...spec, cilium: { ...spec.cilium, routing: 'Tunnel' } },
      { args: ['host'], env: { NODE_NAME: 'k3s-server-1' } },
    );
    expect(result.code).toBe(1);
    expect(result.lines).toContain('FAIL agent k3s-server-1 routing: inter-host Native (host BPF), Tunnel configured');
  });

  it('host: a node without an echo pod is waited for, then failed by name', async () => {
    objects[NODE_LIST] = nodeList([...ONE, { name: 'k3s-server-2', internalIP: '127.0.0.2' }]);
    const result = await api.runScript('verify-main', spec, { args: ['host'], env: { NODE_NAME: 'k3s-server-1' } });
    objects[NODE_LIST] = nodeList(ONE);
    expect(result.code).toBe(1);
    expect(result.lines).toContain('FAIL echo k3s-server-2: no Ready echo pod on this node (still after 2s)');
  });

  it('cluster: waits for CoreDNS, the rollouts and the agent pods, then names what never came', async () => {
    const result = await api.runScript('verify-main', spec, { args: ['cluster'] });
    expect(result.code).toBe(1);
    expect(result.lines).toContain('FAIL coredns kube-system/coredns: no live pod with label k8s-app=kube-dns (still after 2s)');
    expect(result.lines).toContain('FAIL cilium-agent kube-system/cilium: DaemonSet not found (still after 2s)');
    expect(result.lines).toContain('FAIL agent-pod k3s-server-1: no cilium agent pod on this node (still after 2s)');
    expect(result.lines.at(-1)).toMatch(/^verify cluster: \d+ check\(s\) failed; first: FAIL coredns/);
  });

  it('fails without its node list', async () => {
    const result = await api.runScript('verify-main', { ...spec, nodeList: 'missing' }, { args: ['host'] });
    expect(result).toEqual({
      code: 1,
      lines: ['FAIL verify cilium-cutover-verify/missing: no node list; apply the whole step, which holds this ConfigMap'],
    });
  });

  it('rejects an unknown check', async () => {
    const result = await api.runScript('verify-main', spec, { args: ['ping'] });
    expect(result).toEqual({ code: 1, lines: ['FAIL verify ping: unknown check; one of cluster, pods, host'] });
  });
});
