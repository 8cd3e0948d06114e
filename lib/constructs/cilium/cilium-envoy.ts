/**
 * Envoy as its own DaemonSet (`cilium.envoy: daemonset`), as the release's chart renders it with
 * `envoy.enabled: true`: its ServiceAccount, its bootstrap ConfigMap, the headless metrics Service
 * and the DaemonSet, which shares the sockets directory with the agent (lib/versions/cilium-releases.json
 * `envoy`).
 */
import { ApiObject, JsonPatch } from 'cdk8s';
import { Construct } from 'constructs';
import * as k8s from 'cdk8s-plus-28/lib/imports/k8s.js';
import { imageRef } from '../../versions/images.ts';
import { bootstrap } from '../../versions/cilium-releases.ts';
import { ENVOY_SOCKETS, hostPath, type CiliumWorkloadProps } from './agent-pod.ts';
import { appArmorAsField } from './cilium-agent.ts';
import { CILIUM_NAMESPACE } from './cilium-access.ts';

const NAME = 'cilium-envoy';
const CONFIG = 'cilium-envoy-config';
const BOOTSTRAP = 'bootstrap-config.json';
/** Envoy's health listener (in the bootstrap) and its Prometheus listener. */
const HEALTH_PORT = 9878;
const METRICS_PORT = 9964;

export interface CiliumEnvoyProps extends CiliumWorkloadProps {
  /** Minor version the servers run: AppArmor as a field from 1.30, as the agent's. */
  readonly kubernetesMinor: number;
}

