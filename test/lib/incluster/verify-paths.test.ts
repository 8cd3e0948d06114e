import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { formatResult } from '../../../lib/incluster/shared/report.ts';
import {
  echoTargets,
  httpsRedirectPort,
  ingressNodes,
  judgeBackends,
  judgeEcho,
  judgeExternal,
  judgeLarge,
  judgeServiceName,
  judgeServiceRound,
  parseEcho,
} from '../../../lib/incluster/verify-paths.ts';

const f = parse(readFileSync(new URL('../../fixtures/verify-objects.yaml', import.meta.url), 'utf8'));
const echo = (pod: string, node: string, extra: Record<string, unknown> = {}) => ({
  status: 200,
  body: JSON.stringify({ service: 'cilium-cutover-echo', pod, node, ip: '10.42.2.9', ...extra }),
});

describe('echoTargets', () => {
  it("takes each node's Ready echo pod and waits for a node that has none (being deleted or not Ready)", () => {
    const { targets, waiting } = echoTargets(['k3s-server-1', 'k3s-server-2', 'k3s-server-3'], f['echo-pods']);
    expect(targets).toEqual([
      { pod: 'echo-b2n8q', node: 'k3s-server-1', ip: '10.42.0.21' },
      { pod: 'echo-zr6lm', node: 'k3s-server-3', ip: '10.42.2.9' },
    ]);
    expect(waiting.map(formatResult)).toEqual(['FAIL echo k3s-server-2: no Ready echo pod on this node']);
  });
});

describe('judgeEcho and judgeLarge', () => {
  it('passes only an answer from the echo backend, and from the expected pod', () => {
    expect(formatResult(judgeEcho('pod-to-pod', 's', echo('echo-a', 'n3'), 'echo-a'))).toBe(
      'PASS pod-to-pod s: echo answered from echo-a on n3',
    );
    expect(judgeEcho('pod-to-pod', 's', echo('echo-b', 'n3'), 'echo-a').detail).toBe('answered by echo-b, expected echo-a');
    expect(judgeEcho('ingress', 's', { status: 404, body: '404 page not found' }).detail).toBe('HTTP 404, not the echo backend');
    expect(judgeEcho('ingress', 's', { status: 200, body: '<html>default backend</html>' }).outcome).toBe('FAIL');
    expect(judgeEcho('clusterip', 's', { body: 'connect ECONNREFUSED 10.43.12.7:80' }).detail).toBe(
      'no answer (connect ECONNREFUSED 10.43.12.7:80)',
    );
    expect(parseEcho('not json')).toBeUndefined();
  });

  it('the large exchange must carry every byte both ways', () => {
    const ok = echo('echo-a', 'n3', { received: 65536, padding: 'x'.repeat(65536) });
    expect(formatResult(judgeLarge('pod-large-payload', 's', ok, 65536, 'echo-a'))).toBe(
      'PASS pod-large-payload s: 65536 bytes each way with echo-a',
    );
    const short = echo('echo-a', 'n3', { received: 1400, padding: 'x'.repeat(1400) });
    expect(judgeLarge('pod-large-payload', 's', short, 65536, 'echo-a').detail).toBe(
      'sent 65536 bytes, the echo received 1400 and answered 1400',
    );
    expect(judgeLarge('pod-large-payload', 's', { body: 'timed out after 15s' }, 65536, 'echo-a').detail).toBe(
      'no answer (timed out after 15s)',
    );
  });
});

describe('a Service with a backend that does not answer', () => {
  const targets = [
    { pod: 'echo-a', node: 'n1', ip: '10.42.0.5' },
    { pod: 'echo-b', node: 'n2', ip: '10.42.1.5' },
  ];

  it('fails the round when any request failed, and the window until every backend has answered', () => {
    const seen = new Set<string>();
    const round = [echo('echo-a', 'n1'), { body: 'timed out after 5s' }, echo('echo-a', 'n1')];
    expect(formatResult(judgeServiceRound('pod-clusterip', 's', round, seen))).toBe(
      'FAIL pod-clusterip s: 1 of 3 requests failed: no answer (timed out after 5s)',
    );
    expect(formatResult(judgeBackends('pod-clusterip-backends', 's', targets, seen))).toBe(
      'FAIL pod-clusterip-backends s: never answered through the Service: echo-b on n2 (10.42.1.5)',
    );
    expect(judgeServiceRound('pod-clusterip', 's', [echo('echo-b', 'n2')], seen).outcome).toBe('PASS');
    expect(formatResult(judgeBackends('pod-clusterip-backends', 's', targets, seen))).toBe(
      'PASS pod-clusterip-backends s: all 2 backend(s) answered',
    );
  });
});

describe('judgeExternal', () => {
  it('passes only HTTP 200 from the URL itself', () => {
    expect(formatResult(judgeExternal('n1 -> https://one.one.one.one/', { status: 200, body: '' }))).toBe(
      'PASS egress n1 -> https://one.one.one.one/: HTTP 200',
    );
    expect(judgeExternal('s', { status: 301, body: '', location: 'https://shop.example.com/' }).detail).toBe(
      'HTTP 301 -> https://shop.example.com/, not 200',
    );
    expect(judgeExternal('s', { body: 'getaddrinfo ENOTFOUND x.example' }).detail).toBe('no answer (getaddrinfo ENOTFOUND x.example)');
  });
});

describe('ingress', () => {
  it('follows a redirect to HTTPS for the same host only', () => {
    expect(
      httpsRedirectPort({ status: 308, body: '', location: 'https://echo.cilium-cutover.invalid/' }, 'echo.cilium-cutover.invalid'),
    ).toBe(443);
    expect(httpsRedirectPort({ status: 301, body: '', location: 'https://echo.example.com:8443/x' }, 'echo.example.com')).toBe(8443);
    expect(httpsRedirectPort({ status: 302, body: '', location: 'https://login.example.com/' }, 'echo.example.com')).toBeUndefined();
    expect(httpsRedirectPort({ status: 302, body: '', location: 'http://echo.example.com/' }, 'echo.example.com')).toBeUndefined();
    expect(httpsRedirectPort({ status: 200, body: '' }, 'echo.example.com')).toBeUndefined();
  });

  it('calls a host-network controller only on the nodes where a Ready pod of it runs', () => {
    const nodes = [
      { name: 'k3s-server-1', internalIP: '10.0.0.2' },
      { name: 'k3s-server-2', internalIP: '10.0.0.3' },
      { name: 'k3s-server-3', internalIP: '10.0.0.4' },
    ];
    expect(ingressNodes(nodes, f['echo-pods']).map((n) => n.name)).toEqual(['k3s-server-1', 'k3s-server-3']);
  });
});

describe('judgeServiceName', () => {
  it("requires the echo Service's ClusterIP in the answer", () => {
    expect(judgeServiceName('echo.ns.svc.cluster.local', ['10.43.12.7'], '10.43.12.7').outcome).toBe('PASS');
    expect(judgeServiceName('echo.ns.svc.cluster.local', ['10.43.99.1'], '10.43.12.7').detail).toBe(
      'resolved to 10.43.99.1, not the ClusterIP 10.43.12.7',
    );
    expect(judgeServiceName('echo.ns.svc.cluster.local', 'ENOTFOUND', '10.43.12.7').detail).toBe('ENOTFOUND');
  });
});
