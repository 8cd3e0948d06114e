// A TCP forwarder across network namespaces, through a Unix socket (a file, which every namespace
// sees): `unix <socket> <host> <port>` listens on the socket and connects to host:port;
// `tcp <host> <port> <socket>` (started inside a node's namespace) listens on host:port there and
// connects to the socket. Bytes pass unchanged, so TLS is end to end.
import { createConnection, createServer } from 'node:net';
import { rmSync } from 'node:fs';

const [mode, a, b, c] = process.argv.slice(2);
const pipe = (client, target) => {
  client.pipe(target).on('error', () => client.destroy());
  target.pipe(client).on('error', () => target.destroy());
  client.on('error', () => target.destroy());
  target.on('error', () => client.destroy());
};
if (mode === 'unix') {
  rmSync(a, { force: true });
  createServer((client) => pipe(client, createConnection({ host: b, port: Number(c) }))).listen(a, () => console.log('ready'));
} else if (mode === 'tcp') {
  createServer((client) => pipe(client, createConnection({ path: c }))).listen({ host: a, port: Number(b) }, () => console.log('ready'));
} else {
  console.error('usage: forward.mjs unix <socket> <host> <port> | tcp <host> <port> <socket>');
  process.exit(2);
}
