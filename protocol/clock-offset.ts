// The server clock against this one, NTP-style: a pong's `ts` is taken as the server's time
// halfway through its round trip, and the sample with the shortest round trip, the one least
// skewed by queueing on either side, is the estimate.
import type { PongReply } from './messages.js';

export async function measureClockOffset(ping: () => Promise<PongReply>, samples: number): Promise<{ offsetMs: number; rttMs: number }> {
  let best = { offsetMs: 0, rttMs: Infinity };
  for (let i = 0; i < samples; i++) {
    const sentAt = Date.now();
    const pong = await ping();
    const receivedAt = Date.now();
    const rttMs = receivedAt - sentAt;
    if (rttMs < best.rttMs) best = { offsetMs: pong.ts - (sentAt + receivedAt) / 2, rttMs };
  }
  return best;
}
