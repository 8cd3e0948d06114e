/**
 * The Cilium version table: the only place in the code that knows Cilium versions.
 *
 * The releases and what their charts render come from lib/versions/cilium-releases.json, written
 * by the maintainer procedure (docs/cilium-versions.md "Adding a release"); the per-line rules
 * here follow the cilium-config option parsing of each release line.
 */
import { expandReleases, lineOf, RELEASE_TABLE, type ReleaseFacts } from './cilium-releases.ts';

/** What differs between release lines in how the agent reads its configuration (not read off the chart). */
export interface LineRules {
  /** The debug CLI in the agent image: `cilium-dbg` from 1.15 (`cilium` before, not supported here). */
  readonly cli: 'cilium-dbg';
  /** Values `kube-proxy-replacement` accepts; 1.16 removed strict/partial/disabled (the agent then fails). */
  readonly kubeProxyReplacementValues: readonly string[];
  /** The `tunnel` key: removed in 1.15 (an unknown key is ignored silently, leaving tunnel mode on). */
  readonly acceptsTunnelKey: boolean;
  /**
   * apiVersion of CiliumNodeConfig: v2alpha1 since 1.13, v2 served from 1.16 (cilium/cilium#31721);
   * v2alpha1 is deprecated and due to go (cilium/cilium#40110).
   */
  readonly nodeConfigApiVersion: 'cilium.io/v2alpha1' | 'cilium.io/v2';
  /** Out of upstream maintenance (Cilium maintains the three newest minor releases): still generated, with a warning. */
  readonly endOfLife: boolean;
  /**
   * The oldest Linux kernel the line runs on, and the RHEL release from which that family's 4.18
   * kernel carries what it needs (Documentation/operations/system_requirements.rst of the line).
   */
  readonly kernel: { readonly version: string; readonly rhel?: { readonly major: number; readonly minor: number } };
}

/**
 * The kernel minima of the lines: Documentation/operations/system_requirements.rst of
 * cilium/cilium where each line was branched ("Linux kernel >= … or equivalent (e.g., 4.18 on
 * RHEL …)"). 1.15: 4.19.57, or 4.18 on RHEL 8; 1.16 and 1.17: 5.4, or RHEL 8.6 (#30869); 1.18: 5.10,
 * or RHEL 8.6 (#38308); 1.19 and 1.20: 5.10, or RHEL 8.10 (docs commit 10da2136, "call out CI bump
 * to RHEL8.10"). For 1.20, the text on the main branch while 1.20.0 was developed.
 */
const KERNEL_4_19_57 = { version: '4.19.57', rhel: { major: 8, minor: 0 } } as const;
const KERNEL_5_4 = { version: '5.4', rhel: { major: 8, minor: 6 } } as const;
const KERNEL_5_10 = { version: '5.10', rhel: { major: 8, minor: 6 } } as const;
const KERNEL_5_10_RHEL_8_10 = { version: '5.10', rhel: { major: 8, minor: 10 } } as const;

const LEGACY_KPR = ['true', 'false', 'strict', 'partial', 'disabled'];
const BOOLEAN_KPR = ['true', 'false'];
const LINE_1_16: LineRules = {
  cli: 'cilium-dbg',
  kubeProxyReplacementValues: BOOLEAN_KPR,
  acceptsTunnelKey: false,
  nodeConfigApiVersion: 'cilium.io/v2',
  endOfLife: true,
  kernel: KERNEL_5_4,
};
/** From 1.18 (cilium/cilium#38308). */
const LINE_1_18: LineRules = { ...LINE_1_16, endOfLife: false, kernel: KERNEL_5_10 };

/** The rules of each line. A release of a line not listed here is refused by the maintainer procedure. */
export const LINE_RULES: Readonly<Record<string, LineRules>> = {
  '1.15': { ...LINE_1_16, kubeProxyReplacementValues: LEGACY_KPR, nodeConfigApiVersion: 'cilium.io/v2alpha1', kernel: KERNEL_4_19_57 },
  '1.16': LINE_1_16,
  '1.17': LINE_1_16,
  '1.18': LINE_1_18,
  '1.19': { ...LINE_1_18, kernel: KERNEL_5_10_RHEL_8_10 },
  '1.20': { ...LINE_1_18, kernel: KERNEL_5_10_RHEL_8_10 },
};

/** What this tool needs to know about one Cilium release. */
export interface CiliumVersion {
  readonly version: string;
  /** `1.18` for 1.18.12. */
  readonly line: string;
  readonly endOfLife: boolean;
  readonly rules: LineRules;
  /** What the release's chart renders, read off it by the maintainer procedure. */
  readonly facts: ReleaseFacts;
}

/** The version used when the config names none: the newest release, and the first without cilium/cilium#44730 (lib/versions/cilium-known-bugs.ts). */
export const DEFAULT_CILIUM_VERSION = '1.20.0';

/** Every release in lib/versions/cilium-releases.json, oldest first. */
export const CILIUM_VERSIONS: readonly CiliumVersion[] = expandReleases(RELEASE_TABLE).map((facts) => {
  const line = lineOf(facts.version);
  const rules = LINE_RULES[line];
  if (rules === undefined) {
    throw new Error(`cilium-releases.json: Cilium ${facts.version} is of line ${line}, which LINE_RULES does not know`);
  }
  return { version: facts.version, line, endOfLife: rules.endOfLife, rules, facts };
});

/** The table entry for a version string, or undefined when it is not supported. */
export function findCiliumVersion(version: string): CiliumVersion | undefined {
  return CILIUM_VERSIONS.find((v) => v.version === version);
}
