/**
 * The Cluster that `apply` uses, on @kubernetes/client-node: server-side apply with the tool's
 * field manager, against the API address in the kubeconfig (a server node's address works when
 * the cluster's own Service network is down).
 */
import {
  ApiException,
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
  KubernetesObjectApi,
  PatchStrategy,
  type KubernetesObject,
} from '@kubernetes/client-node';
import type { ReadPart } from '../incluster/calico-inventory-read.ts';
import { existsSync } from 'node:fs';
import { InputError } from '../input-error.ts';
import type { ManifestObject } from './dist.ts';
import type { LiveObject } from './readiness.ts';
import type { InventoryCluster } from './restore.ts';
import type { Cluster } from './run.ts';
import type { KeptObject } from '../incluster/calico-inventory.ts';
import { INVENTORY_NAMESPACE, LABEL_INVENTORY, TOOL } from '../labels.ts';

/** The field manager of everything `apply` writes. */
export const FIELD_MANAGER = TOOL;

/** Loads the kubeconfig: the file given, else $KUBECONFIG or ~/.kube/config; then the context. */
export function loadKubeConfig(file: string | undefined, context: string | undefined): KubeConfig {
  const kc = new KubeConfig();
  if (file !== undefined) {
    if (!existsSync(file)) {
      throw new InputError('--kubeconfig', `${file} does not exist; give the path of a kubeconfig file`);
    }
    kc.loadFromFile(file);
  } else {
    kc.loadFromDefault();
  }
  if (context !== undefined) {
    if (!kc.getContextObject(context)) {
      throw new InputError(
        '--context',
        `no context "${context}" in the kubeconfig; it has ${
          kc
            .getContexts()
            .map((c) => c.name)
            .join(', ') || 'none'
        }`,
      );
    }
    kc.setCurrentContext(context);
  }
  if (!kc.getCurrentCluster()) {
    throw new InputError('--kubeconfig', 'no cluster in the kubeconfig; pass --kubeconfig with a file for the cluster to migrate');
  }
  return kc;
}

/** The API's own message for a failed request (`jobs.batch "x" is invalid: ...`). */
function apiMessage(err: unknown): string {
  if (err instanceof ApiException) {
    const body = err.body as unknown;
    let message: string | undefined;
    try {
      message = (typeof body === 'string' ? (JSON.parse(body) as { message?: string }) : (body as { message?: string }))?.message;
    } catch {
      message = typeof body === 'string' ? body : undefined;
    }
    return `HTTP ${err.code}: ${message ?? err.message}`;
  }
  return (err as Error).message;
}

/** Runs a request; an API error becomes an Error with the API's own message. */
async function wrap<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw new Error(apiMessage(err));
  }
}

/** Runs a read; undefined when the API answers 404, else as wrap. */
async function orAbsent<T>(fn: () => Promise<T>): Promise<T | undefined> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof ApiException && err.code === 404) {
      return undefined;
    }
    throw new Error(apiMessage(err));
  }
}

function header(obj: ManifestObject): ManifestObject {
  const { name, namespace } = obj.metadata;
  return { apiVersion: obj.apiVersion, kind: obj.kind, metadata: namespace ? { name, namespace } : { name } };
}

