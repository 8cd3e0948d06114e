/**
 * The data-path checks' decisions, as plain functions: which echo pod stands for which node, what
 * an answer proves, whether every backend of a Service answered, and what an ingress controller or
 * an external URL answered. The runner (verify-main.ts) sends the requests. Dependency-free.
 */
import type { EchoAnswer } from './echo-server.ts';
import type { CheckResult } from './shared/report.ts';
import { podGone, podReady, type PodObject } from './verify-checks.ts';

/** Reads an echo answer; undefined when the body is not one. */
export function parseEcho(body: string): EchoAnswer | undefined {
  try {
    const parsed = JSON.parse(body) as Partial<EchoAnswer>;
    return parsed.service === 'cilium-cutover-echo' && typeof parsed.pod === 'string' ? (parsed as EchoAnswer) : undefined;
  } catch {
    return undefined;
  }
}

/** An echo pod a check calls: Ready, not being deleted, with an address, on a node. */
export interface EchoTarget {
  readonly pod: string;
  readonly node: string;
  readonly ip: string;
}

/**
 * The echo pod of each node to judge, or a waiting line for a node that has none Ready yet (the
 * DaemonSet puts one on every node but those in run.skipNodes).
 */
export function echoTargets(
  nodes: readonly string[],
  pods: readonly PodObject[],
): { readonly targets: readonly EchoTarget[]; readonly waiting: readonly CheckResult[] } {
  const targets: EchoTarget[] = [];
  const waiting: CheckResult[] = [];
  for (const node of nodes) {
    const pod = pods
      .filter((p) => p.spec?.nodeName === node && !podGone(p) && podReady(p) && p.status?.podIP)
      .sort((a, b) => (a.metadata.name < b.metadata.name ? -1 : 1))[0];
    if (pod) {
      targets.push({ pod: pod.metadata.name, node, ip: pod.status!.podIP! });
    } else {
      waiting.push({ outcome: 'FAIL', check: 'echo', subject: node, detail: 'no Ready echo pod on this node' });
    }
  }
  return { targets, waiting };
}

/** An HTTP exchange as the runner saw it: a status and body, or no answer. */
export interface HttpAnswer {
  readonly status?: number;
  readonly body: string;
  readonly location?: string;
}

/** The answer of a request to the echo backend: it must have answered, and the expected pod when one is named. */
export function judgeEcho(check: string, subject: string, answer: HttpAnswer, expectPod?: string): CheckResult {
  if (answer.status === undefined) {
    return { outcome: 'FAIL', check, subject, detail: `no answer (${answer.body})` };
  }
  const echo = parseEcho(answer.body);
  if (answer.status !== 200 || !echo) {
    return { outcome: 'FAIL', check, subject, detail: `HTTP ${answer.status}, not the echo backend` };
  }
  if (expectPod && echo.pod !== expectPod) {
    return { outcome: 'FAIL', check, subject, detail: `answered by ${echo.pod}, expected ${expectPod}` };
  }
  return { outcome: 'PASS', check, subject, detail: `echo answered from ${echo.pod} on ${echo.node}` };
}

/** The large exchange: the echo pod received every byte sent and answered with as many. */
export function judgeLarge(check: string, subject: string, answer: HttpAnswer, bytes: number, expectPod: string): CheckResult {
  const small = judgeEcho(check, subject, answer, expectPod);
  if (small.outcome !== 'PASS') {
    return small;
  }
  const echo = parseEcho(answer.body)!;
  if (echo.received !== bytes || (echo.padding?.length ?? 0) !== bytes) {
    return {
      outcome: 'FAIL',
      check,
      subject,
      detail: `sent ${bytes} bytes, the echo received ${echo.received ?? 'none'} and answered ${echo.padding?.length ?? 0}`,
    };
  }
  return { outcome: 'PASS', check, subject, detail: `${bytes} bytes each way with ${echo.pod}` };
}

/**
 * A round of requests to a Service: every request must have been answered by one of its echo pods.
 * `seen` collects the pods that answered (across rounds).
 */
export function judgeServiceRound(check: string, subject: string, answers: readonly HttpAnswer[], seen: Set<string>): CheckResult {
  const failures: string[] = [];
  for (const a of answers) {
    const r = judgeEcho(check, subject, a);
    if (r.outcome === 'PASS') {
      seen.add(parseEcho(a.body)!.pod);
    } else {
      failures.push(r.detail);
    }
  }
  if (failures.length > 0) {
    return {
      outcome: 'FAIL',
      check,
      subject,
      detail: `${failures.length} of ${answers.length} requests failed: ${[...new Set(failures)].join('; ')}`,
    };
  }
  return { outcome: 'PASS', check, subject, detail: `${answers.length} of ${answers.length} requests answered by the echo` };
}

/** Every echo pod has answered through the Service at some point in the window. */
export function judgeBackends(check: string, subject: string, targets: readonly EchoTarget[], seen: ReadonlySet<string>): CheckResult {
  const missing = targets.filter((t) => !seen.has(t.pod));
  return missing.length === 0
    ? { outcome: 'PASS', check, subject, detail: `all ${targets.length} backend(s) answered` }
    : {
        outcome: 'FAIL',
        check,
        subject,
        detail: `never answered through the Service: ${missing.map((t) => `${t.pod} on ${t.node} (${t.ip})`).join(', ')}`,
      };
}

/** An external URL must answer 200 itself (a redirect is reported, not followed). */
export function judgeExternal(subject: string, answer: HttpAnswer): CheckResult {
  if (answer.status === 200) {
    return { outcome: 'PASS', check: 'egress', subject, detail: 'HTTP 200' };
  }
  return {
    outcome: 'FAIL',
    check: 'egress',
    subject,
    detail:
      answer.status === undefined
        ? `no answer (${answer.body})`
        : `HTTP ${answer.status}${answer.location ? ` -> ${answer.location}` : ''}, not 200`,
  };
}

/**
 * Where an ingress controller answers with a redirect to HTTPS (Traefik's web entry point
 * redirecting to websecure): the HTTPS port to ask instead, or undefined when it is no such redirect.
 */
export function httpsRedirectPort(answer: HttpAnswer, host: string): number | undefined {
  if (answer.status === undefined || ![301, 302, 307, 308].includes(answer.status) || !answer.location) {
    return undefined;
  }
  try {
    const target = new URL(answer.location);
    if (target.protocol !== 'https:' || target.hostname !== host) {
      return undefined;
    }
    return target.port ? Number(target.port) : 443;
  } catch {
    return undefined;
  }
}

/** The nodes where the ingress controller listens on the host network: where a Ready pod of it runs. */
export function ingressNodes(
  nodes: readonly { readonly name: string; readonly internalIP: string }[],
  controllerPods: readonly PodObject[],
) {
  const running = new Set(controllerPods.filter((p) => !podGone(p) && podReady(p)).map((p) => p.spec?.nodeName));
  return nodes.filter((n) => running.has(n.name));
}

/** The DNS answer for the echo Service must be its ClusterIP. */
export function judgeServiceName(name: string, addresses: readonly string[] | string, clusterIP: string): CheckResult {
  if (typeof addresses === 'string') {
    return { outcome: 'FAIL', check: 'dns', subject: name, detail: addresses };
  }
  return addresses.includes(clusterIP)
    ? { outcome: 'PASS', check: 'dns', subject: name, detail: `${addresses.join(', ')}, the Service's ClusterIP` }
    : {
        outcome: 'FAIL',
        check: 'dns',
        subject: name,
        detail: `resolved to ${addresses.join(', ') || 'nothing'}, not the ClusterIP ${clusterIP}`,
      };
}
