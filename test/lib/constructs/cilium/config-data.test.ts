/**
 * cilium-config for our settings, and the version rules against what the official chart does with
 * `kube-proxy-replacement: strict` (test/fixtures/cilium/<version>.json, derived by
 * scripts/derive-cilium-fixtures.ts). That every release's cilium-config equals the chart's render
 * is test/charts/cilium-releases.test.ts.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ciliumConfigData, SETTING_KEYS } from '../../../../lib/constructs/cilium/config-data.ts';
import { DEVIATIONS } from '../../../../lib/constructs/cilium/deviations.ts';
import { findCiliumVersion } from '../../../../lib/versions/cilium.ts';
import { exampleConfig } from '../../../support/helpers.ts';

interface Fixture {
  version: string;
  cilium_config_data: Record<string, string>;
  variants: { kubeProxyReplacementStrict: { status: string; error?: string; cilium_config_data_diff_vs_hetzner_native?: unknown } };
}
const fixtures: Fixture[] = readdirSync(new URL('../../../fixtures/cilium/', import.meta.url))
  .filter((f) => /^\d+\.\d+\.\d+\.json$/.test(f))
  .map((f) => JSON.parse(readFileSync(new URL(`../../../fixtures/cilium/${f}`, import.meta.url), 'utf8')) as Fixture);

/** The example's values are the reference renders' values (values-hetzner-native.yaml). */
const forVersion = (version: string) => exampleConfig((d) => (d.cilium.version = version));

describe('kube-proxy-replacement values against the chart', () => {
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
        d.cilium.autoDirectNodeRoutes = true;
        delete d.cilium.MTU;
      }),
    );
    expect(generic).not.toHaveProperty('mtu');
  });

  it('writes devices space-separated and the direct-routing device as the chart does, and nothing without them', () => {
    const data = ciliumConfigData(exampleConfig((d) => ((d.cilium.devices = ['eth0', 'enp+']), (d.cilium.directRoutingDevice = 'enp7s0'))));
    expect([data.devices, data['direct-routing-device']]).toEqual(['eth0 enp+', 'enp7s0']);
    const none = ciliumConfigData(exampleConfig((d) => (d.cilium.version = '1.19.6')));
    expect(none).not.toHaveProperty('devices');
    expect(none).not.toHaveProperty('direct-routing-device');
    // The 1.20.0 chart writes `devices: ""` by default (its values.yaml sets it), which the release keeps.
    expect(ciliumConfigData(exampleConfig()).devices).toBe('');
  });

  it('tunnel mode: no native-routing CIDR; the tunnel protocol where the chart writes it (1.17 on; before, the agent takes vxlan by default)', () => {
    for (const [version, protocol] of [
      ['1.15.2', undefined],
      ['1.16.19', undefined],
      ['1.17.0', 'vxlan'],
      ['1.19.6', 'vxlan'],
    ] as const) {
      const tunnel = ciliumConfigData(
        exampleConfig((d) => {
          d.cluster.profile = 'generic';
          d.cilium.version = version;
          d.cilium.routingMode = 'tunnel';
        }),
      );
      expect(tunnel['routing-mode']).toBe('tunnel');
      expect(tunnel['tunnel-protocol'], version).toBe(protocol);
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
