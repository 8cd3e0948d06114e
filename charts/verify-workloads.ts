/**
 * Step 300-verify-workloads: an echo pod on every checked node (a DaemonSet), behind a ClusterIP
 * Service, a NodePort Service and, unless `ingress` is in verify.skip, an Ingress: the targets of
 * the checks in 310-verify-checks.
 */
import * as k8s from 'cdk8s-plus-28/lib/imports/k8s.js';
import { bundleInCluster } from '../lib/constructs/bundle.ts';
import type { ResolvedConfig } from '../lib/config/resolve.ts';
import { FILES_DIR, UNPRIVILEGED } from '../lib/constructs/cutover-job.ts';
import { JobFiles } from '../lib/constructs/job-files.ts';
import { LABEL_COMPONENT, TOOL } from '../lib/labels.ts';
import type { AbortGuide, Step, StepChart } from '../lib/step.ts';
import { imageRef } from '../lib/versions/images.ts';

export const ECHO = 'echo';
const ECHO_LABELS = { 'app.kubernetes.io/name': `${TOOL}-echo`, [LABEL_COMPONENT]: 'verify-workload' };
export const ECHO_POD_PORT = 8080;
export const ECHO_SERVICE_PORT = 80;

export const ECHO_NODEPORT = 'echo-nodeport';

/** Keeps the echo pods off the nodes in run.skipNodes (down or gone: a pod there would never be Ready). */
function skipNodesAffinity(config: ResolvedConfig): k8s.Affinity | undefined {
  const skip = config.run.skipNodes;
  return skip.length === 0
    ? undefined
    : {
        nodeAffinity: {
          requiredDuringSchedulingIgnoredDuringExecution: {
            nodeSelectorTerms: [{ matchFields: [{ key: 'metadata.name', operator: 'NotIn', values: [...skip] }] }],
          },
        },
      };
}

