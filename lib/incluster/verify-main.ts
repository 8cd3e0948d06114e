/**
 * Entry point of the verification Jobs: `node verify.mjs <check> <spec.json>`. Runs one check
 * with bounded retries, prints one PASS/FAIL/SKIP line per subject and exits 1 on a FAIL.
 */
import { promises as dns } from 'node:dns';
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { apiClient, objectPath } from './shared/api-client.ts';
import { anyFailed, formatResult, type CheckResult } from './shared/report.ts';
import {
  crossNodeTarget,
  judgeCiliumHealth,
  judgeCoreDns,
  judgeEcho,
  judgeExternal,
  type EndpointObject,
  type NodeObject,
  type PodObject,
  type VerifySpec,
  type WorkloadStatus,
} from './verify-checks.ts';

type List<T> = { items?: T[] };

const api = () =>
  apiClient(process.env.KUBERNETES_SERVICE_HOST ?? '127.0.0.1', Number(process.env.KUBERNETES_SERVICE_PORT ?? '443'), 2, 1000);

/** A plain HTTP GET (node:http, so the Host header can be set); never throws. */
function httpGet(url: string, hostHeader?: string): Promise<{ status?: number; body: string }> {
  return new Promise((resolve) => {
    const req = request(url, { headers: hostHeader ? { host: hostHeader } : {}, timeout: 5000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk.slice(0, 4096)));
      res.on('end', () => resolve({ status: res.statusCode, body }));
    });
    req.on('timeout', () => req.destroy(new Error('timed out after 5s')));
    req.on('error', (err) => resolve({ body: err.message }));
    req.end();
  });
}

