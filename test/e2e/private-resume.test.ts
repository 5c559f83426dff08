// The private stream's pseq and resume over real WebSockets: a bot's connection is cut at random
// moments while another account trades against its orders and an admin moves its funds; each
// time it logs in again with `resume` and gets exactly what it missed. Its view, built only from
// the stream (open orders from execs, balances from balance messages), must equal the server's,
// with pseq rising by exactly 1 across every reconnect: no gap, no duplicate.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BalanceMessage, Exec, ServerMessage } from '../../protocol/messages.js';
import { mulberry32, randomInt } from '../../bench/lib/prng.js';
import { startTestServer, type TestServer } from '../support/test-server.js';
import { barrier, connect, SYM, type Recorded } from '../support/e2e.js';

const ROUNDS = 1_000;
let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({ privateStreamRetention: 5_000 });
});
afterAll(async () => {
  await server.stop();
});

/** What a bot knows, from its private stream alone. */
class StreamView {
  readonly open = new Map<number, Exec>();
  readonly balances = new Map<string, { available: number; hold: number }>();
  lastPseq = 0;
  readonly problems: string[] = [];

  apply(message: ServerMessage): void {
    if (message.type !== 'exec' && message.type !== 'balance') return;
    const pseq = (message as Exec | BalanceMessage).pseq!;
    if (pseq !== this.lastPseq + 1) this.problems.push(`pseq ${pseq} after ${this.lastPseq}`);
    this.lastPseq = Math.max(this.lastPseq, pseq);
    if (message.type === 'balance') this.balances.set(message.asset, { available: message.available, hold: message.hold });
    else if (message.leaves > 0 && message.status !== 'canceled') this.open.set(message.id, message);
    else this.open.delete(message.id);
  }
}

describe('private stream resume', () => {
  it(`${ROUNDS} random disconnects under trading: the stream-built view equals the server, with no gap and no duplicate`, async () => {
    const random = mulberry32(20_261_203);
    const view = new StreamView();
    const bob = await connect(server.url, 'token-bob');
    const admin = await connect(server.url, 'token-admin');
    // Only the current connection feeds the view: what a dropped one still receives is not seen.
    let current: Recorded | null = null;
    const follow = (c: Recorded): Recorded => {
      c.client.onMessage((m) => {
        if (c === current) view.apply(m);
      });
      current = c;
      return c;
    };
    let alice: Recorded = follow(await connect(server.url));
    const first = await alice.client.login('token-carol');
    view.lastPseq = first.pseq;
    let resumes = 0;
    let transfers = 0;
    for (let round = 0; round < ROUNDS; round++) {
      for (let i = 0; i < randomInt(random, 1, 4); i++) {
        await alice.client.place({
          sym: SYM,
          side: 'sell',
          kind: 'limit',
          px: 10_000 + randomInt(random, 0, 5),
          qty: randomInt(random, 1, 5),
        });
      }
      // Bob hits the quotes and the admin moves funds while the bot's connection is cut: some of
      // it lands before the cut, some after, at random.
      const away = [
        bob.client
          .place({ sym: SYM, side: 'buy', kind: 'limit', px: 10_005, qty: randomInt(random, 1, 8), tif: 'ioc' })
          .catch(() => undefined),
        admin.client.deposit('carol', 'USD', randomInt(random, 1, 1_000), `resume-${round}`).then(() => transfers++),
      ];
      if (random() < 0.5) await new Promise((resolve) => setTimeout(resolve, randomInt(random, 0, 2)));
      const dropped = alice.client.privateStream;
      current = null; // from here the old connection's messages are ignored
      alice.client.close();
      alice = follow(await connect(server.url));
      await Promise.all(away);
      const reply = await alice.client.login('token-carol', { resume: dropped });
      expect(reply.resumeGap).toBeUndefined();
      resumes++;
      await barrier(alice);
    }
    await alice.client.cancelAll();
    await barrier(alice, bob, admin);
    expect(view.problems).toEqual([]);
    expect(resumes).toBe(ROUNDS);
    expect(transfers).toBe(ROUNDS);
    const serverOrders = server.server.engine.openOrders('carol', null).map((o) => o.id);
    expect([...view.open.keys()].sort()).toEqual(serverOrders.sort());
    for (const b of server.server.engine.balances('carol')) {
      if (view.balances.has(b.asset)) expect(view.balances.get(b.asset), b.asset).toEqual({ available: b.available, hold: b.hold });
    }
    expect(view.balances.has('USD')).toBe(true);
    for (const c of [alice, bob, admin]) c.client.close();
  });

  it('a resume from another epoch, or from before what is kept, is a gap; from the last pseq, nothing', async () => {
    const alice = await connect(server.url);
    const reply = await alice.client.login('token-alice');
    const fromOtherLife = await connect(server.url);
    expect(await fromOtherLife.client.login('token-alice', { resume: { epoch: 'yesterday', pseq: 3 } })).toMatchObject({
      resumeGap: expect.stringMatching(/restarted/),
    });
    const upToDate = await connect(server.url);
    expect(await upToDate.client.login('token-alice', { resume: { epoch: reply.epoch, pseq: reply.pseq } })).toMatchObject({ resumed: 0 });
    for (const c of [alice, fromOtherLife, upToDate]) c.client.close();
  });
});

describe('private stream retention', () => {
  it('past the retention, a resume is a gap that names what was lost', async () => {
    const small = await startTestServer({ privateStreamRetention: 3 });
    try {
      const dave = await connect(small.url, 'token-bob');
      const start = dave.client.privateStream;
      dave.client.close();
      const other = await connect(small.url, 'token-bob');
      for (let i = 0; i < 3; i++) await other.client.place({ sym: SYM, side: 'buy', kind: 'limit', px: 100 + i, qty: 1 });
      const late = await connect(small.url);
      const reply = await late.client.login('token-bob', { resume: start });
      expect(reply.resumeGap).toMatch(/no longer kept \(the last 3 are\)/);
      for (const c of [other, late]) c.client.close();
    } finally {
      await small.stop();
    }
  });
});
