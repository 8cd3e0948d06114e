import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { validateObject } from '../../../lib/check/schema-check.ts';
import { isObjectFile, renderExample } from '../../support/helpers.ts';

describe('OpenAPI validation', () => {
  const rendered = renderExample((d) => {
    // Every optional generator on: both engines, ingress settings.
    d.gitops.engine = 'both';
    d.gitops.argocd = { ...d.gitops.argocd, automated: true };
    d.verify.ingress = { host: 'echo.example.com' };
    d.maintenance = {
      workloads: [{ kind: 'StatefulSet', namespace: 'shop', name: 'db' }],
      flux: [{ kind: 'HelmRelease', name: 'shop' }],
      argocd: [{ name: 'shop' }],
    };
  });
  const objects = [...rendered.files].filter(([p]) => isObjectFile(p)).map(([path, text]) => ({ path, obj: parse(text) }));

  it('covers Kubernetes, Argo CD and Flux objects', () => {
    const kinds = new Set(objects.map(({ obj }) => `${obj.apiVersion} ${obj.kind}`));
    expect(kinds).toContain('batch/v1 Job');
    expect(kinds).toContain('argoproj.io/v1alpha1 Application');
    expect(kinds).toContain('kustomize.toolkit.fluxcd.io/v1 Kustomization');
    expect(kinds).toContain('source.toolkit.fluxcd.io/v1 GitRepository');
  });

  it('every synthesized object is valid', async () => {
    for (const { path, obj } of objects) {
      await expect(validateObject(obj), path).resolves.toBeUndefined();
    }
  });

  it('an invalid object really fails', async () => {
    const job = objects.find(({ obj }) => obj.kind === 'Job')!.obj;
    await expect(validateObject({ ...job, spec: { ...job.spec, backoffLimit: 'six' } })).rejects.toThrow(/backoffLimit/);
    const app = objects.find(({ obj }) => obj.kind === 'Application')!.obj;
    await expect(validateObject({ ...app, spec: { ...app.spec, syncPolicy: { retry: { limit: 'ten' } } } })).rejects.toThrow(/limit/);
    const ks = objects.find(({ obj }) => obj.kind === 'Kustomization')!.obj;
    const { sourceRef: _dropped, ...withoutSource } = ks.spec;
    await expect(validateObject({ ...ks, spec: withoutSource })).rejects.toThrow(/sourceRef/);
  });
});

describe('resource quantities', () => {
  // The OpenAPI models accept a number for a quantity, but server-side apply types quantities as
  // strings and refuses `cpu: 1` on some API server versions; the output always quotes them.
  it('every resource request and limit is written as a string', () => {
    const rendered = renderExample();
    const found: string[] = [];
    for (const [path, text] of rendered.files) {
      if (!isObjectFile(path)) {
        continue;
      }
      const walk = (node: unknown, at: string): void => {
        if (node && typeof node === 'object') {
          for (const [key, value] of Object.entries(node)) {
            if ((key === 'limits' || key === 'requests') && value && typeof value === 'object') {
              for (const [resource, quantity] of Object.entries(value)) {
                found.push(`${path} ${at}.${key}.${resource}`);
                expect(typeof quantity, `${path} ${at}.${key}.${resource}`).toBe('string');
              }
            }
            walk(value, `${at}.${key}`);
          }
        }
      };
      walk(parse(text), '');
    }
    expect(found.some((f) => f.includes('daemonset-cilium') && f.endsWith('limits.cpu'))).toBe(true);
  });
});
