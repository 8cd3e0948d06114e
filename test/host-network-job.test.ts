import { Duration, Testing } from 'cdk8s';
import { describe, expect, it } from 'vitest';
import { hashedName, MAX_NAME_LENGTH, shortHash } from '../lib/content-hash.ts';
import { HostNetworkJob, type HostNetworkJobProps } from '../lib/host-network-job.ts';
import { UTILITY_IMAGES } from '../lib/versions/images.ts';

const base: HostNetworkJobProps = {
  name: 'check',
  namespace: 'ns',
  component: 'check',
  serviceAccountName: 'sa',
  apiServer: { host: '127.0.0.1', port: 6444 },
  attempt: 1,
  image: UTILITY_IMAGES.node,
  command: ['node', '/etc/cilium-cutover/run.mjs'],
  files: { 'run.mjs': 'console.log(1)\n' },
};

function synth(props: Partial<HostNetworkJobProps> = {}) {
  const chart = Testing.chart();
  const job = new HostNetworkJob(chart, 'Job', { ...base, ...props });
  const [configMap, jobObj] = Testing.synth(chart);
  return { job, configMap, jobObj };
}

describe('HostNetworkJob', () => {
  it('renders an immutable files ConfigMap and a Job that mounts it, both content-hashed', () => {
    const { job, configMap, jobObj } = synth();
    expect(configMap.kind).toBe('ConfigMap');
    expect(jobObj.kind).toBe('Job');
    expect(job.jobName).toMatch(/^check-[0-9a-f]{8}$/);
    expect(job.configMapName).toMatch(/^check-[0-9a-f]{8}$/);
    expect(configMap.metadata.name).toBe(job.configMapName);
    expect(jobObj.metadata.name).toBe(job.jobName);
    expect(configMap.immutable).toBe(true);
    expect(configMap.data).toEqual({ 'run.mjs': 'console.log(1)\n' });
    expect(jobObj.spec.template.spec.volumes).toEqual([{ name: 'files', configMap: { name: job.configMapName, defaultMode: 0o444 } }]);
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

  it('pins image, pull policy, resources and a locked-down security context', () => {
    const container = synth().jobObj.spec.template.spec.containers[0];
    expect(container.image).toBe(
      'docker.io/library/node:22.16.0-alpine@sha256:41e4389f3d988d2ed55392df4db1420ad048ae53324a8e2b7c6d19508288107e',
    );
    expect(container.imagePullPolicy).toBe('IfNotPresent');
    expect(container.resources).toEqual({ requests: { cpu: '50m', memory: '64Mi' }, limits: { memory: '256Mi' } });
    expect(container.securityContext).toEqual({
      runAsNonRoot: true,
      runAsUser: 1000,
      runAsGroup: 1000,
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ['ALL'] },
    });
  });

  it('defaults: one retry, ten minutes, no TTL', () => {
    const { job, jobObj } = synth();
    expect(job.backoffLimit).toBe(1);
    expect(job.activeDeadline.toSeconds()).toBe(600);
    expect(jobObj.spec.backoffLimit).toBe(1);
    expect(jobObj.spec.activeDeadlineSeconds).toBe(600);
    expect(jobObj.spec.ttlSecondsAfterFinished).toBeUndefined();
  });

  it('sets all options', () => {
    const { job, jobObj } = synth({ backoffLimit: 3, activeDeadline: Duration.minutes(2) });
    expect(job.backoffLimit).toBe(3);
    expect(jobObj.spec.backoffLimit).toBe(3);
    expect(jobObj.spec.activeDeadlineSeconds).toBe(120);
  });

  it('rejects a negative backoffLimit', () => {
    expect(() => synth({ backoffLimit: -1 })).toThrow("'backoffLimit' must be a non-negative integer, got '-1'");
  });

  it('changes its name with everything it runs, and only then', () => {
    const name = synth().job.jobName;
    expect(synth().job.jobName).toBe(name);
    expect(synth({ attempt: 2 }).job.jobName).not.toBe(name);
    expect(synth({ attempt: 2 }).job.configMapName).toBe(synth().job.configMapName);
    expect(synth({ files: { 'run.mjs': 'console.log(2)\n' } }).job.jobName).not.toBe(name);
    expect(synth({ files: { 'run.mjs': 'console.log(2)\n' } }).job.configMapName).not.toBe(synth().job.configMapName);
    expect(synth({ command: ['node', '-e', '1'] }).job.jobName).not.toBe(name);
    expect(synth({ apiServer: { host: '10.0.0.2', port: 6443 } }).job.jobName).not.toBe(name);
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
    const name = hashedName(`${'a'.repeat(53)}.b`, 'deadbeef');
    expect(name).toBe(`${'a'.repeat(53)}-deadbeef`);
  });
});
