// Stand-in for an ingress controller (docs/testing.md "The data path"): forwards a request whose
// Host matches a rule to that rule's backend, read from a JSON file of host -> "address:port" that
// the simulation rewrites from the Ingress objects and Services; any other host gets 404. With an
// HTTPS port and a key pair it answers plain HTTP with a redirect to HTTPS (Traefik's web entry
// point redirecting to websecure) and forwards on HTTPS instead.
//
//   ingress-proxy.mjs <address> <port> <routes.json> [<https port> <key> <cert>]
import { readFileSync } from 'node:fs';
import { createServer, request } from 'node:http';
import { createServer as createTlsServer } from 'node:https';

const [address, port, routesFile, httpsPort, keyFile, certFile] = process.argv.slice(2);

function forward(req, res) {
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
}

if (httpsPort) {
  createServer((req, res) => {
    const host = (req.headers.host ?? '').replace(/:\d+$/, '');
    res.writeHead(308, { location: `https://${host}${req.url ?? '/'}` }).end('Permanent Redirect\n');
  }).listen(Number(port), address);
  createTlsServer({ key: readFileSync(keyFile), cert: readFileSync(certFile) }, forward).listen(Number(httpsPort), address);
} else {
  createServer(forward).listen(Number(port), address);
}
