/**
 * cilium-config against the official chart's renders for the same values (test/fixtures/cilium,
 * derived by scripts/derive-cilium-fixtures.ts), and the version rules.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ciliumConfigData, SETTING_KEYS } from '../../../../lib/constructs/cilium/config-data.ts';
import { DEVIATIONS } from '../../../../lib/constructs/cilium/deviations.ts';
import { CILIUM_VERSIONS, findCiliumVersion } from '../../../../lib/versions/cilium.ts';
import { exampleConfig } from '../../../support/helpers.ts';

interface Fixture {
  version: string;
  cilium_config_data: Record<string, string>;
  variants: { kubeProxyReplacementStrict: { status: string; error?: string; cilium_config_data_diff_vs_hetzner_native?: unknown } };
}
const fixtures: Fixture[] = readdirSync(new URL('../../../fixtures/cilium/', import.meta.url))
  .filter((f) => f.endsWith('.json'))
  .map((f) => JSON.parse(readFileSync(new URL(`../../../fixtures/cilium/${f}`, import.meta.url), 'utf8')) as Fixture);

/** The example's values are the reference renders' values (values-hetzner-native.yaml). */
const forVersion = (version: string) => exampleConfig((d) => (d.cilium.version = version));

describe('cilium-config against the reference renders', () => {
  it('has a render for every version the table says it has', () => {
    expect(fixtures.map((f) => f.version).sort()).toEqual(
      CILIUM_VERSIONS.filter((v) => v.referenceRender)
        .map((v) => v.version)
        .sort(),
    );
  });

  for (const fixture of fixtures) {
    describe(fixture.version, () => {
      const ours = ciliumConfigData(forVersion(fixture.version));
      const render = fixture.cilium_config_data;
      const hubble = (k: string) => k.startsWith('hubble-');

      it('emits every key the render has, with its value, except the deviations hubble-off and envoy-embedded', () => {
        const expected = Object.fromEntries(
          Object.entries(render).filter(([k]) => !hubble(k) && k !== 'enable-hubble' && k !== 'external-envoy-proxy'),
        );
        const { 'enable-hubble': enableHubble, 'external-envoy-proxy': externalEnvoy, ...rest } = ours;
        expect(rest).toEqual(expected);
        expect(enableHubble).toBe('false');
        expect(render['enable-hubble']).toBe('true');
        expect(externalEnvoy).toBe('false');
        expect(render['external-envoy-proxy']).toBe(fixture.version.startsWith('1.15.') ? 'false' : 'true');
      });

      it('emits no key the version does not know', () => {
        expect(Object.keys(ours).filter((k) => !(k in render))).toEqual([]);
      });

      it('sets native routing and full kube-proxy replacement the current way', () => {
        expect(ours).toMatchObject({
          'routing-mode': 'native',
          'ipv4-native-routing-cidr': '10.42.0.0/16',
          'kube-proxy-replacement': 'true',
          'auto-direct-node-routes': 'false',
          ipam: 'kubernetes',
          'enable-bpf-masquerade': 'true',
          mtu: '1450',
        });
        expect(ours).not.toHaveProperty('tunnel');
      });
    });
  }

  it('the chart refuses strict from 1.16, as our config rules do; 1.15 renders it verbatim', () => {
    for (const f of fixtures) {
      const refused = f.variants.kubeProxyReplacementStrict.status !== 'rendered';
      expect(refused, f.version).toBe(!findCiliumVersion(f.version)!.rules.kubeProxyReplacementValues.includes('strict'));
    }
    const strict = ciliumConfigData(exampleConfig((d) => Object.assign(d.cilium, { version: '1.15.2', kubeProxyReplacement: 'strict' })));
    expect(strict['kube-proxy-replacement']).toBe('strict');
    expect(
      fixtures.find((f) => f.version === '1.15.2')!.variants.kubeProxyReplacementStrict.cilium_config_data_diff_vs_hetzner_native,
    ).toEqual({
      changed: { 'kube-proxy-replacement': { 'hetzner-native': 'true', variant: 'strict' } },
      added: {},
      removed: {},
    });
  });
});

describe('cilium-config settings', () => {
  it('changes only the keys a setting decides', () => {
    const base = ciliumConfigData(exampleConfig());
    const changed = ciliumConfigData(exampleConfig((d) => (d.cilium.MTU = 1400)));
    expect(Object.keys(base).filter((k) => base[k] !== changed[k])).toEqual(['mtu']);
    expect(changed.mtu).toBe('1400');
  });

  it('leaves mtu out to let Cilium detect it, on the generic profile', () => {
    const generic = ciliumConfigData(
      exampleConfig((d) => {
        d.cluster.profile = 'generic';
        delete d.cilium.MTU;
      }),
    );
    expect(generic).not.toHaveProperty('mtu');
  });

  it('tunnel mode: no native-routing CIDR, the tunnel protocol on every line', () => {
    for (const version of ['1.15.2', '1.19.6']) {
      const tunnel = ciliumConfigData(
        exampleConfig((d) => {
          d.cluster.profile = 'generic';
          d.cilium.version = version;
          d.cilium.routingMode = 'tunnel';
        }),
      );
      expect(tunnel['routing-mode']).toBe('tunnel');
      expect(tunnel['tunnel-protocol']).toBe('vxlan');
      expect(tunnel).not.toHaveProperty('ipv4-native-routing-cidr');
    }
  });

  it('without kube-proxy replacement, no healthz bind address', () => {
    const off = ciliumConfigData(exampleConfig((d) => (d.cilium.kubeProxyReplacement = false)));
    expect(off['kube-proxy-replacement']).toBe('false');
    expect(off).not.toHaveProperty('kube-proxy-replacement-healthz-bind-address');
  });

  it('writes the unmanaged-pod watcher interval as the line reads it', () => {
    expect(ciliumConfigData(forVersion('1.18.12'))['unmanaged-pod-watcher-interval']).toBe('15');
    expect(ciliumConfigData(forVersion('1.19.6'))['unmanaged-pod-watcher-interval']).toBe('15s');
  });

  it('synthesizes the versions without a reference render too', () => {
    for (const version of ['1.15.19', '1.17.18']) {
      const data = ciliumConfigData(forVersion(version));
      expect(data['routing-mode']).toBe('native');
      expect(data['kube-proxy-replacement']).toBe('true');
    }
    expect(ciliumConfigData(forVersion('1.17.18'))['tunnel-protocol']).toBe('vxlan');
  });

  it('keys sorted, settings listed once', () => {
    const data = ciliumConfigData(exampleConfig());
    expect(Object.keys(data)).toEqual([...Object.keys(data)].sort());
    expect(new Set(SETTING_KEYS).size).toBe(SETTING_KEYS.length);
  });

  it('every deviation has an id, what and why', () => {
    for (const d of DEVIATIONS) {
      expect(d.id).toMatch(/^[a-z-]+$/);
      expect(d.what.length).toBeGreaterThan(10);
      expect(d.why.length).toBeGreaterThan(10);
    }
  });
});