const CHECKS: Record<string, (spec: VerifySpec) => Promise<CheckResult[]>> = {
  async coredns() {
    const pods = await api().get<List<PodObject>>(
      `${objectPath('', 'v1', 'pods', 'kube-system')}?labelSelector=${encodeURIComponent('k8s-app=kube-dns')}`,
    );
    return [judgeCoreDns(pods?.items ?? [])];
  },

  async clusterip(spec) {
    const svc = await api().get<{ spec?: { clusterIP?: string } }>(objectPath('', 'v1', 'services', spec.namespace, spec.echo.service));
    const ip = svc?.spec?.clusterIP;
    const subject = `${spec.namespace}/${spec.echo.service}`;
    if (!ip) {
      return [{ outcome: 'FAIL', check: 'clusterip', subject, detail: 'the Service has no ClusterIP' }];
    }
    const answer = await httpGet(`http://${ip}:${spec.echo.servicePort}/`);
    return [judgeEcho('clusterip', `${subject} ${ip}:${spec.echo.servicePort}`, answer.status, answer.body)];
  },

  async 'pod-to-pod'(spec) {
    const self = process.env.NODE_NAME ?? '';
    if (spec.nodes.length < 2) {
      return [{ outcome: 'SKIP', check: 'pod-to-pod', subject: self, detail: 'the cluster has one node: there is no other node to reach' }];
    }
    const pods = await api().get<List<PodObject>>(
      `${objectPath('', 'v1', 'pods', spec.namespace)}?labelSelector=${encodeURIComponent(spec.echo.selector)}`,
    );
    const target = crossNodeTarget(self, pods?.items ?? []);
    if (!target) {
      return [{ outcome: 'FAIL', check: 'pod-to-pod', subject: self, detail: `no running echo pod on another node than ${self}` }];
    }
    const url = `http://${target.status!.podIP}:${spec.echo.podPort}/`;
    const answer = await httpGet(url);
    return [
      judgeEcho(
        'pod-to-pod',
        `${self} -> ${target.spec!.nodeName} ${target.status!.podIP}`,
        answer.status,
        answer.body,
        target.metadata.name,
      ),
    ];
  },

  async dns(spec) {
    const names = ['kubernetes.default.svc.cluster.local', `${spec.echo.service}.${spec.namespace}.svc.cluster.local`];
    return Promise.all(
      names.map(async (name): Promise<CheckResult> => {
        try {
          const addresses = await dns.resolve4(name);
          return { outcome: 'PASS', check: 'dns', subject: name, detail: addresses.join(', ') };
        } catch (err) {
          return { outcome: 'FAIL', check: 'dns', subject: name, detail: (err as NodeJS.ErrnoException).code ?? (err as Error).message };
        }
      }),
    );
  },

  async ingress(spec) {
    const ingress = spec.ingress;
    if (!ingress) {
      return [
        {
          outcome: 'SKIP',
          check: 'ingress',
          subject: spec.namespace,
          detail: 'verify.ingress is not configured (no ingress controller to test)',
        },
      ];
    }
    const targets =
      ingress.controller === 'hostNetwork'
        ? spec.nodes.map((n) => ({ subject: `${n.name} ${n.internalIP}:${ingress.port}`, url: `http://${n.internalIP}:${ingress.port}/` }))
        : [
            {
              subject: `${ingress.service.namespace}/${ingress.service.name}:${ingress.port}`,
              url: `http://${ingress.service.name}.${ingress.service.namespace}.svc.cluster.local:${ingress.port}/`,
            },
          ];
    return Promise.all(
      targets.map(async (t) => {
        const answer = await httpGet(t.url, ingress.host);
        return judgeEcho('ingress', `${ingress.host} via ${t.subject}`, answer.status, answer.body);
      }),
    );
  },

  async external(spec) {
    if (spec.externalURLs.length === 0) {
      return [{ outcome: 'SKIP', check: 'external', subject: '-', detail: 'verify.externalURLs is empty' }];
    }
    return Promise.all(
      spec.externalURLs.map(async (url) => {
        try {
          const res = await fetch(url, { redirect: 'manual', signal: AbortSignal.timeout(10_000) });
          const location = res.headers.get('location');
          return judgeExternal(url, res.status, location ? `-> ${location}` : '');
        } catch (err) {
          return judgeExternal(url, undefined, (err as Error).message);
        }
      }),
    );
  },

  async 'cilium-health'(spec) {
    const client = api();
    const get = <T>(path: string) => client.get<T>(path);
    const [agent, operator, pods, endpoints, ...nodes] = await Promise.all([
      get<WorkloadStatus>(objectPath('apps', 'v1', 'daemonsets', 'kube-system', 'cilium')),
      get<WorkloadStatus>(objectPath('apps', 'v1', 'deployments', 'kube-system', 'cilium-operator')),
      get<List<PodObject>>(objectPath('', 'v1', 'pods', undefined)),
      get<List<EndpointObject>>(objectPath('cilium.io', 'v2', 'ciliumendpoints', undefined)),
      ...spec.nodes.map((n) => get<NodeObject>(objectPath('', 'v1', 'nodes', undefined, n.name))),
    ]);
    return judgeCiliumHealth({
      agent: agent as WorkloadStatus | undefined,
      operator: operator as WorkloadStatus | undefined,
      nodes: nodes as (NodeObject | undefined)[],
      nodeNames: spec.nodes.map((n) => n.name),
      pods: (pods as List<PodObject> | undefined)?.items ?? [],
      endpoints: (endpoints as List<EndpointObject> | undefined)?.items,
      podCIDR: spec.podCIDR,
    });
  },
};

async function main(): Promise<number> {
  const [check, specFile] = process.argv.slice(2);
  const run = check ? CHECKS[check] : undefined;
  if (!run) {
    console.log(`FAIL verify ${check ?? '(none)'}: unknown check; one of ${Object.keys(CHECKS).join(', ')}`);
    return 1;
  }
  const spec = JSON.parse(readFileSync(specFile ?? '/etc/cilium-cutover/verify.json', 'utf8')) as VerifySpec;
  let results: CheckResult[] = [];
  for (let attempt = 1; attempt <= spec.attempts; attempt++) {
    try {
      results = await run(spec);
    } catch (err) {
      results = [{ outcome: 'FAIL', check, subject: 'api', detail: (err as Error).message }];
    }
    if (!anyFailed(results) || attempt === spec.attempts) {
      break;
    }
    for (const r of results.filter((x) => x.outcome === 'FAIL')) {
      console.log(`RETRY ${attempt}/${spec.attempts} ${formatResult(r)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, spec.delaySeconds * 1000));
  }
  for (const r of results) {
    console.log(formatResult(r));
  }
  return anyFailed(results) ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.log(`FAIL verify: ${(err as Error).message}`);
    process.exit(1);
  },
);
