/**
 * Runs the bundled connectivity check of a moved node, as its Job runs it, against a fake API
 * server whose CiliumNodes name health endpoints on loopback: one answering as cilium-health's
 * responder does, one where nothing listens, and a node whose agent never registered.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MovedNodeCheckSpec } from '../../../lib/incluster/moved-node-checks.ts';
import { startFakeApi, type FakeApi } from '../../support/fake-api.ts';
import { requireTool } from '../../support/tools.ts';

const HAVE_OPENSSL = requireTool('openssl', 'moved-node-check', 'the fake API server has no test certificate');

describe.skipIf(!HAVE_OPENSSL)('moved-node check script against a fake API server', () => {
  let api: FakeApi;
  let health: Server;
  let healthPort: number;
  const asked: string[] = [];

  beforeAll(async () => {
    health = createServer((req, res) => {
      asked.push(`${req.method} ${req.url}`);
      res.writeHead(200).end();
    });
    await new Promise<void>((resolve) => health.listen(0, '127.0.0.2', resolve));
    healthPort = (health.address() as AddressInfo).port;
    // CiliumNode spec.health.ipv4 (cilium/cilium pkg/k8s/apis/cilium.io/v2/types.go, HealthAddressingSpec).
    const ciliumNodes: Record<string, unknown> = {
      'peer-up': { kind: 'CiliumNode', metadata: { name: 'peer-up' }, spec: { health: { ipv4: '127.0.0.2' } } },
      'peer-down': { kind: 'CiliumNode', metadata: { name: 'peer-down' }, spec: { health: { ipv4: '127.0.0.3' } } },
    };
    api = await startFakeApi((method, url) => {
      if (method === 'GET' && url === '/version') {
        return [200, { major: '1', minor: '31', gitVersion: 'v1.31.4+k3s1' }];
      }
      const node = /^\/apis\/cilium\.io\/v2\/ciliumnodes\/([^/?]+)$/.exec(url)?.[1];
      if (method === 'GET' && node !== undefined && ciliumNodes[node] !== undefined) {
        return [200, ciliumNodes[node]];
      }
      return undefined;
    });
  });
  afterAll(async () => {
    await api.close();
    await new Promise((resolve) => health.close(resolve));
  });

  const spec = (peers: string[]): MovedNodeCheckSpec => ({
    node: 'n1',
    migrationCIDR: '10.245.0.0/16',
    peers,
    healthPort,
    attempts: 2,
    retryDelaySeconds: 0,
    concurrency: 8,
  });

  it("passes a pod with a migration address that reaches the API and a peer's health endpoint", async () => {
    asked.length = 0;
    const result = await api.runScript('moved-node-check-main', spec(['peer-up']), { env: { POD_IP: '10.245.0.12' } });
    expect(result.lines).toEqual([
      'PASS pod-address n1: 10.245.0.12, from 10.245.0.0/16',
      expect.stringMatching(/^PASS pod-api n1 -> 127\.0\.0\.1:\d+: API server answered \(v1\.31\.4\+k3s1\)$/),
      "PASS pod-overlay n1 -> peer-up 127.0.0.2: the peer's cilium-health endpoint answered",
      'moved-node-check n1: all checks passed',
    ]);
    expect(result.code).toBe(0);
    // cilium-health's responder path.
    expect(asked).toEqual(['GET /hello']);
  });

  it('fails a Calico address, a peer that never answers (after its tries) and a peer without a CiliumNode', async () => {
    const result = await api.runScript('moved-node-check-main', spec(['peer-down', 'peer-missing']), { env: { POD_IP: '192.168.1.5' } });
    expect(result.code).toBe(1);
    expect(result.lines).toContain(
      "FAIL pod-address n1: 192.168.1.5 is not from 10.245.0.0/16: the pod started with another CNI than Cilium's",
    );
    expect(result.lines.filter((l) => l.startsWith('RETRY pod-overlay n1 -> peer-down 127.0.0.3: '))).toHaveLength(1);
    expect(result.lines).toContainEqual(
      expect.stringMatching(/^FAIL pod-overlay n1 -> peer-down 127\.0\.0\.3: no answer \(.*ECONNREFUSED.*\), 2 tries$/),
    );
    expect(result.lines).toContain('FAIL pod-overlay n1 -> peer-missing: no CiliumNode peer-missing: its Cilium agent has not registered');
    expect(result.lines.at(-1)).toBe('moved-node-check n1: 3 check(s) failed');
  });

  it('fails when the API server does not answer through the Service', async () => {
    const result = await api.runScript('moved-node-check-main', spec([]), {
      env: { POD_IP: '10.245.0.12', KUBERNETES_SERVICE_PORT: '1' },
    });
    expect(result.code).toBe(1);
    expect(result.lines).toContainEqual(expect.stringMatching(/^FAIL pod-api n1 -> 127\.0\.0\.1:1: no answer \(/));
  });
});
