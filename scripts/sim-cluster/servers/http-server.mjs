// Stand-in for a site outside the cluster (docs/testing.md "The data path"): answers every request
// with the status given (200 normally; a scenario breaks it with another).
//
//   http-server.mjs <address> <port> <status>
import { createServer } from 'node:http';

const [address, port, status] = process.argv.slice(2);
createServer((_req, res) => {
  const code = Number(status);
  res.writeHead(code, code >= 300 && code < 400 ? { location: 'https://example.invalid/' } : {}).end('simulated external site\n');
}).listen(Number(port), address);
