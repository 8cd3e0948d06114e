/**
 * The verification checks' probes: HTTP over TCP or a Unix socket, HTTPS without certificate
 * checks (an ingress controller's default certificate), DNS and a bare TCP connect. None throws: a
 * failure is an answer without a status. Dependency-free.
 */
import { promises as dns } from 'node:dns';
import { request as httpRequest, type RequestOptions } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { connect } from 'node:net';
import type { HttpAnswer } from './verify-paths.ts';

const TIMEOUT_MS = 5000;
/** What an answer keeps of its body: enough for the echo's large answer. */
const BODY_LIMIT = 2 * 1_048_576;

export interface Probe {
  /** `http://address:port/path`, or a path on `socketPath`. */
  readonly url: string;
  readonly socketPath?: string;
  readonly host?: string;
  readonly method?: 'GET' | 'POST';
  /** Bytes of body to send (POST). */
  readonly bodyBytes?: number;
  readonly timeoutMs?: number;
  /** HTTPS: accept any certificate (an ingress controller's default one). @default false */
  readonly anyCertificate?: boolean;
}

/** One HTTP(S) request; HTTPS sends `host` as SNI. */
export function fetchAnswer(probe: Probe): Promise<HttpAnswer> {
  return new Promise((resolve) => {
    const url = new URL(probe.url);
    const secure = url.protocol === 'https:';
    const options: RequestOptions & { servername?: string; rejectUnauthorized?: boolean } = {
      method: probe.method ?? 'GET',
      host: url.hostname,
      port: url.port || (secure ? 443 : 80),
      path: `${url.pathname}${url.search}`,
      headers: {
        ...(probe.host ? { host: probe.host } : {}),
        ...(probe.bodyBytes ? { 'content-length': String(probe.bodyBytes) } : {}),
      },
      timeout: probe.timeoutMs ?? TIMEOUT_MS,
      ...(probe.socketPath ? { socketPath: probe.socketPath } : {}),
      ...(secure ? { servername: probe.host ?? url.hostname, rejectUnauthorized: probe.anyCertificate !== true } : {}),
    };
    const req = (secure ? httpsRequest : httpRequest)(options, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        if (size < BODY_LIMIT) {
          chunks.push(chunk);
          size += chunk.length;
        }
      });
      res.on('end', () =>
        resolve({
          status: res.statusCode,
          body: Buffer.concat(chunks).toString('utf8'),
          ...(res.headers.location ? { location: res.headers.location } : {}),
        }),
      );
      res.on('error', (err) => resolve({ body: err.message }));
    });
    req.on('timeout', () => req.destroy(new Error(`timed out after ${(probe.timeoutMs ?? TIMEOUT_MS) / 1000}s`)));
    req.on('error', (err) => resolve({ body: err.message }));
    if (probe.bodyBytes) {
      req.end(Buffer.alloc(probe.bodyBytes, 0x61));
    } else {
      req.end();
    }
  });
}

/** The IPv4 addresses of a name, or the resolver's error code. */
export async function resolveName(name: string): Promise<string[] | string> {
  try {
    return await dns.resolve4(name);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code ?? (err as Error).message;
  }
}

/** Whether something accepts a TCP connection on the address and port within a second. */
export function answersTcp(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port, timeout: 1000 });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.on('connect', () => done(true));
    socket.on('timeout', () => done(false));
    socket.on('error', () => done(false));
  });
}

/** Runs the tasks at most `limit` at a time, results in order. */
export async function inBatches<T>(tasks: readonly (() => Promise<T>)[], limit = 8): Promise<T[]> {
  const results: T[] = new Array(tasks.length);
  let next = 0;
  const worker = async () => {
    while (next < tasks.length) {
      const i = next++;
      results[i] = await tasks[i]!();
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, tasks.length) }, worker));
  return results;
}
