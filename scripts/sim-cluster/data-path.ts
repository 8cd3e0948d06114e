/**
 * What the simulation's data-path stand-ins read: the DNS responder's records and the ingress
 * stand-in's routes, from the cluster's Services and Ingresses; and a pod's /etc/resolv.conf.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { formatIpv4, parseCidr } from '../../lib/cidr.ts';
import type { ResolvedConfig } from '../../lib/config/resolve.ts';
import { EXTERNAL_IP, EXTERNAL_NAME } from './network.ts';

type Json = Record<string, any>;

/** The cluster's DNS domain (k3s's default). */
export const CLUSTER_DOMAIN = 'cluster.local';

/**
 * The writer of the stand-ins' view of Services: DNS names (`dns-records.json`) and the ingress
 * controller's routes (`ingress-routes.json`) in the run directory. The stand-ins read these files
 * per request: each is rewritten only when its content changes.
 */
export function dataPathWriter(run: string): (services: readonly Json[], ingresses: readonly Json[]) => void {
  const written = new Map<string, string>();
  const writeIfChanged = (path: string, text: string) => {
    if (written.get(path) !== text) {
      writeFileSync(path, text);
      written.set(path, text);
    }
  };
  return (services: readonly Json[], ingresses: readonly Json[]) => {
    // CoreDNS forwards other names upstream: the one outside name the simulation has.
    const records: Record<string, string[]> = { [EXTERNAL_NAME]: [EXTERNAL_IP] };
    for (const svc of services) {
      if (svc.spec?.clusterIP && svc.spec.clusterIP !== 'None') {
        records[`${svc.metadata.name}.${svc.metadata.namespace}.svc.${CLUSTER_DOMAIN}`] = [svc.spec.clusterIP];
      }
    }
    writeIfChanged(join(run, 'dns-records.json'), JSON.stringify(records));
    const routes: Record<string, string> = {};
    for (const ing of ingresses) {
      for (const rule of ing.spec?.rules ?? []) {
        const backend = rule.http?.paths?.[0]?.backend?.service;
        const svc = services.find((s) => s.metadata.namespace === ing.metadata.namespace && s.metadata.name === backend?.name);
        const port = backend?.port?.number ?? svc?.spec?.ports?.find((p: Json) => p.name === backend?.port?.name)?.port;
        if (rule.host && svc?.spec?.clusterIP && port) {
          routes[rule.host] = `${svc.spec.clusterIP}:${port}`;
        }
      }
    }
    writeIfChanged(join(run, 'ingress-routes.json'), JSON.stringify(routes));
  };
}

/**
 * The pod's /etc/resolv.conf for its dnsPolicy (kubelet's pkg/kubelet/network/dns): the DNS
 * Service is the service CIDR's tenth address, as k3s sets it.
 */
export function resolvConf(pod: Json, config: ResolvedConfig, nodeRoot: string): string {
  const policy = pod.spec.dnsPolicy ?? 'ClusterFirst';
  const clusterFirst = policy === 'ClusterFirstWithHostNet' || (policy === 'ClusterFirst' && !pod.spec.hostNetwork);
  if (!clusterFirst) {
    return readFileSync(join(nodeRoot, 'etc', 'resolv.conf'), 'utf8');
  }
  const dnsIP = formatIpv4(parseCidr(config.cluster.serviceCIDR)!.first + 10);
  const ns = pod.metadata.namespace;
  return `search ${ns}.svc.${CLUSTER_DOMAIN} svc.${CLUSTER_DOMAIN} ${CLUSTER_DOMAIN}\nnameserver ${dnsIP}\noptions ndots:5\n`;
}
