/**
 * The direct YAML writer against the `yaml` package it stands in for: the same bytes for every file
 * of several renders and for generated strings, and the direct path taken for what matters.
 */
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { manifestFile, slowManifestFile, slowYaml, toYaml, writesDirectly } from '../../../lib/output/yaml.ts';
import { render } from '../../../charts/app.ts';
import { exampleData, isObjectFile, load } from '../../support/helpers.ts';

function renders() {
  const example = exampleData();
  const perNode = { ...exampleData(), strategy: 'per-node', perNode: { acknowledgeCalicoBGP: true } };
  const big = exampleData();
  big.cluster.profile = 'generic';
  delete big.cluster.network;
  big.cilium.autoDirectNodeRoutes = true;
  big.cluster.nodes = Array.from({ length: 40 }, (_, i) => ({
    name: `node-${i}`,
    role: i < 3 ? 'server' : 'agent',
    internalIP: `10.0.1.${i + 1}`,
  }));
  big.maintenance = { workloads: [{ kind: 'Deployment', namespace: 'shop', name: 'web' }], flux: [{ kind: 'HelmRelease', name: 'x' }] };
  big.verify.ingress = { host: 'echo.example.com' };
  return [example, perNode, { ...perNode, phase: 'switch', perNode: { ...perNode.perNode, acknowledgeSwitchOutage: true } }, big].map((d) =>
    render(load(d).config),
  );
}

describe('the direct YAML writer', () => {
  const outputs = renders();

  it('writes every file of several renders exactly as the yaml package does', () => {
    let objects = 0;
    for (const out of outputs) {
      for (const [path, text] of out.files) {
        if (path.startsWith('manifests/') || path.startsWith('argocd/') || path.startsWith('flux/')) {
          const obj = parse(text);
          if (isObjectFile(path)) {
            expect(manifestFile(obj), path).toBe(slowManifestFile(obj));
            objects++;
          } else {
            expect(toYaml(obj), path).toBe(slowYaml(obj));
          }
        }
      }
    }
    expect(objects).toBeGreaterThan(300);
  });

  it('takes the direct path for every Job and ConfigMap of a large cluster', () => {
    const big = outputs[3]!;
    const fallbacks = [...big.files]
      .filter(([path]) => isObjectFile(path) && path.startsWith('manifests/'))
      .map(([path, text]) => [path, parse(text)] as const)
      .filter(([, obj]) => obj.kind === 'Job' || obj.kind === 'ConfigMap')
      .filter(([, obj]) => !writesDirectly(obj))
      .map(([path]) => path);
    expect(fallbacks).toEqual([]);
  });

  it('agrees with the yaml package on generated strings, as values, keys, list items and block text', () => {
    const alphabet = [
      'a',
      'Z',
      '0',
      '9',
      '.',
      '-',
      '_',
      '/',
      ':',
      ' ',
      '#',
      '"',
      "'",
      '\\',
      '\n',
      '\t',
      '@',
      '=',
      '+',
      ',',
      '(',
      ')',
      '$',
      '*',
      '&',
      '!',
      '|',
      '>',
      '%',
      '?',
      '[',
      ']',
      '{',
      '}',
      '~',
      'é',
      '…',
      '\r',
    ];
    const words = [
      'true',
      'False',
      'null',
      '~',
      '1450',
      '-1',
      '0.5',
      '.5',
      '1e3',
      '0x1F',
      '0o7',
      '.inf',
      '.NaN',
      'yes',
      'on',
      '- x',
      '-',
      '--',
      ': ',
      'a: b',
      'x:',
      ':9963',
    ];
    let seed = 7;
    const random = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    const strings = [...words, ''];
    for (let i = 0; i < 8000; i++) {
      const length = 1 + random(i % 2 === 0 ? 6 : 24);
      strings.push(Array.from({ length }, () => alphabet[random(alphabet.length)]).join(''));
    }
    for (const w of words) {
      strings.push(`${w}\n`, `${w}\n\n`, `line one\n${w}\nline three\n`, `  ${w}\nx`);
    }
    for (const s of strings) {
      const doc = { key: s, list: [s, { inner: s }], [s === '' ? 'empty' : s]: 1, nested: { deeper: { text: s } } };
      expect(toYaml(doc), JSON.stringify(s)).toBe(slowYaml(doc));
    }
  });

  it('agrees on the shapes around the strings: empty maps and lists, lists of lists, numbers, booleans, null', () => {
    const doc = { a: {}, b: [], c: [[1, 2], [], {}], d: [{ e: 1, f: [] }], g: -3, h: 1.5, i: true, j: null, k: [{ l: { m: 'n' } }], z: -0 };
    expect(toYaml(doc)).toBe(slowYaml(doc));
    const manifest = { spec: { z: 1, a: [{ y: 1, b: 2 }] }, kind: 'X', metadata: { name: 'x' }, apiVersion: 'v1' };
    expect(manifestFile(manifest)).toBe(slowManifestFile(manifest));
  });
});
