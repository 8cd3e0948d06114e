/**
 * What the config's maintenance window pauses: the objects step 050's Job pauses in this cluster,
 * and the Argo CD Applications in another cluster that PLAN.md's commands pause by hand.
 */
import type { ResolvedConfig } from './resolve.ts';

type Maintenance = ResolvedConfig['maintenance'];

/** How long the pause waits for the paused workloads' pods to stop (their grace periods). */
export const PAUSE_STOP_TIMEOUT_SECONDS = 600;
/** How long after pausing the pause reads every object again, to see that the pause held. */
export const PAUSE_SETTLE_SECONDS = 30;

/** How many listed objects the pause Job handles in this cluster (0: no steps 050 and 800). */
export function pausedHere(m: Maintenance): number {
  return m.workloads.length + m.flux.length + m.argocd.length;
}

/** Whether the window pauses anything, here or in another cluster. */
export function pausesAnything(m: Maintenance): boolean {
  return pausedHere(m) + m.remoteArgocd.length > 0;
}
