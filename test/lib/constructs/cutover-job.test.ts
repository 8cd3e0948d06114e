import { Duration, Testing } from 'cdk8s';
import type { Chart } from 'cdk8s';
import { describe, expect, it } from 'vitest';
import { hashedName, MAX_NAME_LENGTH, shortHash } from '../../../lib/content-hash.ts';
import { CutoverJob, type CutoverJobProps } from '../../../lib/constructs/cutover-job.ts';
import { JobFiles } from '../../../lib/constructs/job-files.ts';
import { UTILITY_IMAGES } from '../../../lib/versions/images.ts';
import * as k8s from 'cdk8s-plus-28/lib/imports/k8s.js';

type Props = Omit<CutoverJobProps, 'files'> & { fileContent?: string };

const base: Props = {
  name: 'check',
  namespace: 'ns',
  component: 'check',
  api: { serviceAccountName: 'sa', server: { host: '127.0.0.1', port: 6444 } },
  attempt: 1,
  image: UTILITY_IMAGES.node,
  command: ['node', '/etc/cilium-cutover/run.mjs'],
};

function synth(props: Partial<Props> = {}) {
  const chart: Chart = Testing.chart();
  const { fileContent, ...rest } = { ...base, ...props };
  const files = new JobFiles(chart, 'Files', {
    name: 'check',
    namespace: 'ns',
    component: 'check',
    files: { 'run.mjs': fileContent ?? 'console.log(1)\n' },
  });
  const job = new CutoverJob(chart, 'Job', { ...rest, files });
  const [configMap, jobObj] = Testing.synth(chart);
  return { files, job, configMap, jobObj };
}

describe('JobFiles', () => {
  it('is an immutable ConfigMap named by the hash of its files', () => {
    const { files, configMap } = synth();
    expect(configMap.kind).toBe('ConfigMap');
    expect(configMap.metadata.name).toBe(files.configMapName);
    expect(files.configMapName).toMatch(/^check-[0-9a-f]{8}$/);
    expect(configMap.immutable).toBe(true);
    expect(configMap.data).toEqual({ 'run.mjs': 'console.log(1)\n' });
    expect(files.files).toEqual({ 'run.mjs': 'console.log(1)\n' });
    expect(synth({ fileContent: 'x' }).files.configMapName).not.toBe(files.configMapName);
    expect(synth({ attempt: 2 }).files.configMapName).toBe(files.configMapName);
  });

  it('rejects empty and odd file names', () => {
    const chart = Testing.chart();
    expect(() => new JobFiles(chart, 'A', { name: 'x', namespace: 'ns', component: 'x', files: {} })).toThrow(
      "JobFiles 'x': 'files' must not be empty",
    );
    expect(() => new JobFiles(chart, 'B', { name: 'x', namespace: 'ns', component: 'x', files: { 'a/b': '' } })).toThrow(
      "JobFiles 'x': file name 'a/b' must be letters, digits, '.', '_' and '-'",
    );
  });
});

