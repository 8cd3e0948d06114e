// Carries the API server's traffic across network namespaces, through a Unix socket (a file, which
// every namespace sees):
//   `tcp <host> <port> <socket>` (started inside a node's namespace) listens on host:port there and
//   passes the bytes to the socket unchanged;
//   `proxy <socket> <apiserver-url> <key> <cert> <ca> <from>=<to>...` listens on the socket as the
//   API server (its key and certificate, so a client's verification of the cluster CA holds) and
//   forwards every request to it, changing only the apiVersion of an eviction's body from <from>
//   to <to>: the stand-in for an API version the test server is too old for
//   (scripts/sim-cluster/api-level.ts). Each change is logged.
import { readFileSync, rmSync } from 'node:fs';
import { createServer as createHttpsServer, request } from 'node:https';
import { createConnection, createServer } from 'node:net';

const [mode, ...args] = process.argv.slice(2);
const pipe = (client, target) => {
  client.pipe(target).on('error', () => client.destroy());
  target.pipe(client).on('error', () => target.destroy());
  client.on('error', () => target.destroy());
  target.on('error', () => client.destroy());
};

if (mode === 'tcp') {
  const [host, port, socket] = args;
  createServer((client) => pipe(client, createConnection({ path: socket }))).listen({ host, port: Number(port) });
} else if (mode === 'proxy') {
  const [socket, url, key, cert, ca, ...renames] = args;
  const server = new URL(url);
  const versions = new Map(renames.map((r) => r.split('=')));
  rmSync(socket, { force: true });
  const https = createHttpsServer({ key: readFileSync(key), cert: readFileSync(cert) }, (req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      let body = Buffer.concat(chunks);
      if (req.method === 'POST' && /\/pods\/[^/]+\/eviction$/.test(req.url ?? '')) {
        try {
          const eviction = JSON.parse(body.toString('utf8'));
          const to = versions.get(eviction.apiVersion);
          if (to) {
            console.log(`eviction ${req.url}: ${eviction.apiVersion} served as ${to}`);
            body = Buffer.from(JSON.stringify({ ...eviction, apiVersion: to }));
          }
        } catch {
          // Not JSON: passed on unchanged, the API server answers it.
        }
      }
      const headers = { ...req.headers, host: server.host, 'content-length': String(body.length) };
      const upstream = request(
        { host: server.hostname, port: server.port, path: req.url, method: req.method, headers, ca: readFileSync(ca) },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        },
      );
      upstream.on('error', (err) => res.writeHead(502).end(err.message));
      upstream.end(body);
    });
  });
  https.listen(socket);
} else {
  console.error('usage: forward.mjs tcp <host> <port> <socket> | proxy <socket> <apiserver-url> <key> <cert> <ca> <from>=<to>...');
  process.exit(2);
}
