/**
 * One round of the pod-network check of one node (`verify-pods-<node>`, pinned to it): from a pod
 * on this node to every node's echo pod (small and large), through the echo ClusterIP until every
 * backend has answered, to every node's NodePort, cluster and outside names through cluster DNS,
 * the external URLs, and the ingress controller to the echo backend.
 */
import type { ApiClient } from './shared/api-client.ts';
import { objectPath } from './shared/api-client.ts';
import type { CheckResult } from './shared/report.ts';
import type { PodObject } from './verify-checks.ts';
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
  type EchoTarget,
  type HttpAnswer,
} from './verify-paths.ts';
import { fetchAnswer, inBatches, resolveName } from './verify-probes.ts';
import type { VerifySpec } from './verify-spec.ts';
import type { Round } from './verify-window.ts';

type List<T> = { items?: T[] };
export interface ServiceObject {
  readonly spec?: {
    readonly clusterIP?: string;
    readonly selector?: Readonly<Record<string, string>>;
    readonly ports?: readonly { readonly name?: string; readonly port: number; readonly nodePort?: number }[];
  };
}

/** Requests per round through a Service: enough that every backend is likely to answer within a few rounds. */
export const serviceRequests = (backends: number): number => Math.max(6, 3 * backends);

/** The echo pods and Services every round starts from. */
export async function echoState(api: ApiClient, spec: VerifySpec) {
  const selector = encodeURIComponent(spec.echo.selector);
  const [pods, svc, nodePortSvc] = await Promise.all([
    api.get<List<PodObject>>(`${objectPath('', 'v1', 'pods', spec.namespace)}?labelSelector=${selector}`),
    api.get<ServiceObject>(objectPath('', 'v1', 'services', spec.namespace, spec.echo.service)),
    api.get<ServiceObject>(objectPath('', 'v1', 'services', spec.namespace, spec.echo.nodePortService)),
  ]);
  const { targets, waiting } = echoTargets(
    spec.nodes.map((n) => n.name),
    pods?.items ?? [],
  );
  const clusterIP = svc?.spec?.clusterIP;
  const nodePort = nodePortSvc?.spec?.ports?.[0]?.nodePort;
  const missing: CheckResult[] = [
    ...(clusterIP ? [] : [{ outcome: 'FAIL' as const, check: 'echo', subject: spec.echo.service, detail: 'the Service has no ClusterIP' }]),
    ...(nodePort
      ? []
      : [{ outcome: 'FAIL' as const, check: 'echo', subject: spec.echo.nodePortService, detail: 'the Service has no NodePort' }]),
  ];
  return { targets, waiting: [...waiting, ...missing], clusterIP: clusterIP ?? '', nodePort: nodePort ?? 0 };
}

/** The echo pods and the echo ClusterIP from here; shared with the host check. */
export async function echoPaths(
  spec: VerifySpec,
  self: string,
  state: { readonly targets: readonly EchoTarget[]; readonly clusterIP: string; readonly nodePort: number },
  seen: Set<string>,
  prefix: string,
): Promise<CheckResult[]> {
  const { targets, clusterIP, nodePort } = state;
  const direct = (t: EchoTarget) => fetchAnswer({ url: `http://${t.ip}:${spec.echo.podPort}/` });
  const large = (t: EchoTarget) =>
    fetchAnswer({
      url: `http://${t.ip}:${spec.echo.podPort}/large`,
      method: 'POST',
      bodyBytes: spec.limits.payloadBytes,
      timeoutMs: 15_000,
    });
  const viaService = Array.from(
    { length: serviceRequests(targets.length) },
    () => () => fetchAnswer({ url: `http://${clusterIP}:${spec.echo.servicePort}/` }),
  );
  const [small, big, service, nodePorts] = await Promise.all([
    inBatches(targets.map((t) => () => direct(t))),
    inBatches(targets.map((t) => () => large(t))),
    inBatches(viaService),
    inBatches(spec.nodes.map((n) => () => fetchAnswer({ url: `http://${n.internalIP}:${nodePort}/` }))),
  ]);
  const serviceSubject = `${self} -> ${spec.namespace}/${spec.echo.service} ${clusterIP}:${spec.echo.servicePort}`;
  return [
    ...targets.map((t, i) => judgeEcho(`${prefix}to-pod`, `${self} -> ${t.node} ${t.ip}`, small[i]!, t.pod)),
    ...targets.map((t, i) =>
      judgeLarge(`${prefix}large-payload`, `${self} -> ${t.node} ${t.ip}`, big[i]!, spec.limits.payloadBytes, t.pod),
    ),
    judgeServiceRound(`${prefix}clusterip`, serviceSubject, service, seen),
    judgeBackends(`${prefix}clusterip-backends`, serviceSubject, targets, seen),
    ...spec.nodes.map((n, i) => judgeEcho(`${prefix}nodeport`, `${self} -> ${n.name} ${n.internalIP}:${nodePort}`, nodePorts[i]!)),
  ];
}