describe('CutoverJob', () => {
  it('mounts its files and is named by a content hash', () => {
    const { files, job, jobObj } = synth();
    expect(jobObj.kind).toBe('Job');
    expect(job.jobName).toMatch(/^check-[0-9a-f]{8}$/);
    expect(jobObj.metadata.name).toBe(job.jobName);
    expect(jobObj.spec.template.spec.volumes).toEqual([{ name: 'files', configMap: { name: files.configMapName, defaultMode: 0o444 } }]);
    expect(jobObj.spec.template.spec.containers[0].volumeMounts).toEqual([
      { name: 'files', mountPath: '/etc/cilium-cutover', readOnly: true },
    ]);
  });

  it('works without the pod network: host network, direct API, node resolver, every taint', () => {
    const pod = synth().jobObj.spec.template.spec;
    expect(pod.hostNetwork).toBe(true);
    expect(pod.dnsPolicy).toBe('Default');
    expect(pod.tolerations).toEqual([{ operator: 'Exists' }]);
    expect(pod.enableServiceLinks).toBe(false);
    expect(pod.containers[0].env).toEqual([
      { name: 'NODE_EXTRA_CA_CERTS', value: '/var/run/secrets/kubernetes.io/serviceaccount/ca.crt' },
      { name: 'KUBERNETES_SERVICE_HOST', value: '127.0.0.1' },
      { name: 'KUBERNETES_SERVICE_PORT', value: '6444' },
    ]);
  });

  it('defaults: host network only, non-root and locked down, one retry, ten minutes, no TTL', () => {
    const { job, jobObj } = synth();
    const pod = jobObj.spec.template.spec;
    expect(job.hostAccess).toBe('network');
    expect(pod.hostPID).toBeUndefined();
    expect(pod.securityContext).toEqual({ seccompProfile: { type: 'RuntimeDefault' } });
    expect(pod.containers[0].securityContext).toEqual({
      runAsNonRoot: true,
      runAsUser: 1000,
      runAsGroup: 1000,
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ['ALL'] },
    });
    expect(job.backoffLimit).toBe(1);
    expect(job.activeDeadline.toSeconds()).toBe(600);
    expect(jobObj.spec).toMatchObject({ backoffLimit: 1, activeDeadlineSeconds: 600 });
    expect(jobObj.spec.ttlSecondsAfterFinished).toBeUndefined();
    expect(pod.nodeName).toBeUndefined();
  });

  it('pins image, pull policy and resources', () => {
    const container = synth().jobObj.spec.template.spec.containers[0];
    expect(container.image).toBe(
      'docker.io/library/node:22.16.0-alpine@sha256:41e4389f3d988d2ed55392df4db1420ad048ae53324a8e2b7c6d19508288107e',
    );
    expect(container.imagePullPolicy).toBe('IfNotPresent');
    expect(container.resources).toEqual({ requests: { cpu: '50m', memory: '64Mi' }, limits: { memory: '256Mi' } });
  });

  it('sets all options', () => {
    const { job, jobObj } = synth({
      backoffLimit: 3,
      activeDeadline: Duration.minutes(2),
      nodeName: 'node-a',
      hostAccess: 'privileged',
      env: { Z_LAST: 'z', A_FIRST: 'a' },
      api: undefined,
    });
    const pod = jobObj.spec.template.spec;
    expect(job.backoffLimit).toBe(3);
    expect(job.hostAccess).toBe('privileged');
    expect(jobObj.spec).toMatchObject({ backoffLimit: 3, activeDeadlineSeconds: 120 });
    expect(pod.nodeName).toBe('node-a');
    expect(pod.hostPID).toBe(true);
    expect(pod.containers[0].securityContext).toEqual({ privileged: true, runAsUser: 0, readOnlyRootFilesystem: true });
    expect(pod.automountServiceAccountToken).toBe(false);
    expect(pod.serviceAccountName).toBeUndefined();
    expect(pod.containers[0].env).toEqual([
      { name: 'A_FIRST', value: 'a' },
      { name: 'Z_LAST', value: 'z' },
    ]);
  });

  it("renders what cdk8s's KubeJob renders for the same spec, with every option set", () => {
    const { job, jobObj } = synth({
      backoffLimit: 3,
      activeDeadline: Duration.minutes(2),
      nodeName: 'node-a',
      avoidNode: 'node-b',
      nodeLabels: { 'example.org/ready': 'true' },
      hostAccess: 'privileged',
      env: { Z_LAST: 'z', A_FIRST: 'a' },
      fieldEnv: { NODE_NAME: 'spec.nodeName' },
      readOnlyHostPaths: ['/usr/sbin'],
      initContainers: [{ name: 'pull', image: UTILITY_IMAGES.busybox, command: ['true'] }],
    });
    const reference = new k8s.KubeJob(Testing.chart(), 'Reference', { spec: job.spec }).toJson();
    expect(jobObj.spec).toEqual(reference.spec);
    expect(jobObj.spec.template.spec.hostPID).toBe(true);
    expect(jobObj.spec.template.spec.nodeSelector).toEqual({ 'example.org/ready': 'true' });
  });

  it("on the pod network: cluster DNS, the kubelet's API address, unprivileged, fields from the pod", () => {
    const { jobObj } = synth({ hostAccess: 'none', api: { serviceAccountName: 'sa' }, fieldEnv: { NODE_NAME: 'spec.nodeName' } });
    const pod = jobObj.spec.template.spec;
    expect(pod.hostNetwork).toBeUndefined();
    expect(pod.dnsPolicy).toBe('ClusterFirst');
    expect(pod.hostPID).toBeUndefined();
    expect(pod.containers[0].securityContext.runAsNonRoot).toBe(true);
    expect(pod.containers[0].env).toEqual([
      { name: 'NODE_EXTRA_CA_CERTS', value: '/var/run/secrets/kubernetes.io/serviceaccount/ca.crt' },
      { name: 'NODE_NAME', valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: 'spec.nodeName' } } },
    ]);
  });

  it('rejects a negative backoffLimit and files from another namespace', () => {
    expect(() => synth({ backoffLimit: -1 })).toThrow("'backoffLimit' must be a non-negative integer, got '-1'");
    expect(() => synth({ namespace: 'other' })).toThrow(
      "'files' is in namespace 'ns', the Job in 'other'; a pod mounts ConfigMaps of its own namespace only",
    );
  });

  it('changes its name with everything it runs, and only then', () => {
    const name = synth().job.jobName;
    expect(synth().job.jobName).toBe(name);
    expect(synth({ attempt: 2 }).job.jobName).not.toBe(name);
    expect(synth({ fileContent: 'console.log(2)\n' }).job.jobName).not.toBe(name);
    expect(synth({ command: ['node', '-e', '1'] }).job.jobName).not.toBe(name);
    expect(synth({ env: { DRY_RUN: 'true' } }).job.jobName).not.toBe(name);
    expect(synth({ api: { serviceAccountName: 'sa', server: { host: '10.0.0.2', port: 6443 } } }).job.jobName).not.toBe(name);
  });
});

describe('hashedName', () => {
  it('keeps short names and cuts long ones to 63 characters', () => {
    expect(hashedName('cleanup-node-a', 'deadbeef')).toBe('cleanup-node-a-deadbeef');
    const long = `cleanup-node-${'n'.repeat(253)}`;
    const name = hashedName(long, shortHash(long));
    expect(name.length).toBe(MAX_NAME_LENGTH);
    expect(name).toMatch(/^cleanup-node-n+-[0-9a-f]{8}$/);
  });

  it('does not leave a dash or dot before the hash', () => {
    expect(hashedName(`${'a'.repeat(53)}.b`, 'deadbeef')).toBe(`${'a'.repeat(53)}-deadbeef`);
  });
});
