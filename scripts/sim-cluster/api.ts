/**
 * The simulation's own client of the test API server: the admin token and CA of a kubeconfig,
 * JSON in and out. Only the simulation (kubelet, fixture) uses it; the programs under test use
 * their own ServiceAccount tokens.
 */
import { readFileSync } from 'node:fs';
import { request } from 'node:https';
import { parse } from 'yaml';

export interface SimApi {
  readonly server: URL;
  /** The cluster CA, PEM (what a pod finds as its ServiceAccount's ca.crt). */
  readonly ca: string;
  call<T = unknown>(method: string, path: string, body?: unknown, contentType?: string): Promise<{ status: number; body: T }>;
  /** Creates an object; an existing one is replaced (status included, for Nodes). */
  apply(obj: { apiVersion: string; kind: string; metadata: { name: string; namespace?: string } }, plural: string): Promise<void>;
}

/** A node condition as the simulation writes it; its times are set when it is written. */
export interface NodeCondition {
  readonly type: string;
  readonly status: string;
  readonly reason: string;
  readonly message: string;
}

/**
 * Replaces one condition of a Node (as read from the API server) in its status, stamped now: what
 * the kubelet, calico-node and Cilium's operator write.
 */
export async function putNodeCondition(api: SimApi, node: Readonly<Record<string, any>>, condition: NodeCondition): Promise<void> {
  const stamp = new Date().toISOString();
  await api.call('PUT', `/api/v1/nodes/${node.metadata.name}/status`, {
    ...node,
    status: {
      ...node.status,
      conditions: [
        ...(node.status?.conditions ?? []).filter((c: NodeCondition) => c.type !== condition.type),
        { ...condition, lastHeartbeatTime: stamp, lastTransitionTime: stamp },
      ],
    },
  });
}

/** The API client of a kubeconfig whose first cluster and user are the test control plane's admin. */
export function simApi(kubeconfig: string): SimApi {
  const kc = parse(readFileSync(kubeconfig, 'utf8')) as {
    clusters: { cluster: { server: string; 'certificate-authority-data': string } }[];
    users: { user: { token: string } }[];
  };
  const server = new URL(kc.clusters[0]!.cluster.server);
  const ca = Buffer.from(kc.clusters[0]!.cluster['certificate-authority-data'], 'base64').toString('utf8');
  const token = kc.users[0]!.user.token;
  const call = <T>(method: string, path: string, body?: unknown, contentType = 'application/json') =>
    new Promise<{ status: number; body: T }>((resolve, reject) => {
      const payload = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
      const req = request(
        {
          host: server.hostname,
          port: server.port,
          path,
          method,
          ca,
          headers: {
            authorization: `Bearer ${token}`,
            accept: 'application/json',
            ...(payload === undefined ? {} : { 'content-type': contentType, 'content-length': Buffer.byteLength(payload) }),
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let parsed: unknown = text;
            try {
              parsed = JSON.parse(text);
            } catch {
              // Logs and errors in text.
            }
            resolve({ status: res.statusCode ?? 0, body: parsed as T });
          });
        },
      );
      req.on('error', reject);
      req.end(payload);
    });
  const apply: SimApi['apply'] = async (obj, plural) => {
    const [group, version] = obj.apiVersion.includes('/') ? obj.apiVersion.split('/') : ['', obj.apiVersion];
    const base = `${group ? `/apis/${group}` : '/api'}/${version}${obj.metadata.namespace ? `/namespaces/${obj.metadata.namespace}` : ''}/${plural}`;
    const created = await call('POST', base, obj);
    if (created.status === 409) {
      // A controller may write the object between the read and the write (the API server's own
      // controllers set a new CRD's status): read again and retry on a conflict.
      let replaced: { status: number; body: unknown } = { status: 409, body: undefined };
      for (let attempt = 0; attempt < 5 && replaced.status === 409; attempt++) {
        const current = await call<{ metadata: { resourceVersion: string } }>('GET', `${base}/${obj.metadata.name}`);
        replaced = await call('PUT', `${base}/${obj.metadata.name}`, {
          ...obj,
          metadata: { ...obj.metadata, resourceVersion: current.body.metadata.resourceVersion },
        });
      }
      if (replaced.status >= 300) {
        throw new Error(`replace ${obj.kind} ${obj.metadata.name}: HTTP ${replaced.status} ${JSON.stringify(replaced.body)}`);
      }
    } else if (created.status >= 300) {
      throw new Error(`create ${obj.kind} ${obj.metadata.name}: HTTP ${created.status} ${JSON.stringify(created.body)}`);
    }
    if ('status' in obj && obj.status !== undefined) {
      const current = await call<{ metadata: { resourceVersion: string } }>('GET', `${base}/${obj.metadata.name}`);
      await call('PUT', `${base}/${obj.metadata.name}/status`, {
        ...obj,
        metadata: { ...obj.metadata, resourceVersion: current.body.metadata.resourceVersion },
      });
    }
  };
  return { server, ca, call, apply };
}
