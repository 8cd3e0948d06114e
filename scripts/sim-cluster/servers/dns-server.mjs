// Stand-in for CoreDNS (docs/testing.md "The data path"): answers A queries over UDP from a JSON
// file of name -> addresses that the simulation rewrites as Services change; every other name is
// NXDOMAIN, as the cluster domain's unknown names are.
//
//   dns-server.mjs <address> <port> <records.json>
import { createSocket } from 'node:dgram';
import { readFileSync } from 'node:fs';

const [address, port, recordsFile] = process.argv.slice(2);

/** The question's name (lower case, no trailing dot), type, and the offset after it. */
function question(msg) {
  const labels = [];
  let at = 12;
  while (msg[at] !== 0) {
    labels.push(msg.subarray(at + 1, at + 1 + msg[at]).toString('ascii'));
    at += msg[at] + 1;
  }
  return { name: labels.join('.').toLowerCase(), type: msg.readUInt16BE(at + 1), end: at + 5 };
}

function answer(msg) {
  const q = question(msg);
  let records = {};
  try {
    records = JSON.parse(readFileSync(recordsFile, 'utf8'));
  } catch {
    // No records yet: everything is unknown.
  }
  const addresses = records[q.name];
  const header = Buffer.alloc(12);
  msg.copy(header, 0, 0, 2);
  // QR, AA, RD copied, RA; NXDOMAIN for an unknown name.
  header.writeUInt16BE(0x8480 | (msg.readUInt16BE(2) & 0x0100) | (addresses ? 0 : 3), 2);
  header.writeUInt16BE(1, 4);
  const answers = q.type === 1 && addresses ? addresses : [];
  header.writeUInt16BE(answers.length, 6);
  const rrs = answers.map((ip) => {
    const rr = Buffer.alloc(16);
    rr.writeUInt16BE(0xc00c, 0);
    rr.writeUInt16BE(1, 2);
    rr.writeUInt16BE(1, 4);
    rr.writeUInt32BE(5, 6);
    rr.writeUInt16BE(4, 10);
    ip.split('.').forEach((octet, i) => rr.writeUInt8(Number(octet), 12 + i));
    return rr;
  });
  return Buffer.concat([header, msg.subarray(12, q.end), ...rrs]);
}

const socket = createSocket('udp4');
socket.on('message', (msg, peer) => {
  try {
    socket.send(answer(msg), peer.port, peer.address);
  } catch {
    // A malformed query gets no answer.
  }
});
socket.bind(Number(port), address);
