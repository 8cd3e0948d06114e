// Stand-in for an ingress controller (docs/testing.md "The data path"): forwards a request whose
// Host matches a rule to that rule's backend, read from a JSON file of host -> "address:port" that
// the simulation rewrites from the Ingress objects and Services; any other host gets 404.
//
//   ingress-proxy.mjs <address> <port> <routes.json>
import { readFileSync } from 'node:fs';
import { createServer, request } from 'node:http';

const [address, port, routesFile] = process.argv.slice(2);
createServer((req, res) => {
  let routes = {};
  try {
    routes = JSON.parse(readFileSync(routesFile, 'utf8'));
  } catch {
    // No routes yet.
  }
  const host = (req.headers.host ?? '').replace(/:\d+$/, '');
  const backend = routes[host];
  if (!backend) {
    res.writeHead(404).end('404 page not found\n');
    return;
  }
  const [backendHost, backendPort] = backend.split(':');
  const upstream = request(
    { host: backendHost, port: Number(backendPort), path: req.url, method: req.method, headers: req.headers },
    (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    },
  );
  upstream.on('error', () => res.writeHead(502).end('bad gateway\n'));
  req.pipe(upstream);
}).listen(Number(port), address);
