/** `apply --release`: the hand-over of field ownership to a GitOps engine that applies server-side. */
import type { DistStep, ManifestObject } from './dist.ts';
import { call, refOf, StepFailed, type ApplyOutput, type Cluster } from './run.ts';

/**
 * Hands the objects over to a GitOps engine that applies them server-side: for each object that
 * another server-side apply manager co-owns, an empty apply as the tool's field manager gives up
 * the tool's fields (the values stay, the co-owner keeps them). An object nobody else co-owns is
 * left alone, since giving up its fields would delete them. Returns the objects left alone.
 */
export async function releaseOwnership(
  steps: readonly DistStep[],
  cluster: Cluster,
  output: ApplyOutput,
  fieldManager: string,
): Promise<string[]> {
  const kept: string[] = [];
  for (const step of steps) {
    const fail = (detail: string): never => {
      throw new StepFailed(step.dir, detail);
    };
    for (const obj of step.objects) {
      const ref = refOf(obj);
      const live = await call(() => cluster.read(obj), `reading ${ref}`, fail);
      const applied = (live?.metadata?.managedFields ?? []).filter((f) => f.operation === 'Apply');
      if (!applied.some((f) => f.manager === fieldManager)) {
        continue;
      }
      const others = [...new Set(applied.map((f) => f.manager).filter((m) => m !== fieldManager))];
      if (others.length === 0) {
        kept.push(ref);
        output.line(`[${step.dir}] ${ref} kept: no other server-side apply manager co-owns it yet (sync the GitOps engine first)`);
        continue;
      }
      const { name, namespace } = obj.metadata;
      const empty: ManifestObject = { apiVersion: obj.apiVersion, kind: obj.kind, metadata: namespace ? { name, namespace } : { name } };
      await call(() => cluster.apply(empty, false), `releasing ${ref}`, fail);
      output.line(`[${step.dir}] ${ref} released to ${others.join(', ')}`);
    }
  }
  return kept;
}
