// The transport ceiling for bench:e2e: a bare uWS server (the same uWebSockets.js package and
// options as the gateway) that sends every binary frame straight back. No decoding, no matching,
// no journal: what is left is the cost of the sockets themselves.
// Run as a child process: node --import tsx bench/lib/echo-server.ts; prints {"port":N} once listening.
import { loadNativeUws } from '../../server/gateway/uws.js';

const uws = loadNativeUws();
const app = uws.App();
app.ws('/ws', {
  maxPayloadLength: 64 * 1024,
  maxBackpressure: 64 * 1024 * 1024,
  idleTimeout: 0,
  message: (ws, message, isBinary) => {
    ws.send(message, isBinary);
  },
});
app.listen('127.0.0.1', 0, (token) => {
  if (!token) {
    console.error('echo server: cannot listen');
    process.exitCode = 1;
    return;
  }
  console.log(JSON.stringify({ port: uws.us_socket_local_port(token) }));
});
process.on('SIGTERM', () => process.exit(0));
