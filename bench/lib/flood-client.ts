// A flooding client for bench:loop-fairness, run as its own process so that handling the flood's
// replies never delays the probe's pings. It writes `burst` frames of 1,024 messages in one TCP
// write, keeps `window` frames in flight, and counts replies from the array header alone (no
// decoding), until killed.
//   node --import tsx bench/lib/flood-client.ts <port> <scenario> [token]
import { createCodec } from '../../protocol/codec.js';
import { FRAME, SCENARIOS, type Scenario } from './flood-scenarios.js';
import { RawWsClient } from './raw-ws-client.js';

/** Messages in one server frame: an array's length from its header, else 1. */
function messagesIn(payload: Uint8Array): number {
  const first = payload[0]!;
  if ((first & 0xf0) === 0x90) return first & 0x0f;
  if (first === 0xdc) return (payload[1]! << 8) | payload[2]!;
  if (first === 0xdd) return ((payload[1]! << 24) >>> 0) + (payload[2]! << 16) + (payload[3]! << 8) + payload[4]!;
  return 1;
}

async function main(): Promise<void> {
  const [portText, name, token] = process.argv.slice(2);
  const scenario = SCENARIOS[name as Scenario];
  if (portText === undefined || scenario === undefined)
    throw new Error('usage: flood-client.ts <port> <invalid|valid|markets|orders> [token]');
  const codec = createCodec();
  const frame = codec.encode(Array.from({ length: FRAME }, (_, i) => scenario.message(i)));
  let replies = 0;
  let sentFrames = 0;
  let client: RawWsClient | null = null;
  const send = (): void => {
    for (let i = 0; i < scenario.burst; i++) client!.send(frame);
    sentFrames += scenario.burst;
  };
  client = await RawWsClient.open('127.0.0.1', Number(portText), '/ws', {
    onPayload: (payload) => {
      replies += messagesIn(payload);
      // One reply per message (and one for the login): frames answered make room in the window.
      const answered = Math.floor((replies - (scenario.login ? 1 : 0)) / FRAME);
      while (sentFrames - answered + scenario.burst <= scenario.window) send();
    },
    onClose: () => process.exit(0),
  });
  if (scenario.login) client.send(codec.encode({ op: 'login', rid: 'login', token }));
  for (let i = 0; i < scenario.window; i += scenario.burst) send();
  setInterval(() => process.stdout.write(`${replies}\n`), 1000);
}

main().catch((error: unknown) => {
  console.error((error as Error).message);
  process.exit(1);
});
