/**
 * The Cilium agent DaemonSet, shaped as the chosen release's chart shapes it (its switches in
 * lib/versions/cilium-releases.json), minus the documented deviations (lib/constructs/cilium/deviations.ts).
 */
import { ApiObject, JsonPatch } from 'cdk8s';
import { Construct } from 'constructs';
import * as k8s from 'cdk8s-plus-28/lib/imports/k8s.js';
import { agentContainer, APPARMOR_CONTAINERS, initContainers, volumes, type AgentPodProps } from './agent-pod.ts';
import { AGENT_ACCOUNT, CILIUM_NAMESPACE } from './cilium-access.ts';
import type { CiliumVersion } from '../../versions/cilium.ts';

export { AGENT_HEALTH_PORT, CILIUM_CONFIG } from './agent-pod.ts';
/** Pod-template annotation with the hash of cilium-config: a config change rolls the pods. */
export const CONFIG_CHECKSUM_ANNOTATION = 'cilium-cutover.io/config-checksum';

export interface CiliumAgentProps extends AgentPodProps {
  /** Minor version the servers run, e.g. 30 for v1.30: decides how AppArmor is expressed. */
  readonly kubernetesMinor: number;
  /** Hash of the cilium-config data. */
  readonly configChecksum: string;
}

/**
 * AppArmor `Unconfined` as the pod's `appArmorProfile` field, where the release's chart uses the
 * field and the servers know it (Kubernetes 1.30); else the chart annotates each container.
 */
export function appArmorAsField(version: CiliumVersion, kubernetesMinor: number): boolean {
  return version.facts.pods.appArmor === 'field' && kubernetesMinor >= 30;
}

export class CiliumAgent extends Construct {
  public constructor(scope: Construct, id: string, props: CiliumAgentProps) {
    super(scope, id);
    const pods = props.version.facts.pods;
    const labels = { 'k8s-app': 'cilium', 'app.kubernetes.io/name': 'cilium-agent', 'app.kubernetes.io/part-of': 'cilium' };
    const appArmorField = appArmorAsField(props.version, props.kubernetesMinor);
    const spec: k8s.DaemonSetSpec = {
      selector: { matchLabels: { 'k8s-app': 'cilium' } },
      updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: k8s.IntOrString.fromNumber(2) } },
      template: {
        metadata: { labels, annotations: podAnnotations(props, appArmorField) },
        spec: {
          hostNetwork: true,
          serviceAccount: pods.serviceAccountField ? AGENT_ACCOUNT : undefined,
          serviceAccountName: AGENT_ACCOUNT,
          automountServiceAccountToken: true,
          priorityClassName: 'system-node-critical',
          restartPolicy: 'Always',
          terminationGracePeriodSeconds: 1,
          nodeSelector: { 'kubernetes.io/os': 'linux' },
          tolerations: [{ operator: 'Exists' }],
          securityContext: pods.seccompUnconfined ? { seccompProfile: { type: 'Unconfined' } } : undefined,
          affinity: {
            podAntiAffinity: {
              requiredDuringSchedulingIgnoredDuringExecution: [
                { labelSelector: { matchLabels: { 'k8s-app': 'cilium' } }, topologyKey: 'kubernetes.io/hostname' },
              ],
            },
          },
          initContainers: initContainers(props),
          containers: [agentContainer(props)],
          volumes: volumes(pods, props.envoyDaemonSet),
        },
      },
    };
    // A plain ApiObject over the typed spec: the typed KubeDaemonSet would drop fields newer than
    // its API (Kubernetes 1.28), such as appArmorProfile, even from a JSON patch.
    const ds = new ApiObject(this, 'Resource', {
      apiVersion: 'apps/v1',
      kind: 'DaemonSet',
      metadata: { name: 'cilium', namespace: CILIUM_NAMESPACE, labels },
      spec: k8s.toJson_DaemonSetSpec(spec),
    });
    if (appArmorField) {
      ds.addJsonPatch(
        pods.seccompUnconfined
          ? JsonPatch.add('/spec/template/spec/securityContext/appArmorProfile', { type: 'Unconfined' })
          : JsonPatch.add('/spec/template/spec/securityContext', { appArmorProfile: { type: 'Unconfined' } }),
      );
    }
  }
}

/** Pod-template annotations: the config checksum, AppArmor where no field carries it, the default container. */
function podAnnotations(props: CiliumAgentProps, appArmorField: boolean): Record<string, string> {
  const pods = props.version.facts.pods;
  const annotations: Record<string, string> = { [CONFIG_CHECKSUM_ANNOTATION]: props.configChecksum };
  if (!appArmorField) {
    for (const c of APPARMOR_CONTAINERS) {
      annotations[`container.apparmor.security.beta.kubernetes.io/${c}`] = 'unconfined';
    }
  }
  if (pods.defaultContainerAnnotation) {
    annotations['kubectl.kubernetes.io/default-container'] = 'cilium-agent';
  }
  return annotations;
}