export function buildVerifyWorkloads(chart: StepChart, config: ResolvedConfig): void {
  const { verify } = config;
  if (!verify.enabled) {
    return;
  }
  const namespace = verify.namespace;
  new k8s.KubeNamespace(chart, 'Namespace', {
    metadata: {
      name: namespace,
      // The host checks run on the host network, as root, with the agent's socket directory.
      labels: { 'pod-security.kubernetes.io/enforce': 'privileged', 'pod-security.kubernetes.io/warn': 'privileged' },
    },
  });
  const files = new JobFiles(chart, 'EchoFiles', {
    name: ECHO,
    namespace,
    component: 'verify-workload',
    files: { 'echo-server.mjs': bundleInCluster('echo-server') },
  });
  const field = (fieldPath: string): k8s.EnvVarSource => ({ fieldRef: { apiVersion: 'v1', fieldPath } });
  new k8s.KubeDaemonSet(chart, 'Echo', {
    metadata: { name: ECHO, namespace, labels: ECHO_LABELS },
    spec: {
      selector: { matchLabels: { 'app.kubernetes.io/name': ECHO_LABELS['app.kubernetes.io/name'] } },
      template: {
        metadata: { labels: ECHO_LABELS },
        spec: {
          affinity: skipNodesAffinity(config),
          // Every node is judged, tainted ones (a server with CriticalAddonsOnly) included.
          tolerations: [{ operator: 'Exists' }],
          automountServiceAccountToken: false,
          enableServiceLinks: false,
          securityContext: { seccompProfile: { type: 'RuntimeDefault' } },
          containers: [
            {
              name: ECHO,
              image: imageRef(config.images.node),
              imagePullPolicy: 'IfNotPresent',
              command: ['node', `${FILES_DIR}/echo-server.mjs`],
              env: [
                { name: 'ECHO_PORT', value: String(ECHO_POD_PORT) },
                { name: 'POD_NAME', valueFrom: field('metadata.name') },
                { name: 'NODE_NAME', valueFrom: field('spec.nodeName') },
                { name: 'POD_IP', valueFrom: field('status.podIP') },
              ],
              ports: [{ name: 'http', containerPort: ECHO_POD_PORT, protocol: 'TCP' }],
              readinessProbe: { httpGet: { path: '/healthz', port: k8s.IntOrString.fromNumber(ECHO_POD_PORT) }, periodSeconds: 5 },
              resources: {
                requests: { cpu: k8s.Quantity.fromString('10m'), memory: k8s.Quantity.fromString('32Mi') },
                limits: { memory: k8s.Quantity.fromString('96Mi') },
              },
              securityContext: UNPRIVILEGED,
              volumeMounts: [{ name: 'files', mountPath: FILES_DIR, readOnly: true }],
            },
          ],
          volumes: [{ name: 'files', configMap: { name: files.configMapName, defaultMode: 0o444 } }],
        },
      },
    },
  });
  new k8s.KubeService(chart, 'EchoService', {
    metadata: { name: ECHO, namespace, labels: ECHO_LABELS },
    spec: {
      type: 'ClusterIP',
      selector: { 'app.kubernetes.io/name': ECHO_LABELS['app.kubernetes.io/name'] },
      ports: [{ name: 'http', port: ECHO_SERVICE_PORT, targetPort: k8s.IntOrString.fromNumber(ECHO_POD_PORT), protocol: 'TCP' }],
    },
  });
  new k8s.KubeService(chart, 'EchoNodePort', {
    metadata: { name: ECHO_NODEPORT, namespace, labels: ECHO_LABELS },
    spec: {
      type: 'NodePort',
      // Set, not defaulted: the checks expect any node to forward to any echo pod.
      externalTrafficPolicy: 'Cluster',
      selector: { 'app.kubernetes.io/name': ECHO_LABELS['app.kubernetes.io/name'] },
      ports: [{ name: 'http', port: ECHO_SERVICE_PORT, targetPort: k8s.IntOrString.fromNumber(ECHO_POD_PORT), protocol: 'TCP' }],
    },
  });
  if (!verify.skip.includes('ingress')) {
    new k8s.KubeIngress(chart, 'EchoIngress', {
      metadata: { name: ECHO, namespace, labels: ECHO_LABELS },
      spec: {
        ingressClassName: verify.ingress.className,
        rules: [
          {
            host: verify.ingress.host,
            http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: ECHO, port: { number: ECHO_SERVICE_PORT } } } }] },
          },
        ],
      },
    });
  }
}

export function verifyWorkloadsAbort(config: ResolvedConfig): AbortGuide {
  return {
    after: `an echo pod on every checked node, its Services${config.verify.skip.includes('ingress') ? '' : ' and Ingress'} run in \`${config.verify.namespace}\`.`,
    failure: `the \`echo\` DaemonSet does not become ready: a pod stays Pending or ContainerCreating (\`kubectl -n ${config.verify.namespace} describe pods\`), which points at Cilium on that node.`,
    action: 'fix Cilium on that node and sync again. To back out, delete the namespace; nothing else depends on it.',
  };
}

/** The step's summary: the general one for docs/steps.md, or one config's (with or without the Ingress). */
export function verifyWorkloadsSummary(ingress?: boolean): string {
  const base = 'Test namespace, an echo pod on every checked node, its ClusterIP and NodePort Services';
  if (ingress === undefined) {
    return `${base}, and an Ingress to them unless \`verify.skip\` lists \`ingress\`.`;
  }
  return ingress ? `${base} and an Ingress to them.` : `${base}; no Ingress (\`verify.skip\` lists \`ingress\`).`;
}

export const verifyWorkloadsStep: Step = {
  definition: {
    kind: 'verify-workloads',
    dir: '300-verify-workloads',
    wave: 300,
    title: 'Verification workloads',
    summary: verifyWorkloadsSummary(),
    timeout: '10m',
  },
  build: buildVerifyWorkloads,
  abort: verifyWorkloadsAbort,
};
