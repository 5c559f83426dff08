// The fan-out ceiling for bench:fanout: a bare uWS server (same package, same backpressure limit
// as the gateway) that subscribes every socket to one topic on its first frame and publishes
// messages of a given size at a given rate, in 1 ms ticks, with app.publish — what the gateway's
// market data costs minus the gateway. Run as a child: node --import tsx bench/lib/publish-server.ts
// --rate <msgs/s> --bytes <n>; prints {"port":N} once listening.
import { parseArgs } from 'node:util';
import { loadNativeUws } from '../../server/gateway/uws.js';

const { values } = parseArgs({ options: { rate: { type: 'string', default: '1000' }, bytes: { type: 'string', default: '100' } } });
const rate = Number(values.rate);
const payload = new Uint8Array(Number(values.bytes)).fill(0x90);
const uws = loadNativeUws();
const app = uws.App();
let published = 0;
app.ws('/ws', {
  maxPayloadLength: 64 * 1024,
  maxBackpressure: 1024 * 1024,
  closeOnBackpressureLimit: 1,
  idleTimeout: 0,
  message: (ws) => {
    if (!ws.isSubscribed('md')) {
      ws.subscribe('md');
      ws.send(payload, true);
    }
  },
});
app.listen('127.0.0.1', 0, (token) => {
  if (!token) {
    console.error('publish server: cannot listen');
    process.exitCode = 1;
    return;
  }
  console.log(JSON.stringify({ port: uws.us_socket_local_port(token) }));
  const started = performance.now();
  const tick = (): void => {
    const due = Math.floor(((performance.now() - started) / 1000) * rate) - published;
    for (let i = 0; i < due; i++) app.publish('md', payload, true);
    published += Math.max(0, due);
    setTimeout(tick, 1);
  };
  tick();
});
process.on('SIGTERM', () => process.exit(0));
