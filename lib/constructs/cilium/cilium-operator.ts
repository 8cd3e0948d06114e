/**
 * The Cilium operator Deployment, as the chosen release's chart renders it, with the documented
 * deviations (tolerations that cannot deadlock the migration; the config checksum).
 */
import { Construct } from 'constructs';
import * as k8s from 'cdk8s-plus-28/lib/imports/k8s.js';
import { imageRef } from '../../versions/images.ts';
import type { CiliumWorkloadProps } from './agent-pod.ts';
import { CILIUM_CONFIG, CONFIG_CHECKSUM_ANNOTATION } from './cilium-agent.ts';
import { CILIUM_NAMESPACE, OPERATOR_ACCOUNT } from './cilium-access.ts';

/**
 * What the operator must tolerate besides: Calico's shutdown leaves nodes tainted
 * network-unavailable, which only the operator clears; k3s HA servers often carry
 * CriticalAddonsOnly. Without these a 1.18+ operator stays Pending and the cluster never recovers.
 */
export const OPERATOR_EXTRA_TOLERATIONS = ['node.kubernetes.io/network-unavailable', 'CriticalAddonsOnly'];

const HEALTH_PORT = 9234;

export interface CiliumOperatorProps extends CiliumWorkloadProps {
  readonly replicas: number;
  readonly configChecksum: string;
}

export class CiliumOperator extends Construct {
  public constructor(scope: Construct, id: string, props: CiliumOperatorProps) {
    super(scope, id);
    const pods = props.version.facts.pods;
    const selector = { 'io.cilium/app': 'operator', name: 'cilium-operator' };
    const labels = { ...selector, 'app.kubernetes.io/part-of': 'cilium', 'app.kubernetes.io/name': 'cilium-operator' };
    // The chart's list (1.18+) plus what the migration needs (deviation operator-tolerations).
    const tolerations: k8s.Toleration[] =
      pods.operatorTolerations === 'all'
        ? [{ operator: 'Exists' }]
        : [...new Set([...pods.operatorTolerations, ...OPERATOR_EXTRA_TOLERATIONS])].map((key) => ({ key, operator: 'Exists' }));
    const named = pods.namedHealthPorts;
    // As the chart: maxUnavailable 100% for one replica, else its default strategy.
    const strategy = props.replicas === 1 ? pods.operatorStrategy.one : pods.operatorStrategy.many;
    const bound = (v: string | number | undefined) =>
      v === undefined ? undefined : typeof v === 'number' ? k8s.IntOrString.fromNumber(v) : k8s.IntOrString.fromString(v);
    const healthz = (): k8s.HttpGetAction => ({
      host: '127.0.0.1',
      path: '/healthz',
      port: named ? k8s.IntOrString.fromString('health') : k8s.IntOrString.fromNumber(HEALTH_PORT),
      scheme: 'HTTP',
    });
    new k8s.KubeDeployment(this, 'Resource', {
      metadata: { name: 'cilium-operator', namespace: CILIUM_NAMESPACE, labels },
      spec: {
        replicas: props.replicas,
        selector: { matchLabels: selector },
        strategy: {
          type: strategy.type,
          rollingUpdate:
            strategy.rollingUpdate === undefined
              ? undefined
              : { maxSurge: bound(strategy.rollingUpdate.maxSurge), maxUnavailable: bound(strategy.rollingUpdate.maxUnavailable) },
        },
        template: {
          metadata: {
            labels,
            annotations: {
              [CONFIG_CHECKSUM_ANNOTATION]: props.configChecksum,
              'prometheus.io/port': '9963',
              'prometheus.io/scrape': 'true',
            },
          },
          spec: {
            hostNetwork: true,
            serviceAccount: pods.serviceAccountField ? OPERATOR_ACCOUNT : undefined,
            serviceAccountName: OPERATOR_ACCOUNT,
            automountServiceAccountToken: true,
            priorityClassName: 'system-cluster-critical',
            restartPolicy: 'Always',
            nodeSelector: { 'kubernetes.io/os': 'linux' },
            tolerations,
            securityContext: pods.operatorHardened ? { seccompProfile: { type: 'RuntimeDefault' } } : undefined,
            affinity: {
              podAntiAffinity: {
                requiredDuringSchedulingIgnoredDuringExecution: [
                  { labelSelector: { matchLabels: { 'io.cilium/app': 'operator' } }, topologyKey: 'kubernetes.io/hostname' },
                ],
              },
            },
            containers: [
              {
                name: 'cilium-operator',
                image: imageRef(props.image),
                imagePullPolicy: 'IfNotPresent',
                command: ['cilium-operator-generic'],
                args: ['--config-dir=/tmp/cilium/config-map', '--debug=$(CILIUM_DEBUG)'],
                env: [
                  { name: 'K8S_NODE_NAME', valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: 'spec.nodeName' } } },
                  { name: 'CILIUM_K8S_NAMESPACE', valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } } },
                  { name: 'CILIUM_DEBUG', valueFrom: { configMapKeyRef: { key: 'debug', name: CILIUM_CONFIG, optional: true } } },
                  { name: 'KUBERNETES_SERVICE_HOST', value: props.apiServer.host },
                  { name: 'KUBERNETES_SERVICE_PORT', value: String(props.apiServer.port) },
                ],
                ports: [
                  ...(named ? [{ name: 'health', containerPort: HEALTH_PORT, hostPort: HEALTH_PORT }] : []),
                  { name: 'prometheus', containerPort: 9963, hostPort: 9963, protocol: 'TCP' },
                ],
                livenessProbe: { httpGet: healthz(), initialDelaySeconds: 60, periodSeconds: 10, timeoutSeconds: 3 },
                // The chart's initialDelaySeconds: 0 is left out: the server does not store a 0 under
                // omitempty, and two server-side appliers of the same file would conflict on it.
                readinessProbe: { httpGet: healthz(), periodSeconds: 5, timeoutSeconds: 3, failureThreshold: 5 },
                terminationMessagePolicy: 'FallbackToLogsOnError',
                securityContext: pods.operatorHardened ? { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } } : undefined,
                volumeMounts: [{ name: 'cilium-config-path', mountPath: '/tmp/cilium/config-map', readOnly: true }],
              },
            ],
            volumes: [{ name: 'cilium-config-path', configMap: { name: CILIUM_CONFIG } }],
          },
        },
      },
    });
  }
}
