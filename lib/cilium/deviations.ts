/**
 * Where the generated Cilium install deliberately differs from what the official chart renders for
 * the same values: one list, with the reason for each. PLAN.md and the README show it; every entry
 * has a test.
 */

export interface Deviation {
  readonly id: string;
  /** What differs from the render. */
  readonly what: string;
  readonly why: string;
}

export const DEVIATIONS: readonly Deviation[] = [
  {
    id: 'hubble-off',
    what: 'Hubble is off: `enable-hubble: "false"`, no `hubble-*` keys, no Hubble TLS Secrets, no `hubble-peer` Service.',
    why: 'the chart generates Hubble TLS certificates with random keys at every render, which cannot live in Git; its TLS paths without the certificates would leave Hubble half-configured.',
  },
];
