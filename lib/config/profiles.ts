/**
 * What each network profile means for Cilium: one row per profile, read by `resolve.ts` (the
 * defaults) and `rules.ts` (the limits).
 *
 * The `cluster.profile`, `cilium.MTU` and `cilium.autoDirectNodeRoutes` descriptions in
 * `schema.ts` repeat the defaults for the JSON Schema; keep them in step with this table.
 */
import type { Profile } from './schema.ts';

/** The facts about one network profile. */
export interface ProfileFacts {
  /** MTU Cilium is given when `cilium.MTU` is not set; `undefined`: let Cilium detect it. */
  readonly defaultMtu: number | undefined;
  /** Largest MTU the network carries; a larger `cilium.MTU` is refused. */
  readonly maxMtu: number;
  /** `autoDirectNodeRoutes` when `cilium.autoDirectNodeRoutes` is not set. */
  readonly autoDirectNodeRoutes: boolean;
  /** Most nodes the network holds, where it has a limit. */
  readonly maxNodes?: number;
}

export const PROFILE_FACTS = {
  'hetzner-cloud': {
    // Private networks carry 1450 bytes; Cilium's auto-detection would pick eth0's 1500.
    defaultMtu: 1450,
    maxMtu: 1450,
    // The network is layer 3: routes come from the hcloud cloud controller, not from Cilium.
    autoDirectNodeRoutes: false,
    // A Hetzner Cloud network holds at most 100 servers (and 100 routes).
    maxNodes: 100,
  },
  'hetzner-vswitch': {
    // vSwitch VLANs carry 1400 bytes.
    defaultMtu: 1400,
    maxMtu: 1400,
    // All Robot servers share one layer-2 segment, so Cilium can route to them directly.
    autoDirectNodeRoutes: true,
  },
  generic: {
    // Unknown network: let Cilium detect the MTU.
    defaultMtu: undefined,
    // Jumbo frames, the most an Ethernet network carries.
    maxMtu: 9000,
    // Layer 2 is not known; direct routes must be asked for.
    autoDirectNodeRoutes: false,
  },
} as const satisfies Readonly<Record<Profile, ProfileFacts>>;
