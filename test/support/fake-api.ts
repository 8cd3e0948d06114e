/**
 * A fake Kubernetes API server on loopback over TLS, for running the bundled in-cluster scripts
 * as their Jobs run them (token, CA, direct address). It answers from a map of path → object.
 */
import { execFile, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { bundleInCluster, type InClusterEntry } from '../../lib/constructs/bundle.ts';
import { hasTool } from './tools.ts';

const run = promisify(execFile);
export const TOKEN = 'test-token';

/** A request handler: return [status, body], or undefined for 404. `body` is the parsed request body, if any. */
export type Handler = (method: string, url: string, body?: unknown) => [number, unknown] | undefined;

export interface FakeApi {
  readonly requests: string[];
  handler: Handler;
  /**
   * Runs `lib/incluster/<entry>.ts`, bundled, as `node <entry>.mjs [...args] <spec file>`; resolves
   * with exit code and lines.
   */
  runScript(
    entry: InClusterEntry,
    spec: unknown,
    options?: { token?: string; args?: string[]; env?: Record<string, string> },
  ): Promise<{ code: number; lines: string[] }>;
  close(): Promise<void>;
}

/** Makes a certificate for 127.0.0.1, or returns undefined when openssl is missing. */
function certificate(dir: string): { key: string; cert: string } | undefined {
  const result = spawnSync('openssl', [
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-days',
    '1',
    '-subj',
    '/CN=127.0.0.1',
    '-addext',
    'subjectAltName=IP:127.0.0.1',
    '-keyout',
    join(dir, 'key.pem'),
    '-out',
    join(dir, 'ca.crt'),
  ]);
  return result.status === 0 ? { key: join(dir, 'key.pem'), cert: join(dir, 'ca.crt') } : undefined;
}

/** Whether the fake API can run: it needs openssl to make its test certificate. */
export const HAVE_OPENSSL = hasTool('openssl');

/** Starts the fake API. Requests without the token get 401. */
export async function startFakeApi(handler: Handler): Promise<FakeApi> {
  const dir = mkdtempSync(join(tmpdir(), 'cilium-cutover-fake-api-'));
  const tls = certificate(dir);
  if (!tls) {
    throw new Error('openssl is needed for the fake API server');
  }
  const requests: string[] = [];
  const api: FakeApi = {
    requests,
    handler,
    async runScript(entry, spec, options = {}) {
      const token = options.token ?? TOKEN;
      writeFileSync(join(dir, `${entry}.mjs`), bundleInCluster(entry));
      writeFileSync(join(dir, 'spec.json'), JSON.stringify(spec));
      writeFileSync(join(dir, 'token'), `${token}\n`);
      const env = {
        PATH: process.env.PATH!,
        NODE_EXTRA_CA_CERTS: tls.cert,
        KUBERNETES_SERVICE_HOST: '127.0.0.1',
        KUBERNETES_SERVICE_PORT: String(port),
        KUBERNETES_TOKEN_FILE: join(dir, 'token'),
        ...options.env,
      };
      try {
        const { stdout } = await run(process.execPath, [join(dir, `${entry}.mjs`), ...(options.args ?? []), join(dir, 'spec.json')], {
          env,
        });
        return { code: 0, lines: stdout.trim().split('\n') };
      } catch (err) {
        const e = err as { code: number; stdout: string };
        return { code: e.code, lines: e.stdout.trim().split('\n') };
      }
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
  const server: Server = createServer({ key: readFileSync(tls.key), cert: readFileSync(tls.cert) }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      requests.push(`${req.method} ${req.url}`);
      const text = Buffer.concat(chunks).toString('utf8');
      const body = text === '' ? undefined : (JSON.parse(text) as unknown);
      const answer: [number, unknown] =
        req.headers.authorization === `Bearer ${TOKEN}`
          ? (api.handler(req.method!, req.url!, body) ?? [404, { kind: 'Status', code: 404 }])
          : [401, { kind: 'Status', message: 'Unauthorized' }];
      res.writeHead(answer[0], { 'content-type': 'application/json' });
      res.end(JSON.stringify(answer[1]));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return api;
}

/** RFC 7386 merge patch: objects merge, `null` deletes, anything else replaces. */
export function mergePatch(target: any, patch: any): any {
  if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) {
    return patch;
  }
  const result: any = target && typeof target === 'object' && !Array.isArray(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) {
      delete result[key];
    } else {
      result[key] = mergePatch(result[key], value);
    }
  }
  return result;
}