export class CiliumEnvoy extends Construct {
  public constructor(scope: Construct, id: string, props: CiliumEnvoyProps) {
    super(scope, id);
    const { envoy, pods } = props.version.facts;
    const selector = { 'k8s-app': NAME };
    const labels = { ...selector, 'app.kubernetes.io/part-of': 'cilium', 'app.kubernetes.io/name': NAME };
    const metricsAnnotations = { 'prometheus.io/scrape': 'true', 'prometheus.io/port': String(METRICS_PORT) };
    new k8s.KubeServiceAccount(this, 'Account', { metadata: { name: NAME, namespace: CILIUM_NAMESPACE } });
    new k8s.KubeConfigMap(this, 'Config', {
      metadata: { name: CONFIG, namespace: CILIUM_NAMESPACE },
      data: { [BOOTSTRAP]: bootstrap(envoy.bootstrap) },
    });
    if (envoy.metricsService !== 'none') {
      new k8s.KubeService(this, 'Service', {
        metadata: {
          name: NAME,
          namespace: CILIUM_NAMESPACE,
          labels: { ...labels, 'io.cilium/app': 'proxy' },
          annotations: metricsAnnotations,
        },
        spec: {
          clusterIp: 'None',
          type: 'ClusterIP',
          selector,
          ports: [
            {
              name: 'envoy-metrics',
              port: METRICS_PORT,
              protocol: 'TCP',
              targetPort:
                envoy.metricsService === 'name' ? k8s.IntOrString.fromString('envoy-metrics') : k8s.IntOrString.fromNumber(METRICS_PORT),
            },
          ],
        },
      });
    }
    const appArmorField = appArmorAsField(props.version, props.kubernetesMinor);
    const annotations = {
      ...(envoy.prometheusAnnotations ? metricsAnnotations : {}),
      ...(appArmorField ? {} : { [`container.apparmor.security.beta.kubernetes.io/${NAME}`]: 'unconfined' }),
    };
    const health = (): k8s.HttpGetAction => ({
      host: envoy.probeHost,
      path: '/healthz',
      port: k8s.IntOrString.fromNumber(HEALTH_PORT),
      scheme: 'HTTP',
    });
    const spec: k8s.DaemonSetSpec = {
      selector: { matchLabels: selector },
      updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: k8s.IntOrString.fromNumber(2) } },
      template: {
        metadata: { labels: { ...labels, name: NAME }, annotations: Object.keys(annotations).length > 0 ? annotations : undefined },
        spec: {
          containers: [
            {
              name: NAME,
              image: imageRef(props.image),
              imagePullPolicy: 'IfNotPresent',
              command: ['/usr/bin/cilium-envoy-starter'],
              args: [...envoy.args],
              startupProbe: {
                httpGet: health(),
                failureThreshold: 105,
                periodSeconds: 2,
                successThreshold: 1,
                initialDelaySeconds: 5,
                timeoutSeconds: envoy.startupProbeTimeout,
              },
              livenessProbe: { httpGet: health(), periodSeconds: 30, successThreshold: 1, failureThreshold: 10, timeoutSeconds: 5 },
              readinessProbe: { httpGet: health(), periodSeconds: 30, successThreshold: 1, failureThreshold: 3, timeoutSeconds: 5 },
              env: [
                { name: 'K8S_NODE_NAME', valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: 'spec.nodeName' } } },
                { name: 'CILIUM_K8S_NAMESPACE', valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } } },
                { name: 'KUBERNETES_SERVICE_HOST', value: props.apiServer.host },
                { name: 'KUBERNETES_SERVICE_PORT', value: String(props.apiServer.port) },
              ],
              ports: [{ name: 'envoy-metrics', containerPort: METRICS_PORT, hostPort: METRICS_PORT, protocol: 'TCP' }],
              securityContext: {
                seLinuxOptions: { level: 's0', type: 'spc_t' },
                capabilities: { add: ['NET_ADMIN', 'SYS_ADMIN'], drop: ['ALL'] },
              },
              terminationMessagePolicy: 'FallbackToLogsOnError',
              volumeMounts: [
                { name: 'envoy-sockets', mountPath: ENVOY_SOCKETS, readOnly: false },
                { name: 'envoy-artifacts', mountPath: '/var/run/cilium/envoy/artifacts', readOnly: true },
                { name: 'envoy-config', mountPath: '/var/run/cilium/envoy/', readOnly: true },
                { name: 'bpf-maps', mountPath: '/sys/fs/bpf', mountPropagation: 'HostToContainer' },
              ],
            },
          ],
          restartPolicy: 'Always',
          priorityClassName: 'system-node-critical',
          serviceAccount: pods.serviceAccountField ? NAME : undefined,
          serviceAccountName: NAME,
          automountServiceAccountToken: true,
          terminationGracePeriodSeconds: 1,
          hostNetwork: true,
          affinity: {
            // Only where an agent runs: Envoy serves that agent's proxy redirects.
            nodeAffinity: envoy.agentAffinity
              ? {
                  requiredDuringSchedulingIgnoredDuringExecution: {
                    nodeSelectorTerms: [{ matchExpressions: [{ key: 'cilium.io/no-schedule', operator: 'NotIn', values: ['true'] }] }],
                  },
                }
              : undefined,
            podAffinity: envoy.agentAffinity
              ? {
                  requiredDuringSchedulingIgnoredDuringExecution: [
                    { labelSelector: { matchLabels: { 'k8s-app': 'cilium' } }, topologyKey: 'kubernetes.io/hostname' },
                  ],
                }
              : undefined,
            podAntiAffinity: {
              requiredDuringSchedulingIgnoredDuringExecution: [
                { labelSelector: { matchLabels: selector }, topologyKey: 'kubernetes.io/hostname' },
              ],
            },
          },
          nodeSelector: { 'kubernetes.io/os': 'linux' },
          tolerations: [{ operator: 'Exists' }],
          volumes: [
            hostPath('envoy-sockets', ENVOY_SOCKETS, 'DirectoryOrCreate'),
            hostPath('envoy-artifacts', '/var/run/cilium/envoy/artifacts', 'DirectoryOrCreate'),
            { name: 'envoy-config', configMap: { name: CONFIG, defaultMode: 0o400, items: [{ key: BOOTSTRAP, path: BOOTSTRAP }] } },
            hostPath('bpf-maps', '/sys/fs/bpf', 'DirectoryOrCreate'),
          ],
        },
      },
    };
    // A plain ApiObject over the typed spec, as the agent's: the typed one would drop appArmorProfile.
    const ds = new ApiObject(this, 'Resource', {
      apiVersion: 'apps/v1',
      kind: 'DaemonSet',
      metadata: { name: NAME, namespace: CILIUM_NAMESPACE, labels: { ...labels, name: NAME } },
      spec: k8s.toJson_DaemonSetSpec(spec),
    });
    if (appArmorField) {
      ds.addJsonPatch(JsonPatch.add('/spec/template/spec/securityContext', { appArmorProfile: { type: 'Unconfined' } }));
    }
  }
}
