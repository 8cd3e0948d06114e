/**
 * A minimal Kubernetes API reader for the in-cluster Jobs: `fetch` with the pod's ServiceAccount
 * token, against the direct API address (no Service, no cluster DNS). Dependency-free.
 *
 * The API server's certificate is trusted through NODE_EXTRA_CA_CERTS, which the Job points at
 * the mounted ServiceAccount CA.
 */
import { readFileSync } from 'node:fs';

/** The pod's ServiceAccount token; KUBERNETES_TOKEN_FILE overrides it (tests run the script outside a pod). */
const TOKEN_FILE = '/var/run/secrets/kubernetes.io/serviceaccount/token';

/** Reads API paths; `get` returns undefined for 404. */
export interface ApiReader {
  get<T>(path: string): Promise<T | undefined>;
}

/** An ApiReader for `https://host:port`, retrying transport errors and 5xx a bounded number of times. */
export function apiReader(host: string, port: number, attempts = 5, delayMs = 2000): ApiReader {
  const base = `https://${host.includes(':') ? `[${host}]` : host}:${port}`;
  return {
    async get<T>(path: string): Promise<T | undefined> {
      let lastError = '';
      for (let attempt = 1; attempt <= attempts; attempt++) {
        try {
          // The token is re-read each time: kubelet rotates projected tokens.
          const token = readFileSync(process.env.KUBERNETES_TOKEN_FILE ?? TOKEN_FILE, 'utf8').trim();
          const response = await fetch(`${base}${path}`, {
            headers: { authorization: `Bearer ${token}`, accept: 'application/json' },
            signal: AbortSignal.timeout(10_000),
          });
          if (response.status === 404) {
            return undefined;
          }
          if (response.ok) {
            return (await response.json()) as T;
          }
          lastError = `HTTP ${response.status}: ${(await response.text()).slice(0, 200)}`;
          if (response.status < 500) {
            break;
          }
        } catch (err) {
          lastError = (err as Error).message;
        }
        if (attempt < attempts) {
          await new Promise((resolve) => setTimeout(resolve, delayMs));
        }
      }
      throw new Error(`GET ${path} failed: ${lastError}`);
    },
  };
}
