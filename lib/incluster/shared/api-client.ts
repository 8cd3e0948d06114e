/**
 * A minimal Kubernetes API client for the in-cluster Jobs: `fetch` with the pod's ServiceAccount
 * token, against the direct API address (no Service, no cluster DNS). Dependency-free.
 *
 * The API server's certificate is trusted through NODE_EXTRA_CA_CERTS, which the Job points at
 * the mounted ServiceAccount CA.
 */
import { readFileSync } from 'node:fs';

/** The pod's ServiceAccount token; KUBERNETES_TOKEN_FILE overrides it (tests run the script outside a pod). */
const TOKEN_FILE = '/var/run/secrets/kubernetes.io/serviceaccount/token';

/** An API answer: status and parsed JSON body (or the text when it is not JSON). */
export interface ApiResponse {
  readonly status: number;
  readonly body: unknown;
}

export interface ApiClient {
  /** GET; undefined for 404, throws for other errors. */
  get<T>(path: string): Promise<T | undefined>;
  /** Any request; returns the response whatever its status, throws only when no response came. */
  request(method: 'GET' | 'DELETE', path: string): Promise<ApiResponse>;
  /** A JSON merge patch (RFC 7386: `null` removes a key); returns the response whatever its status. */
  mergePatch(path: string, patch: unknown): Promise<ApiResponse>;
  /** A DELETE with DeleteOptions (preconditions, grace period); returns the response whatever its status. */
  deleteWith(path: string, options: unknown): Promise<ApiResponse>;
}

/** An ApiClient for `https://host:port`, retrying transport errors and 5xx a bounded number of times. */
export function apiClient(host: string, port: number, attempts = 5, delayMs = 2000): ApiClient {
  const base = `https://${host.includes(':') ? `[${host}]` : host}:${port}`;
  const request = async (method: 'GET' | 'DELETE' | 'PATCH', path: string, body?: unknown): Promise<ApiResponse> => {
    let last: ApiResponse | undefined;
    let lastError = '';
    for (let attempt = 1; attempt <= attempts; attempt++) {
      try {
        // The token is re-read each time: kubelet rotates projected tokens.
        const token = readFileSync(process.env.KUBERNETES_TOKEN_FILE ?? TOKEN_FILE, 'utf8').trim();
        const response = await fetch(`${base}${path}`, {
          method,
          headers: {
            authorization: `Bearer ${token}`,
            accept: 'application/json',
            ...(body === undefined ? {} : { 'content-type': method === 'PATCH' ? 'application/merge-patch+json' : 'application/json' }),
          },
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
          signal: AbortSignal.timeout(10_000),
        });
        const text = await response.text();
        let answer: unknown = text;
        try {
          answer = JSON.parse(text);
        } catch {
          // Not JSON: keep the text for the message.
        }
        last = { status: response.status, body: answer };
        if (response.status < 500) {
          return last;
        }
      } catch (err) {
        lastError = (err as Error).message;
      }
      if (attempt < attempts) {
        await new Promise((resolve) => setTimeout(resolve, delayMs));
      }
    }
    if (last) {
      return last;
    }
    throw new Error(`${method} ${path} failed: ${lastError}`);
  };
  return {
    request: (method, path) => request(method, path),
    mergePatch: (path, patch) => request('PATCH', path, patch),
    deleteWith: (path, options) => request('DELETE', path, options),
    async get<T>(path: string): Promise<T | undefined> {
      const response = await request('GET', path);
      if (response.status === 404) {
        return undefined;
      }
      if (response.status >= 200 && response.status < 300) {
        return response.body as T;
      }
      throw new Error(`GET ${path} failed: HTTP ${response.status}: ${describeBody(response.body)}`);
    },
  };
}

/** The message of a Kubernetes Status body, or the start of any other body. */
export function describeBody(body: unknown): string {
  if (body && typeof body === 'object' && 'message' in body && typeof body.message === 'string') {
    return body.message;
  }
  return (typeof body === 'string' ? body : JSON.stringify(body)).slice(0, 200);
}

/** The API path of an object: `/api/v1/namespaces/ns/configmaps/x`, `/apis/apps/v1/…`. */
export function objectPath(group: string, version: string, resource: string, namespace: string | undefined, name?: string): string {
  const prefix = group === '' ? `/api/${version}` : `/apis/${group}/${version}`;
  const scope = namespace === undefined ? '' : `/namespaces/${encodeURIComponent(namespace)}`;
  return `${prefix}${scope}/${resource}${name === undefined ? '' : `/${encodeURIComponent(name)}`}`;
}

/**
 * One request with a JSON body to `https://host:port`, once: the caller decides whether to retry
 * (a POST is not idempotent in general). Returns the response whatever its status.
 */
async function send(
  host: string,
  port: number,
  method: 'POST' | 'PATCH',
  path: string,
  body: unknown,
  contentType: string,
): Promise<ApiResponse> {
  const token = readFileSync(process.env.KUBERNETES_TOKEN_FILE ?? TOKEN_FILE, 'utf8').trim();
  const response = await fetch(`https://${host.includes(':') ? `[${host}]` : host}:${port}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, accept: 'application/json', 'content-type': contentType },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(10_000),
  });
  const text = await response.text();
  try {
    return { status: response.status, body: JSON.parse(text) as unknown };
  } catch {
    return { status: response.status, body: text };
  }
}

/** A POST of a JSON body (an Eviction, for example). */
export function apiPost(host: string, port: number, path: string, body: unknown): Promise<ApiResponse> {
  return send(host, port, 'POST', path, body, 'application/json');
}

/** A strategic merge patch: list entries merge by their key (node conditions by `type`). */
export function apiStrategicPatch(host: string, port: number, path: string, body: unknown): Promise<ApiResponse> {
  return send(host, port, 'PATCH', path, body, 'application/strategic-merge-patch+json');
}
