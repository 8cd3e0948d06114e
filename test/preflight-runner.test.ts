/**
 * Runs the bundled preflight script, as the Job runs it, against a fake API server on loopback
 * that answers with fixture objects over TLS. This checks the script's wiring (token, CA, direct
 * address, exit code); it sends no traffic to a cluster.
 */
import { execFile, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { bundleInCluster } from '../lib/bundle.ts';
import type { PreflightSpec } from '../lib/incluster/preflight-checks.ts';

const run = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), 'cilium-cutover-runner-'));
const openssl = spawnSync(
  'openssl',
  [
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-days',
    '1',
    '-subj',
    '/CN=127.0.0.1',
    '-addext',
    'subjectAltName=IP:127.0.0.1',
    '-keyout',
    join(dir, 'key.pem'),
    '-out',
    join(dir, 'ca.crt'),
  ],
  { encoding: 'utf8' },
);
if (openssl.status !== 0) {
  console.log('SKIP preflight-runner: openssl is not available to make a test certificate');
}

const nodes = parse(readFileSync(new URL('./fixtures/k3s-nodes.yaml', import.meta.url), 'utf8'));
const daemonSets = parse(readFileSync(new URL('./fixtures/calico-node-daemonsets.yaml', import.meta.url), 'utf8'));

describe.skipIf(openssl.status !== 0)('preflight script against a fake API server', () => {
  let server: Server;
  let port: number;
  /** Path → object the fake API returns; anything else is 404. */
  let objects: Record<string, unknown> = {};
  const requests: string[] = [];

  beforeAll(async () => {
    server = createServer({ key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'ca.crt')) }, (req, res) => {
      requests.push(`${req.method} ${req.url} ${req.headers.authorization}`);
      const body = req.headers.authorization === 'Bearer test-token' ? objects[req.url!] : undefined;
      res.writeHead(req.headers.authorization !== 'Bearer test-token' ? 401 : body ? 200 : 404, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body ?? { kind: 'Status', code: 404 }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
    writeFileSync(join(dir, 'preflight.mjs'), bundleInCluster('preflight-main'));
    writeFileSync(join(dir, 'token'), 'test-token\n');
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  async function preflight(spec: PreflightSpec): Promise<{ code: number; lines: string[] }> {
    writeFileSync(join(dir, 'spec.json'), JSON.stringify(spec));
    const env = {
      PATH: process.env.PATH!,
      NODE_EXTRA_CA_CERTS: join(dir, 'ca.crt'),
      KUBERNETES_SERVICE_HOST: '127.0.0.1',
      KUBERNETES_SERVICE_PORT: String(port),
      KUBERNETES_TOKEN_FILE: join(dir, 'token'),
    };
    try {
      const { stdout } = await run(process.execPath, [join(dir, 'preflight.mjs'), join(dir, 'spec.json')], { env });
      return { code: 0, lines: stdout.trim().split('\n') };
    } catch (err) {
      const e = err as { code: number; stdout: string };
      return { code: e.code, lines: e.stdout.trim().split('\n') };
    }
  }

  const spec: PreflightSpec = {
    nodes: [{ name: 'k3s-server-1', role: 'server', internalIP: '10.0.0.2' }],
    calicoVersion: 'v3.27.0',
    kubeProxyReplacement: true,
  };

  it('passes a ready, reconfigured cluster and exits 0', async () => {
    objects = {
      '/api/v1/nodes/k3s-server-1': nodes['migrated-server'],
      '/apis/apps/v1/namespaces/kube-system/daemonsets/calico-node': daemonSets['v3.27.0-crashing'],
    };
    const result = await preflight(spec);
    expect(result).toEqual({
      code: 0,
      lines: [
        'PASS node-ready k3s-server-1: Ready',
        'PASS node-address k3s-server-1: InternalIP 10.0.0.2',
        'PASS k3s-flags k3s-server-1: flannel-backend none, disable-network-policy, disable-kube-proxy',
        'PASS calico-manifest installations.operator.tigera.io: absent: Calico is not managed by the tigera-operator',
        'PASS calico kube-system/calico-node: runs v3.27.0 (0/3 ready)',
        'preflight: all checks passed',
      ],
    });
    expect(requests.at(-1)).toBe('GET /apis/apps/v1/namespaces/kube-system/daemonsets/calico-node Bearer test-token');
  });

  it('fails with one line per failed check and exits 1', async () => {
    objects = { '/apis/apps/v1/namespaces/kube-system/daemonsets/calico-node': daemonSets['v3.26.1'] };
    const result = await preflight({ ...spec, nodes: [...spec.nodes, { name: 'k3s-server-9', role: 'server', internalIP: '10.0.0.9' }] });
    expect(result.code).toBe(1);
    expect(result.lines).toEqual([
      'FAIL node k3s-server-1: not found in the cluster; fix cluster.nodes (name as `kubectl get nodes` shows it)',
      'FAIL node k3s-server-9: not found in the cluster; fix cluster.nodes (name as `kubectl get nodes` shows it)',
      'PASS calico-manifest installations.operator.tigera.io: absent: Calico is not managed by the tigera-operator',
      'FAIL calico kube-system/calico-node: runs v3.26.1, config says v3.27.0; set calico.version to the installed release so the right objects are deleted',
      'preflight: 3 check(s) failed; nothing was changed',
    ]);
  });

  it('reports an API it cannot use as a failure, not a pass', async () => {
    writeFileSync(join(dir, 'token'), 'wrong-token\n');
    try {
      const result = await preflight(spec);
      expect(result.code).toBe(1);
      expect(result.lines).toEqual([expect.stringMatching(/^FAIL preflight api: GET \/api\/v1\/nodes\/k3s-server-1 failed: HTTP 401/)]);
    } finally {
      writeFileSync(join(dir, 'token'), 'test-token\n');
    }
  });
});