async function dnsResults(spec: VerifySpec, clusterIP: string): Promise<CheckResult[]> {
  const api = `kubernetes.default.svc.${spec.clusterDomain}`;
  const echo = `${spec.echo.service}.${spec.namespace}.svc.${spec.clusterDomain}`;
  const outside = [...new Set(spec.externalURLs.map((u) => new URL(u).hostname))].filter((h) => !/^[\d.]+$/.test(h));
  const [apiAnswer, echoAnswer, ...outsideAnswers] = await Promise.all([api, echo, ...outside].map(resolveName));
  const named = (name: string, a: string[] | string): CheckResult =>
    typeof a === 'string' || a.length === 0
      ? { outcome: 'FAIL', check: 'dns', subject: name, detail: typeof a === 'string' ? a : 'no address' }
      : { outcome: 'PASS', check: 'dns', subject: name, detail: a.join(', ') };
  return [named(api, apiAnswer!), judgeServiceName(echo, echoAnswer!, clusterIP), ...outside.map((h, i) => named(h, outsideAnswers[i]!))];
}

/** An ingress request, following a redirect to HTTPS on `httpsPort`. */
async function ingressAnswer(address: string, port: number, httpsPort: number | undefined, host: string): Promise<HttpAnswer> {
  const answer = await fetchAnswer({ url: `http://${address}:${port}/`, host });
  const redirect = httpsRedirectPort(answer, host);
  if (redirect === undefined) {
    return answer;
  }
  return fetchAnswer({ url: `https://${address}:${httpsPort ?? redirect}/`, host, anyCertificate: true });
}

async function ingressResults(api: ApiClient, spec: VerifySpec, self: string): Promise<Round> {
  const ingress = spec.ingress!;
  const { namespace, name } = ingress.service;
  const svc = await api.get<ServiceObject>(objectPath('', 'v1', 'services', namespace, name));
  if (!svc?.spec) {
    return {
      waiting: [{ outcome: 'FAIL', check: 'ingress', subject: `${namespace}/${name}`, detail: 'the Service is not there' }],
      results: [],
    };
  }
  const ports = svc.spec.ports ?? [];
  const http = ports.find((p) => p.port === ingress.port);
  const https = ports.find((p) => p.port === 443);
  const paths: { subject: string; address: string; port: number; httpsPort?: number }[] = [];
  if (ingress.controller === 'hostNetwork') {
    const selector = Object.entries(svc.spec.selector ?? {})
      .map(([k, v]) => `${k}=${v}`)
      .join(',');
    const pods = await api.get<List<PodObject>>(`${objectPath('', 'v1', 'pods', namespace)}?labelSelector=${encodeURIComponent(selector)}`);
    const nodes = ingressNodes(spec.nodes, pods?.items ?? []);
    if (nodes.length === 0) {
      return {
        waiting: [
          {
            outcome: 'FAIL',
            check: 'ingress',
            subject: `${namespace}/${name}`,
            detail: 'no Ready pod of the controller on a checked node',
          },
        ],
        results: [],
      };
    }
    nodes.forEach((n) => paths.push({ subject: `${n.name} ${n.internalIP}:${ingress.port}`, address: n.internalIP, port: ingress.port }));
  } else {
    paths.push({
      subject: `${namespace}/${name} ${svc.spec.clusterIP}:${ingress.port}`,
      address: svc.spec.clusterIP ?? '',
      port: ingress.port,
      httpsPort: https?.port,
    });
    if (http?.nodePort) {
      // The path a load balancer in front of the nodes takes: each node's NodePort.
      spec.nodes.forEach((n) =>
        paths.push({
          subject: `${n.name} NodePort ${n.internalIP}:${http.nodePort}`,
          address: n.internalIP,
          port: http.nodePort!,
          httpsPort: https?.nodePort,
        }),
      );
    }
  }
  const answers = await inBatches(paths.map((p) => () => ingressAnswer(p.address, p.port, p.httpsPort, ingress.host)));
  return { waiting: [], results: paths.map((p, i) => judgeEcho('ingress', `${self} -> ${ingress.host} via ${p.subject}`, answers[i]!)) };
}

/** The round function of `verify-pods-<node>`. */
export function podsRound(api: ApiClient, spec: VerifySpec, self: string): () => Promise<Round> {
  const seen = new Set<string>();
  return async () => {
    const state = await echoState(api, spec);
    if (state.waiting.length > 0) {
      return { waiting: state.waiting, results: [] };
    }
    const [paths, names, egress, ingress] = await Promise.all([
      echoPaths(spec, self, state, seen, 'pod-'),
      dnsResults(spec, state.clusterIP),
      inBatches(
        spec.externalURLs.map((url) => async () => judgeExternal(`${self} -> ${url}`, await fetchAnswer({ url, timeoutMs: 10_000 }))),
      ),
      spec.ingress ? ingressResults(api, spec, self) : Promise.resolve({ waiting: [], results: [] } as Round),
    ]);
    const skipped = spec.notVerified.map((c): CheckResult => ({
      outcome: 'SKIP',
      check: c,
      subject: self,
      detail: 'acknowledged in verify.skip: not verified',
    }));
    return { waiting: ingress.waiting, results: [...paths, ...names, ...egress, ...ingress.results, ...skipped] };
  };
}
