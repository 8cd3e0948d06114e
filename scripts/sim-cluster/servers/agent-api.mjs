// Stand-in for a Cilium agent's and cilium-health's APIs on one node (docs/testing.md "The
// simulated Cilium"), run in the node's network namespace:
// - <dir>/cilium.sock: GET /v1/healthz answers the agent's status, read per request from the
//   status file the simulation writes (api/v1 StatusResponse field names);
// - <dir>/health.sock: GET /v1beta/status probes each peer of that file now, over HTTP to port
//   4240 of its node address and of its health address (api/v1/health HealthStatusResponse);
// - 0.0.0.0:4240 answers those probes for this node.
// Both sockets are root's with mode 0660, as the agent leaves them.
//
//   agent-api.mjs <dir> <status.json>
import { chmodSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer, request } from 'node:http';
import { join } from 'node:path';

const [dir, statusFile] = process.argv.slice(2);
mkdirSync(dir, { recursive: true });

const readStatus = () => JSON.parse(readFileSync(statusFile, 'utf8'));

function probe(ip) {
  return new Promise((resolve) => {
    const started = process.hrtime.bigint();
    const req = request({ host: ip, port: 4240, path: '/hello', timeout: 1000 }, (res) => {
      res.resume();
      res.on('end', () => resolve({ latency: Number(process.hrtime.bigint() - started), status: '' }));
    });
    req.on('timeout', () => req.destroy(new Error(`Get "http://${ip}:4240/hello": context deadline exceeded`)));
    req.on('error', (err) => resolve({ latency: 0, status: err.message }));
    req.end();
  });
}

function serve(socket, handler) {
  const path = join(dir, socket);
  rmSync(path, { force: true });
  const server = createServer(async (req, res) => {
    const body = await handler(req.url ?? '');
    res
      .writeHead(body === undefined ? 404 : 200, { 'content-type': 'application/json' })
      .end(JSON.stringify(body ?? { message: 'not found' }));
  });
  server.listen(path, () => chmodSync(path, 0o660));
}

serve('cilium.sock', (url) => (url.startsWith('/v1/healthz') ? readStatus().status : undefined));
serve('health.sock', async (url) => {
  if (!url.startsWith('/v1beta/status')) {
    return undefined;
  }
  const { self, peers } = readStatus();
  const nodes = await Promise.all(
    peers.map(async (peer) => ({
      name: peer.name,
      host: { 'primary-address': { ip: peer.ip, http: await probe(peer.ip), icmp: { latency: 0, status: '' } } },
      'health-endpoint': { 'primary-address': { ip: peer.healthIP, http: await probe(peer.healthIP), icmp: { latency: 0, status: '' } } },
    })),
  );
  return { local: { name: self }, nodes, timestamp: new Date().toISOString() };
});
// An agent restarting on its node: the one before may still hold the port for a moment.
const probes = createServer((_req, res) => res.writeHead(200).end('ok\n'));
probes.on('error', () => setTimeout(() => probes.listen(4240, '0.0.0.0'), 200));
probes.listen(4240, '0.0.0.0');
