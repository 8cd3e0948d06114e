/**
 * The echo backend of the verification step: answers every request with who answered (pod, node,
 * address), so a check can tell which pod it reached. `POST /large` also counts the bytes it
 * received and pads its answer to as many, so one request carries full-size packets both ways.
 * Dependency-free; bundled into a ConfigMap.
 */
import { createServer } from 'node:http';

/** What the echo server answers; the checks parse it with `parseEcho`. */
export interface EchoAnswer {
  readonly service: 'cilium-cutover-echo';
  readonly pod: string;
  readonly node: string;
  readonly ip: string;
  /** The request body's size in bytes (POST /large). */
  readonly received?: number;
  /** As many bytes as were received (POST /large). */
  readonly padding?: string;
}

/** The largest body POST /large takes (the limit of verify.limits.payloadBytes). */
export const LARGE_MAX_BYTES = 1_048_576;

const port = Number(process.env.ECHO_PORT ?? '8080');
const answer: EchoAnswer = {
  service: 'cilium-cutover-echo',
  pod: process.env.POD_NAME ?? 'unknown',
  node: process.env.NODE_NAME ?? 'unknown',
  ip: process.env.POD_IP ?? 'unknown',
};

createServer((req, res) => {
  let received = 0;
  req.on('data', (chunk: Buffer) => (received += chunk.length));
  req.on('end', () => {
    const large = req.method === 'POST' && req.url === '/large' ? Math.min(received, LARGE_MAX_BYTES) : undefined;
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(
      `${JSON.stringify({
        ...answer,
        host: req.headers.host ?? '',
        path: req.url ?? '',
        ...(large === undefined ? {} : { received, padding: 'x'.repeat(large) }),
      })}\n`,
    );
  });
}).listen(port, () => {
  console.log(`echo: listening on ${port} as ${answer.pod} on ${answer.node}`);
});
