/**
 * hetzner-cloud: the preflight's judgement of the hcloud cloud controller, as a plain function over
 * its Deployment or DaemonSet. Dependency-free.
 */
import { cidrWithin, type PreflightSpec } from './preflight-checks.ts';
import type { CheckResult } from './shared/report.ts';

/** One container of the cloud controller as the preflight reads it. */
export interface ControllerContainer {
  readonly name: string;
  readonly image?: string;
  readonly command?: readonly string[];
  readonly args?: readonly string[];
  readonly env?: readonly { readonly name: string; readonly value?: string; readonly valueFrom?: unknown }[];
  readonly envFrom?: readonly unknown[];
}

/** The parts of the cloud controller's Deployment or DaemonSet (the hcloud chart's `kind` value) the preflight reads. */
export interface ControllerObject {
  readonly kind?: string;
  readonly spec?: {
    readonly template?: { readonly spec?: { readonly hostNetwork?: boolean; readonly containers?: readonly ControllerContainer[] } };
  };
  readonly status?: { readonly readyReplicas?: number; readonly numberReady?: number };
}

/** The values Go's strconv.ParseBool reads as false. */
const GO_FALSE = new Set(['0', 'f', 'F', 'false', 'FALSE', 'False']);

/**
 * The value of `--name` among a container's command and args, as Go's flag parsing takes it: the
 * last occurrence wins; `--name=value`, or `--name value` unless the flag is boolean (a boolean flag
 * takes no separate word: `--name` alone is true).
 */
export function flagValue(container: ControllerContainer, name: string, boolean = false): string | undefined {
  const words = [...(container.command ?? []), ...(container.args ?? [])];
  let value: string | undefined;
  for (let i = 0; i < words.length; i++) {
    const word = words[i]!;
    if (word === `--${name}`) {
      const next = words[i + 1];
      value = boolean || next === undefined || next.startsWith('-') ? 'true' : next;
    } else if (word.startsWith(`--${name}=`)) {
      value = word.slice(name.length + 3);
    }
  }
  return value;
}

/**
 * Whether `--controllers` leaves the route controller on (k8s.io/cloud-provider
 * IsControllerEnabled: the first entry that names it, `route`, its alias, or its name
 * `node-route-controller`, decides, with `-` turning it off; otherwise `*`, the default, turns it on).
 */
export function routeControllerEnabled(controllers: string | undefined): boolean {
  const entries = (controllers ?? '*').split(',').map((e) => e.trim());
  for (const entry of entries) {
    if (entry === 'route' || entry === 'node-route-controller') {
      return true;
    }
    if (entry === '-route' || entry === '-node-route-controller') {
      return false;
    }
  }
  return entries.includes('*');
}

/** `v1.18.0` → 18: the minor version of the controller's image tag, or undefined. */
function controllerMinor(image: string | undefined): number | undefined {
  const tag = /:v1\.(\d+)\.\d+/.exec(image ?? '')?.[1];
  return tag === undefined ? undefined : Number(tag);
}

/** Whether a HCLOUD_NETWORK_ROUTES_ENABLED value turns the routes off for this controller version. */
function routesOff(value: string, minor: number | undefined): boolean {
  // Up to v1.18 only the exact string "false" (hcloud/cloud.go); from v1.19 strconv.ParseBool
  // (internal/config/config.go getEnvBool), where a value it cannot parse stops the controller.
  return minor !== undefined && minor < 19 ? value === 'false' : GO_FALSE.has(value);
}

/** The WARN for a `--cluster-cidr` other than the pod CIDR: what the route controller then does wrong. */
function clusterCidrWarning(spec: PreflightSpec, clusterCidr: string): string | undefined {
  if (clusterCidr === spec.podCIDR) {
    return undefined;
  }
  const effect = cidrWithin(spec.podCIDR, clusterCidr)
    ? 'it takes every route of the network inside that range for its own and deletes the ones that belong to no node (route_controller.go isResponsibleForRoute), other routes of yours included'
    : "it still routes each node's pod CIDR, with a ClusterCIDRMisconfigured event each time (hcloud/routes.go CreateRoute), but never deletes one (it is outside its range), so the routes of removed nodes pile up against the network's limit of 100 routes";
  return `--cluster-cidr is ${clusterCidr}, cluster.podCIDR is ${spec.podCIDR}: ${effect}; set the chart's networking.clusterCIDR to ${spec.podCIDR}`;
}