export function kubeCluster(kc: KubeConfig): Cluster {
  const objects = KubernetesObjectApi.makeApiClient(kc);
  const core = kc.makeApiClient(CoreV1Api);
  return {
    apply: (obj, dryRun, force) =>
      wrap(
        async () =>
          (await objects.patch(
            obj as never,
            undefined,
            dryRun ? 'All' : undefined,
            FIELD_MANAGER,
            force === true,
            PatchStrategy.ServerSideApply,
          )) as unknown as LiveObject,
      ),
    read: (obj) => orAbsent(async () => (await objects.read(header(obj) as never)) as unknown as LiveObject),
    // Background: a Job's own default would orphan its pods.
    remove: (obj, dryRun) =>
      wrap(async () => {
        await objects.delete(header(obj) as never, undefined, dryRun ? 'All' : undefined, undefined, undefined, 'Background');
      }),
    list: async (apiVersion, kind, labelSelector) => {
      let listed;
      try {
        listed = await objects.list(apiVersion, kind, undefined, undefined, undefined, undefined, undefined, labelSelector);
      } catch (err) {
        // The API discovery of a group or version the server does not serve answers 404; a kind
        // missing from a served version is the client's "Unrecognized API version and kind".
        if ((err instanceof ApiException && err.code === 404) || /^Unrecognized API version and kind/.test((err as Error).message)) {
          return undefined;
        }
        throw new Error(apiMessage(err));
      }
      return listed.items.map((item) => ({
        apiVersion,
        kind,
        metadata: {
          name: item.metadata?.name ?? '',
          ...(item.metadata?.namespace ? { namespace: item.metadata.namespace } : {}),
          labels: item.metadata?.labels ?? {},
        },
      }));
    },
    identity: () =>
      wrap(async () => {
        const nodes = (await core.listNode()).items.map((n) => ({
          name: n.metadata?.name ?? '',
          internalIP: n.status?.addresses?.find((a) => a.type === 'InternalIP')?.address,
        }));
        return { nodes };
      }),
    jobLogs: (job, lines) =>
      wrap(async () => {
        const namespace = job.metadata.namespace ?? 'default';
        const pods = await core.listNamespacedPod({ namespace, labelSelector: `job-name=${job.metadata.name}` });
        const newest = [...pods.items]
          .sort((a, b) => (a.metadata?.creationTimestamp?.getTime() ?? 0) - (b.metadata?.creationTimestamp?.getTime() ?? 0))
          .pop();
        if (!newest?.metadata?.name) {
          return ['(the Job has no pods left)'];
        }
        const log = await core.readNamespacedPodLog({ name: newest.metadata.name, namespace, tailLines: lines });
        return [`pod ${newest.metadata.name}:`, ...log.trimEnd().split('\n')];
      }),
  };
}

/**
 * The API discovery of KubernetesObjectApi (a kind's plural and scope), which it keeps to itself.
 * Its reads and writes are not used for custom resources: it (de)serializes by version and kind
 * alone, so Calico's `crd.projectcalico.org/v1` NetworkPolicy goes through the model of
 * Kubernetes' `networking.k8s.io/v1` NetworkPolicy and loses every field that model lacks.
 */
class Discovery extends KubernetesObjectApi {
  public async plural(apiVersion: string, kind: string): Promise<{ plural: string; namespaced: boolean } | undefined> {
    const found = await orAbsent(() => this.resource(apiVersion, kind));
    return found ? { plural: found.name, namespaced: found.namespaced } : undefined;
  }
}

/** An InventoryCluster on @kubernetes/client-node: custom resources as plain JSON (CustomObjectsApi). */
export function kubeInventoryCluster(kc: KubeConfig): InventoryCluster {
  const core = kc.makeApiClient(CoreV1Api);
  const custom = kc.makeApiClient(CustomObjectsApi);
  const discovery = kc.makeApiClient(Discovery);
  /** The request fields that name an object's collection, and its name. */
  const where = async (o: KeptObject) => {
    const [group, version] = o.apiVersion.split('/') as [string, string];
    const found = await discovery.plural(o.apiVersion, o.kind);
    if (!found) {
      throw new Error(`the cluster does not serve ${o.apiVersion} ${o.kind}`);
    }
    const namespace = found.namespaced ? (o.metadata.namespace ?? 'default') : undefined;
    return { group, version, plural: found.plural, name: o.metadata.name, namespace };
  };
  return {
    parts: () =>
      wrap(async () => {
        const list = await core.listNamespacedConfigMap({ namespace: INVENTORY_NAMESPACE, labelSelector: LABEL_INVENTORY });
        return list.items as unknown as ReadPart[];
      }),
    serves: async (apiVersion, kind) => (await discovery.plural(apiVersion, kind)) !== undefined,
    hasNamespace: async (name) => (await orAbsent(() => core.readNamespace({ name }))) !== undefined,
    read: async (obj) => {
      const w = await where(obj);
      return orAbsent(
        async () =>
          (await (w.namespace === undefined
            ? custom.getClusterCustomObject(w)
            : custom.getNamespacedCustomObject({ ...w, namespace: w.namespace }))) as KubernetesObject,
      );
    },
    create: (obj, dryRun) =>
      wrap(async () => {
        const w = await where(obj);
        const request = { ...w, body: obj, dryRun: dryRun ? 'All' : undefined, fieldManager: TOOL };
        await (w.namespace === undefined
          ? custom.createClusterCustomObject(request)
          : custom.createNamespacedCustomObject({ ...request, namespace: w.namespace }));
      }),
    replace: (obj, dryRun) =>
      wrap(async () => {
        const w = await where(obj);
        const request = { ...w, body: obj, dryRun: dryRun ? 'All' : undefined, fieldManager: TOOL };
        await (w.namespace === undefined
          ? custom.replaceClusterCustomObject(request)
          : custom.replaceNamespacedCustomObject({ ...request, namespace: w.namespace }));
      }),
  };
}
