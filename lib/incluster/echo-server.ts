/**
 * The echo backend of the verification step: answers every request with who answered (pod, node,
 * address), so a check can tell which pod it reached. Dependency-free; bundled into a ConfigMap.
 */
import { createServer } from 'node:http';

/** What the echo server answers; the checks parse it with `parseEcho`. */
export interface EchoAnswer {
  readonly service: 'cilium-cutover-echo';
  readonly pod: string;
  readonly node: string;
  readonly ip: string;
}

const port = Number(process.env.ECHO_PORT ?? '8080');
const answer: EchoAnswer = {
  service: 'cilium-cutover-echo',
  pod: process.env.POD_NAME ?? 'unknown',
  node: process.env.NODE_NAME ?? 'unknown',
  ip: process.env.POD_IP ?? 'unknown',
};

createServer((req, res) => {
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(`${JSON.stringify({ ...answer, host: req.headers.host ?? '', path: req.url ?? '' })}\n`);
}).listen(port, () => {
  console.log(`echo: listening on ${port} as ${answer.pod} on ${answer.node}`);
});
