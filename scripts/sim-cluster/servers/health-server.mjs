// Stand-in for a Cilium agent's health endpoint on its node (docs/testing.md "The simulated
// Cilium"): GET /healthz answers 200 while the agent is simulated Ready.
//
//   health-server.mjs <address> <port>
import { createServer } from 'node:http';

const [address, port] = process.argv.slice(2);
createServer((req, res) => {
  res.writeHead(req.url === '/healthz' ? 200 : 404).end(req.url === '/healthz' ? 'ok\n' : 'not found\n');
}).listen(Number(port), address);
