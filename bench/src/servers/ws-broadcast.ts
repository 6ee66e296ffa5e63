// BASELINE for row 9: a bare `ws` broadcast server. No auth, no storage, no parsing: a socket
// joins the group named in its URL (`/sync?group=<name>`), and every text frame it sends is
// forwarded as-is to every socket of that group, the sender included, as sessiond forwards an
// operation to every subscribed socket of the user. What relaying one frame to the sockets of
// one user costs on this machine, with nothing else in the way.
import { createServer } from 'node:http';
import { type RawData, WebSocket, WebSocketServer } from 'ws';
import { answerHealth } from './lib/health.js';
import { listenAndAnnounce } from './lib/listen.js';
import { sendJSON } from './lib/send-json.js';
import { readServerEnv } from './lib/server-env.js';

const env = readServerEnv();
const groups = new Map<string, Set<WebSocket>>();

const server = createServer((req, res) => {
  if (answerHealth(req, res)) return;
  sendJSON(res, 404, { error: 'not_found' });
});

// Same frame limit as ws's default and no per-message compression, like sessiond's socket.
const wss = new WebSocketServer({ server, path: '/sync' });

function forward(group: Set<WebSocket>, data: RawData, isBinary: boolean): void {
  for (const peer of group) if (peer.readyState === WebSocket.OPEN) peer.send(data, { binary: isBinary });
}

wss.on('connection', (socket, request) => {
  const name = new URL(request.url ?? '/', 'http://127.0.0.1').searchParams.get('group') ?? '';
  let group = groups.get(name);
  if (group === undefined) {
    group = new Set();
    groups.set(name, group);
  }
  const members = group;
  members.add(socket);
  socket.on('message', (data, isBinary) => forward(members, data, isBinary));
  socket.on('close', () => {
    members.delete(socket);
    if (members.size === 0) groups.delete(name);
  });
  socket.on('error', () => socket.terminate());
});

// Before listenAndAnnounce's own handler: an upgraded socket would keep server.close() waiting.
process.once('SIGTERM', () => {
  for (const socket of wss.clients) socket.terminate();
});
await listenAndAnnounce(server, { name: 'ws-broadcast', port: env.port });
