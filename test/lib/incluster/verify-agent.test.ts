import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { formatResult } from '../../../lib/incluster/shared/report.ts';
import { judgeAgentStatus, judgeHealth, parseJson, type AgentStatus, type HealthStatus } from '../../../lib/incluster/verify-agent.ts';

const fixture = <T>(name: string): T =>
  JSON.parse(readFileSync(new URL(`../../fixtures/cilium-agent/${name}`, import.meta.url), 'utf8')) as T;
const native = { routing: 'Native', kubeProxyReplacement: true } as const;

describe('judgeAgentStatus', () => {
  const status = fixture<AgentStatus>('status-1.19.json');

  it('passes a healthy 1.19 agent in native routing with kube-proxy replacement', () => {
    expect(judgeAgentStatus('hz-cp-1', status, native).map(formatResult)).toEqual([
      'PASS agent hz-cp-1 cilium: Ok: 1.19.6 (v1.19.6-3f1a2b4c)',
      expect.stringMatching(/^PASS agent hz-cp-1 kubernetes: Ok/),
      'PASS agent hz-cp-1 controllers: 5 controller(s), none failing',
      'PASS agent hz-cp-1 kube-proxy-replacement: mode True, True configured',
      'PASS agent hz-cp-1 routing: inter-host Native (host BPF), Native configured',
    ]);
  });

  it('fails the settings in effect when they are not the configured ones (a key the release ignored)', () => {
    const tunnel = {
      ...status,
      routing: { 'inter-host-routing-mode': 'Tunnel', 'intra-host-routing-mode': 'Legacy' },
      'kube-proxy-replacement': { mode: 'False' },
    };
    const lines = judgeAgentStatus('hz-cp-1', tunnel, native).map(formatResult);
    expect(lines).toContain('FAIL agent hz-cp-1 routing: inter-host Tunnel (host Legacy), Native configured');
    expect(lines).toContain('FAIL agent hz-cp-1 kube-proxy-replacement: mode False, True configured');
  });

  it('fails a failing controller, a stale probe and an agent not Ok, naming them', () => {
    const broken: AgentStatus = {
      ...status,
      cilium: { state: 'Warning', msg: '1.19.6 (v1.19.6-3f1a2b4c)    Stale status data' },
      stale: { 'check-locks': '2026-08-03T10:13:41.118Z' },
      controllers: [
        ...(status.controllers ?? []),
        {
          name: 'sync-to-k8s-ciliumendpoint (1471)',
          status: { 'consecutive-failure-count': 4, 'last-failure-msg': 'ciliumendpoints.cilium.io is forbidden' },
        },
      ],
    };
    const lines = judgeAgentStatus('hz-cp-1', broken, native).map(formatResult);
    expect(lines).toContain('FAIL agent hz-cp-1 cilium: Warning: 1.19.6 (v1.19.6-3f1a2b4c)    Stale status data');
    expect(lines).toContain(
      'FAIL agent hz-cp-1 controllers: failing: sync-to-k8s-ciliumendpoint (1471) (4x: ciliumendpoints.cilium.io is forbidden)',
    );
    expect(lines).toContain('FAIL agent hz-cp-1 probes: stale: check-locks');
  });

  it('says a 1.15 agent reports no inter-host routing, and still judges kube-proxy replacement', () => {
    const lines = judgeAgentStatus('hz-cp-1', fixture<AgentStatus>('status-1.15.json'), native).map(formatResult);
    expect(lines).toContain(
      'SKIP agent hz-cp-1 routing: this release reports no inter-host routing (host routing BPF); Cilium 1.16 and later do',
    );
    expect(lines).toContain('PASS agent hz-cp-1 kube-proxy-replacement: mode True, True configured');
  });
});

describe('judgeHealth', () => {
  const health = fixture<HealthStatus>('health-1.19.json');
  const peers = ['hz-cp-1', 'hz-worker-1', 'hz-worker-2'];

  it('passes every other node whose address and health endpoint answered', () => {
    const judged = judgeHealth('hz-cp-1', health, peers);
    expect(judged.pending).toEqual([]);
    expect(judged.results.map(formatResult)).toEqual([
      'PASS health hz-cp-1 -> hz-worker-1: node and health endpoint answer',
      'PASS health hz-cp-1 -> hz-worker-2: node and health endpoint answer',
    ]);
  });

  it('fails a node whose health endpoint does not answer, and waits for one not probed yet', () => {
    const nodes = (health.nodes ?? []).map((n) =>
      n.name === 'hz-worker-2'
        ? {
            ...n,
            'health-endpoint': {
              'primary-address': {
                ip: '10.42.2.12',
                http: { status: 'Get "http://10.42.2.12:4240/hello": context deadline exceeded' },
                icmp: { status: 'Connection timed out' },
              },
            },
          }
        : n,
    );
    const judged = judgeHealth('hz-cp-1', { nodes }, [...peers, 'hz-worker-3']);
    expect(judged.results.map(formatResult)).toContain(
      'FAIL health hz-cp-1 -> hz-worker-2: health endpoint 10.42.2.12: HTTP Get "http://10.42.2.12:4240/hello": context deadline exceeded, ICMP Connection timed out',
    );
    expect(judged.pending.map(formatResult)).toEqual([
      'FAIL health hz-cp-1 -> hz-worker-3: cilium-health has not probed this node since the check began',
    ]);
  });

  it('waits for probes that ran after the check began: cilium-health serves what it last found', () => {
    const since = Date.parse('2026-08-03T10:14:00Z');
    const judged = judgeHealth('hz-cp-1', health, peers, since);
    // hz-worker-2's probes in the fixture ran before 10:14; hz-worker-1's host probes after.
    expect(judged.pending.map((r) => r.subject).sort()).toEqual(
      peers
        .filter(
          (p) =>
            p !== 'hz-cp-1' &&
            (health.nodes ?? []).some(
              (n) =>
                n.name === p &&
                [n.host?.['primary-address']?.http?.lastProbed, n['health-endpoint']?.['primary-address']?.http?.lastProbed].some(
                  (t) => Date.parse(t ?? '') < since,
                ),
            ),
        )
        .map((p) => `hz-cp-1 -> ${p}`)
        .sort(),
    );
    expect(judgeHealth('hz-cp-1', health, peers, Date.parse('2027-01-01T00:00:00Z')).results).toEqual([]);
  });
});

describe('parseJson', () => {
  it('says why there is no status', () => {
    expect(parseJson({ body: 'connect ENOENT /host/var/run/cilium/cilium.sock' })).toBe(
      'no answer (connect ENOENT /host/var/run/cilium/cilium.sock)',
    );
    expect(parseJson({ status: 403, body: 'This API is administratively disabled' })).toBe(
      'HTTP 403: This API is administratively disabled',
    );
    expect(parseJson({ status: 200, body: '{"cilium":{"state":"Ok"}}' })).toEqual({ cilium: { state: 'Ok' } });
  });
});
