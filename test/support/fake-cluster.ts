/**
 * A cluster in memory for `apply`'s tests: objects as applied, Jobs that finish the way a test
 * scripts, workloads that become ready on their second read.
 */
import type { ManifestObject } from '../../lib/apply/dist.ts';
import type { ClusterIdentity } from '../../lib/apply/identity.ts';
import type { LiveObject } from '../../lib/apply/readiness.ts';
import type { Cluster } from '../../lib/apply/run.ts';
import { exampleConfig } from './helpers.ts';

export type Outcome = 'complete' | 'fail' | 'hang';

/**
 * A cluster in memory. Jobs finish on their second read with the outcome `jobs` gives them;
 * DaemonSets and Deployments become ready on their second read.
 */
export class FakeCluster implements Cluster {
  public readonly live = new Map<string, { -readonly [K in keyof LiveObject]: LiveObject[K] } & { reads: number; obj: ManifestObject }>();
  public readonly calls: string[] = [];
  /** What a Job's pod logged, by Job name prefix (a test sets it); else one line naming the Job. */
  public readonly logs = new Map<string, string[]>();
  public constructor(
    private readonly jobs: (name: string) => Outcome = () => 'complete',
    /** The example's cluster, as its config describes it. */
    private readonly cluster: ClusterIdentity = {
      nodes: exampleConfig().cluster.nodes.map((n) => ({ name: n.name, internalIP: n.internalIP })),
    },
  ) {}

  public async identity(): Promise<ClusterIdentity> {
    return this.cluster;
  }

  private key(obj: ManifestObject): string {
    return `${obj.kind}/${obj.metadata.namespace ?? ''}/${obj.metadata.name}`;
  }

  public async apply(obj: ManifestObject, dryRun: boolean): Promise<LiveObject> {
    this.calls.push(`${dryRun ? 'dry-run' : 'apply'} ${this.key(obj)}`);
    const existing = this.live.get(this.key(obj));
    if (!dryRun && existing) {
      existing.obj = obj;
      existing.metadata = { ...existing.metadata, labels: { ...existing.metadata?.labels, ...obj.metadata.labels } };
    } else if (!dryRun) {
      const data = obj.data === undefined ? {} : { data: obj.data };
      this.live.set(this.key(obj), {
        kind: obj.kind,
        metadata: { generation: 1, labels: obj.metadata.labels ?? {} },
        spec: obj.spec as LiveObject['spec'],
        reads: 0,
        obj,
        ...data,
      });
    }
    return { kind: obj.kind };
  }

  public async read(obj: ManifestObject): Promise<LiveObject | undefined> {
    const live = this.live.get(this.key(obj));
    if (!live) {
      return undefined;
    }
    live.reads++;
    if (live.reads >= 2 && live.status === undefined) {
      const outcome = obj.kind === 'Job' ? this.jobs(obj.metadata.name) : 'complete';
      if (outcome === 'complete') {
        live.status =
          obj.kind === 'Job'
            ? { conditions: [{ type: 'Complete', status: 'True' }], succeeded: 1 }
            : obj.kind === 'DaemonSet'
              ? { observedGeneration: 1, desiredNumberScheduled: 3, updatedNumberScheduled: 3, numberAvailable: 3 }
              : { observedGeneration: 1, replicas: 2, updatedReplicas: 2, availableReplicas: 2 };
      } else if (outcome === 'fail') {
        live.status = {
          conditions: [
            { type: 'Failed', status: 'True', reason: 'BackoffLimitExceeded', message: 'Job has reached the specified backoff limit' },
          ],
        };
      }
    }
    return live;
  }

  public async remove(obj: ManifestObject, dryRun?: boolean): Promise<void> {
    this.calls.push(`${dryRun ? 'dry-run ' : ''}delete ${this.key(obj)}`);
    if (!dryRun) {
      this.live.delete(this.key(obj));
      // The namespace's objects go with it.
      if (obj.kind === 'Namespace') {
        for (const [key, live] of this.live) {
          if (live.obj.metadata.namespace === obj.metadata.name) {
            this.live.delete(key);
          }
        }
      }
    }
  }

  /** Lists by kind, apiVersion and one `key=value` selector, as the API server does. */
  public async list(apiVersion: string, kind: string, selector: string): Promise<ManifestObject[] | undefined> {
    const [key, value] = selector.split('=') as [string, string];
    return [...this.live.values()]
      .map((l) => l.obj)
      .filter((o) => o.apiVersion === apiVersion && o.kind === kind && o.metadata.labels?.[key] === value);
  }

  /** Puts an object into the cluster as if someone else had created it. */
  public put(obj: ManifestObject, data?: unknown): void {
    const metadata = { labels: obj.metadata.labels ?? {} };
    this.live.set(this.key(obj), { kind: obj.kind, metadata, reads: 0, obj, ...(data === undefined ? {} : { data }) } as never);
  }

  public async jobLogs(job: ManifestObject): Promise<string[]> {
    const own = [...this.logs].find(([prefix]) => job.metadata.name.startsWith(prefix));
    return own ? own[1] : [`log of ${job.metadata.name}: calico-node still present`];
  }
}