/**
 * hetzner-cloud: the hcloud cloud controller creates a route in the network for each node's pod
 * CIDR, and survives the outage. Its route controller runs only when
 * - networking is on: HCLOUD_NETWORK set and not empty (internal/config/config.go Read);
 * - HCLOUD_NETWORK_ROUTES_ENABLED is not false (same function; default true);
 * - `--cluster-cidr` is a CIDR: hcloud/routes.go newRoutes parses it, and Routes() turns the route
 *   controller off when that fails (the hcloud chart passes it, with `--allocate-node-cidrs=true`,
 *   only with `networking.enabled`);
 * - `--configure-cloud-routes` is not false and `--controllers` does not leave the route
 *   controller out (k8s.io/cloud-provider app/core.go startRouteController; defaults on).
 * The controller has no readiness probe: a ready replica is one whose container runs. Read at
 * hetznercloud/hcloud-cloud-controller-manager v1.27.0 and kubernetes/cloud-provider v0.34.1.
 */
export function checkCloudController(spec: PreflightSpec, controller: ControllerObject | undefined): CheckResult[] {
  const cc = spec.cloudController!;
  const subject = `${cc.namespace}/${cc.name}`;
  if (!controller) {
    return [
      {
        outcome: 'FAIL',
        check: 'hcloud-ccm',
        subject,
        detail:
          'no Deployment or DaemonSet of that name: without it no route to any pod CIDR exists in the Hetzner network; install it with networking enabled, or fix cluster.network.cloudController',
      },
    ];
  }
  const pod = controller.spec?.template?.spec;
  const containers = pod?.containers ?? [];
  const container = containers.find((c) => c.env?.some((e) => e.name === 'HCLOUD_NETWORK')) ?? containers[0];
  // Of two entries with one name, the container gets the last.
  const env = (name: string) => container?.env?.filter((e) => e.name === name).at(-1);
  const fromEnvFrom = (container?.envFrom ?? []).length > 0;
  const problems: string[] = [];
  const warnings: string[] = [];
  const network = env('HCLOUD_NETWORK');
  if (!network || network.value === '') {
    if (fromEnvFrom) {
      warnings.push('HCLOUD_NETWORK is not in its env and envFrom is not read here: check that networking is on');
    } else {
      problems.push('networking is off (no HCLOUD_NETWORK): it creates no routes for pod CIDRs');
    }
  }
  const routes = env('HCLOUD_NETWORK_ROUTES_ENABLED');
  if (routes?.value !== undefined && routesOff(routes.value, controllerMinor(container?.image))) {
    problems.push(
      `HCLOUD_NETWORK_ROUTES_ENABLED is "${routes.value}": its route controller is off, so no pod CIDR is routed; remove the variable`,
    );
  } else if (routes?.valueFrom !== undefined) {
    warnings.push('HCLOUD_NETWORK_ROUTES_ENABLED comes from a reference not read here: check that it is not false');
  }
  const clusterCidr = container ? flagValue(container, 'cluster-cidr') : undefined;
  if (clusterCidr === undefined || !/^\d+\.\d+\.\d+\.\d+\/\d+$/.test(clusterCidr)) {
    problems.push(
      `${clusterCidr === undefined ? 'no --cluster-cidr' : `--cluster-cidr "${clusterCidr}" is not a CIDR`}: its route controller never starts (the hcloud chart passes --allocate-node-cidrs=true --cluster-cidr only with networking.enabled); enable networking with networking.clusterCIDR ${spec.podCIDR}`,
    );
  }
  const configure = container ? flagValue(container, 'configure-cloud-routes', true) : undefined;
  if (configure !== undefined && GO_FALSE.has(configure)) {
    problems.push('--configure-cloud-routes is false: it creates no routes; remove the flag');
  }
  const controllers = container ? flagValue(container, 'controllers') : undefined;
  if (!routeControllerEnabled(controllers)) {
    problems.push(`--controllers=${controllers} leaves out the route controller: it creates no routes; enable it`);
  }
  if (pod?.hostNetwork !== true) {
    problems.push('it does not run with hostNetwork: it stops working while the pod network is down');
  }
  const ready = controller.kind === 'DaemonSet' ? controller.status?.numberReady : controller.status?.readyReplicas;
  if (!ready) {
    problems.push(
      `no ready pod (${controller.kind ?? 'Deployment'} reports none): a crash-looping controller routes nothing; \`kubectl -n ${cc.namespace} logs\` it`,
    );
  }
  if (problems.length > 0) {
    return [{ outcome: 'FAIL', check: 'hcloud-ccm', subject, detail: problems.join('; ') }];
  }
  const cidrWarning = clusterCidrWarning(spec, clusterCidr!);
  return [
    {
      outcome: 'PASS',
      check: 'hcloud-ccm',
      subject,
      detail: `${controller.kind ?? 'Deployment'}, networking and routes on, --cluster-cidr ${clusterCidr}, host network, ${ready} ready`,
    },
    ...[...warnings, ...(cidrWarning ? [cidrWarning] : [])].map((detail): CheckResult => ({
      outcome: 'WARN',
      check: 'hcloud-ccm',
      subject,
      detail,
    })),
  ];
}
