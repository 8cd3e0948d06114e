/**
 * The bundled verification script, run as the Jobs run it: the SKIP paths (no network needed), and
 * the clusterip and pod-to-pod checks against a fake API server and a real echo server, both on
 * loopback. No cluster network is involved.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifySpec } from '../../../charts/verify-checks.ts';
import { bundleInCluster } from '../../../lib/constructs/bundle.ts';
import { exampleConfig } from '../../support/helpers.ts';
import { startFakeApi, type FakeApi } from '../../support/fake-api.ts';
import { requireTool } from '../../support/tools.ts';

const base = { ...verifySpec(exampleConfig()), attempts: 2, delaySeconds: 0 };

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

const HAVE_OPENSSL = requireTool('openssl', 'verify-runner', 'the fake API server has no test certificate');

describe.skipIf(!HAVE_OPENSSL)('verify script', () => {
  let api: FakeApi;
  let echo: ChildProcess;
  let echoPort: number;
  let objects: Record<string, unknown> = {};

  beforeAll(async () => {
    api = await startFakeApi((method, url) => (method === 'GET' && objects[url] ? [200, objects[url]] : undefined));
    echoPort = await freePort();
    const dir = mkdtempSync(join(tmpdir(), 'cilium-cutover-echo-'));
    writeFileSync(join(dir, 'echo.mjs'), bundleInCluster('echo-server'));
    echo = spawn(process.execPath, [join(dir, 'echo.mjs')], {
      env: { ECHO_PORT: String(echoPort), POD_NAME: 'echo-b', NODE_NAME: 'k3s-server-3', POD_IP: '127.0.0.1' },
    });
    await new Promise<void>((resolve) => echo.stdout!.once('data', () => resolve()));
  });
  afterAll(async () => {
    echo.kill();
    await api.close();
  });

  it('skips ingress and external when they are not configured, and pod-to-pod on one node', async () => {
    expect(await api.runScript('verify-main', base, { args: ['ingress'] })).toEqual({
      code: 0,
      lines: ['SKIP ingress cilium-cutover-verify: verify.ingress is not configured (no ingress controller to test)'],
    });
    expect(await api.runScript('verify-main', base, { args: ['external'] })).toEqual({
      code: 0,
      lines: ['SKIP external -: verify.externalURLs is empty'],
    });
    expect(
      await api.runScript(
        'verify-main',
        { ...base, nodes: base.nodes.slice(0, 1) },
        { args: ['pod-to-pod'], env: { NODE_NAME: 'k3s-server-1' } },
      ),
    ).toEqual({
      code: 0,
      lines: ['SKIP pod-to-pod k3s-server-1: the cluster has one node: there is no other node to reach'],
    });
  });

  it('clusterip: reads the Service address from the API and gets the echo answer from it', async () => {
    objects = { '/api/v1/namespaces/cilium-cutover-verify/services/echo': { spec: { clusterIP: '127.0.0.1' } } };
    const spec = { ...base, echo: { ...base.echo, servicePort: echoPort } };
    expect(await api.runScript('verify-main', spec, { args: ['clusterip'] })).toEqual({
      code: 0,
      lines: [`PASS clusterip cilium-cutover-verify/echo 127.0.0.1:${echoPort}: echo answered from echo-b on k3s-server-3`],
    });
  });

  it('pod-to-pod: calls the echo pod on another node and checks which pod answered', async () => {
    const pods = (name: string) => ({
      items: [
        { metadata: { name: 'echo-a' }, spec: { nodeName: 'k3s-server-1' }, status: { phase: 'Running', podIP: '127.0.0.2' } },
        { metadata: { name }, spec: { nodeName: 'k3s-server-3' }, status: { phase: 'Running', podIP: '127.0.0.1' } },
      ],
    });
    const path = `/api/v1/namespaces/cilium-cutover-verify/pods?labelSelector=${encodeURIComponent('app.kubernetes.io/name=cilium-cutover-echo')}`;
    const spec = { ...base, echo: { ...base.echo, podPort: echoPort } };
    objects = { [path]: pods('echo-b') };
    expect(await api.runScript('verify-main', spec, { args: ['pod-to-pod'], env: { NODE_NAME: 'k3s-server-1' } })).toEqual({
      code: 0,
      lines: ['PASS pod-to-pod k3s-server-1 -> k3s-server-3 127.0.0.1: echo answered from echo-b on k3s-server-3'],
    });
    // The API says another pod is there: the answer from echo-b must not count.
    objects = { [path]: pods('echo-c') };
    const wrong = await api.runScript('verify-main', spec, { args: ['pod-to-pod'], env: { NODE_NAME: 'k3s-server-1' } });
    expect(wrong.code).toBe(1);
    expect(wrong.lines).toEqual([
      'RETRY 1/2 FAIL pod-to-pod k3s-server-1 -> k3s-server-3 127.0.0.1: answered by echo-b, expected echo-c',
      'FAIL pod-to-pod k3s-server-1 -> k3s-server-3 127.0.0.1: answered by echo-b, expected echo-c',
    ]);
  });

  it('coredns: fails after its bounded retries when CoreDNS is not ready', async () => {
    objects = {};
    const result = await api.runScript('verify-main', base, { args: ['coredns'] });
    expect(result.code).toBe(1);
    expect(result.lines).toEqual([
      'RETRY 1/2 FAIL coredns kube-system/coredns: no pod with label k8s-app=kube-dns',
      'FAIL coredns kube-system/coredns: no pod with label k8s-app=kube-dns',
    ]);
  });

  it('rejects an unknown check', async () => {
    const result = await api.runScript('verify-main', base, { args: ['ping'] });
    expect(result).toEqual({
      code: 1,
      lines: ['FAIL verify ping: unknown check; one of coredns, clusterip, pod-to-pod, dns, ingress, external, cilium-health'],
    });
  });
});
