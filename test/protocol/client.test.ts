// The client against a scripted stand-in server (a real `ws` server on an ephemeral port), so the
// client's own behaviour — rid matching, timeouts, resync — is tested apart from the real server.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer, type RawData } from 'ws';
import { bookChecksum } from '../../protocol/checksum.js';
import { ClientError, RejectError, SpotwireClient } from '../../protocol/client.js';
import { createCodec } from '../../protocol/codec.js';
import type { Level } from '../../protocol/messages.js';

type Msg = Record<string, unknown>;
const codec = createCodec();

interface Fake {
  wss: WebSocketServer;
  url: string;
  /** Every decoded frame the server received, as sent (a map or an array). */
  frames: unknown[];
  /** Answers one request; return undefined to stay silent. */
  handle: (msg: Msg, socket: WebSocket) => unknown;
  sockets: WebSocket[];
}

let fake: Fake;
const clients: SpotwireClient[] = [];

function toBytes(data: RawData): Uint8Array {
  if (Array.isArray(data)) return new Uint8Array(Buffer.concat(data));
  return new Uint8Array(data as ArrayBuffer);
}

beforeEach(async () => {
  const wss = new WebSocketServer({ port: 0 });
  await new Promise<void>((resolve) => wss.once('listening', () => resolve()));
  const address = wss.address();
  if (address === null || typeof address === 'string') throw new Error('unexpected address');
  fake = {
    wss,
    url: `ws://127.0.0.1:${address.port}`,
    frames: [],
    sockets: [],
    handle: (msg) => defaultReply(msg),
  };
  wss.on('connection', (socket) => {
    fake.sockets.push(socket);
    socket.on('message', (data, isBinary) => {
      if (!isBinary) {
        socket.send(codec.encode({ type: 'error', code: 'bad_frame', msg: 'binary frames only' }));
        return;
      }
      const frame = codec.decode(toBytes(data));
      fake.frames.push(frame);
      const messages = (Array.isArray(frame) ? frame : [frame]) as Msg[];
      const replies = messages.map((m) => fake.handle(m, socket)).filter((r) => r !== undefined);
      if (replies.length === 1) socket.send(codec.encode(replies[0]));
      else if (replies.length > 1) socket.send(codec.encode(replies));
    });
  });
});

afterEach(async () => {
  for (const client of clients.splice(0)) client.close();
  for (const socket of fake.sockets) socket.terminate();
  await new Promise<void>((resolve) => fake.wss.close(() => resolve()));
});

function defaultReply(msg: Msg): unknown {
  const rid = msg['rid'];
  switch (msg['op']) {
    case 'ping':
      return { type: 'pong', rid, ts: 1_717_171_717_171 };
    case 'login':
      return msg['token'] === 'good'
        ? { type: 'login', rid, account: 'alice' }
        : { type: 'reject', rid, op: 'login', code: 'unauthenticated', msg: 'bad token' };
    case 'markets':
      return {
        type: 'markets',
        rid,
        markets: [{ sym: 'BTC-USD', base: 'BTC', quote: 'USD', pxDecimals: 2, qtyDecimals: 8, makerFee: 0, takerFee: 0 }],
      };
    case 'place':
      return { type: 'ack', rid, op: 'place', id: 1, cid: msg['cid'] ?? null };
    case 'cancel':
    case 'amend':
      return { type: 'reject', rid, op: msg['op'], code: 'unknown_order', msg: 'unknown order' };
    case 'cancel_all':
      return { type: 'ack', rid, op: 'cancel_all', canceled: 3 };
    case 'orders':
      return { type: 'orders', rid, orders: [] };
    case 'sub':
      return { type: 'subbed', rid, ch: msg['ch'], sym: msg['sym'] };
    case 'unsub':
      return { type: 'unsubbed', rid, ch: msg['ch'], sym: msg['sym'] };
    default:
      return { type: 'reject', rid, op: msg['op'] ?? null, code: 'bad_request', msg: 'unknown op' };
  }
}

async function connect(options: { timeoutMs?: number; maxPending?: number } = {}): Promise<SpotwireClient> {
  const client = await SpotwireClient.connect(fake.url, { WebSocket, ...options });
  clients.push(client);
  return client;
}

function book(sym: string, seq: number, bids: Level[], asks: Level[], full: { bids: Level[]; asks: Level[] }, snapshot = false): Msg {
  const msg: Msg = { type: 'book', sym, seq, bids, asks, cs: bookChecksum(full.asks, full.bids) };
  if (snapshot) msg['snapshot'] = true;
  return msg;
}

async function until(condition: () => boolean, ms = 2000): Promise<void> {
  const start = Date.now();
  while (!condition()) {
    if (Date.now() - start > ms) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

describe('SpotwireClient requests', () => {
  it('connects, pings and matches the reply by an auto-incrementing integer rid', async () => {
    const client = await connect();
    expect(client.isOpen).toBe(true);
    const pong = await client.ping();
    expect(pong).toMatchObject({ type: 'pong', ts: 1_717_171_717_171 });
    await client.ping();
    const rids = (fake.frames as Msg[]).map((f) => f['rid']);
    expect(rids).toEqual([1, 2]);
    expect(client.pendingCount).toBe(0);
  });

  it('sends the typed requests in the wire shape', async () => {
    const client = await connect();
    expect(await client.login('good', { cancelOnDisconnect: true })).toMatchObject({ type: 'login', account: 'alice' });
    expect((await client.markets()).markets[0]!.sym).toBe('BTC-USD');
    expect(await client.place({ sym: 'BTC-USD', side: 'buy', kind: 'limit', px: 100, qty: 5, cid: 'c1' })).toMatchObject({
      type: 'ack',
      op: 'place',
      id: 1,
      cid: 'c1',
    });
    expect(await client.cancelAll()).toMatchObject({ canceled: 3 });
    expect(await client.cancelAll('BTC-USD')).toMatchObject({ op: 'cancel_all' });
    expect(await client.orders('BTC-USD')).toMatchObject({ type: 'orders', orders: [] });
    await expect(client.cancel('BTC-USD', 5)).rejects.toBeInstanceOf(RejectError);
    await expect(client.amend('BTC-USD', 'c1', { qty: 3 })).rejects.toMatchObject({ code: 'unknown_order' });
    const sent = (fake.frames as Msg[]).map(({ rid: _rid, ...rest }) => rest);
    expect(sent).toEqual([
      { op: 'login', token: 'good', cancelOnDisconnect: true },
      { op: 'markets' },
      { op: 'place', sym: 'BTC-USD', side: 'buy', kind: 'limit', px: 100, qty: 5, cid: 'c1' },
      { op: 'cancel_all' },
      { op: 'cancel_all', sym: 'BTC-USD' },
      { op: 'orders', sym: 'BTC-USD' },
      { op: 'cancel', sym: 'BTC-USD', id: 5 },
      { op: 'amend', sym: 'BTC-USD', cid: 'c1', qty: 3 },
    ]);
  });

  it('rejects a typed call with a RejectError carrying code, msg and op', async () => {
    const client = await connect();
    const error = await client.login('bad').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RejectError);
    expect(error).toMatchObject({ code: 'unauthenticated', msg: 'bad token', op: 'login' });
  });

  it('resolves a raw request with a reject as a value', async () => {
    const client = await connect();
    const reply = await client.request({ op: 'nope', x: 1 });
    expect(reply).toMatchObject({ type: 'reject', code: 'bad_request', op: 'nope' });
  });

  it('pipelines several requests in one array frame and returns replies in request order', async () => {
    const client = await connect();
    // The server answers in reverse order, in one frame, to show matching is by rid.
    fake.handle = () => undefined;
    fake.wss.clients.forEach((socket) => socket.removeAllListeners('message'));
    fake.wss.clients.forEach((socket) =>
      socket.on('message', (data) => {
        const frame = codec.decode(toBytes(data)) as Msg[];
        fake.frames.push(frame);
        socket.send(codec.encode(frame.map((m) => defaultReply(m)).reverse()));
      }),
    );
    const replies = await client.send([{ op: 'ping' }, { op: 'login', token: 'bad' }, { op: 'markets' }]);
    expect(fake.frames).toHaveLength(1);
    expect(Array.isArray(fake.frames[0])).toBe(true);
    expect(replies.map((r) => r.type)).toEqual(['pong', 'reject', 'markets']);
  });

  it('times out a request without a reply and forgets it', async () => {
    const client = await connect({ timeoutMs: 100 });
    fake.handle = () => undefined;
    const error = await client.ping().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ClientError);
    expect(error).toMatchObject({ kind: 'timeout' });
    expect(client.pendingCount).toBe(0);
  });

  it('bounds the pending map', async () => {
    const client = await connect({ maxPending: 3 });
    fake.handle = () => undefined;
    const pending = [client.ping(), client.ping(), client.ping()].map((p) => p.catch((e: unknown) => e));
    await expect(client.ping()).rejects.toMatchObject({ kind: 'too_many_pending' });
    await expect(client.send([{ op: 'ping' }])).rejects.toMatchObject({ kind: 'too_many_pending' });
    expect(client.pendingCount).toBe(3);
    client.close();
    for (const error of await Promise.all(pending)) expect(error).toMatchObject({ kind: 'closed' });
  });

  it('rejects pending requests on close() and refuses new ones', async () => {
    const client = await connect();
    fake.handle = () => undefined;
    const pending = client.ping();
    client.close();
    await expect(pending).rejects.toMatchObject({ kind: 'closed' });
    await expect(client.ping()).rejects.toMatchObject({ kind: 'closed' });
    expect(client.pendingCount).toBe(0);
  });

  it('rejects pending requests and emits onClose when the server closes', async () => {
    const client = await connect();
    fake.handle = () => undefined;
    const closed = new Promise<{ code: number }>((resolve) => client.onClose(resolve));
    const pending = client.ping();
    await until(() => fake.frames.length === 1);
    fake.sockets[0]!.close(4000, 'bye');
    await expect(pending).rejects.toMatchObject({ kind: 'closed' });
    expect(await closed).toMatchObject({ code: 4000, reason: 'bye' });
    expect(client.isOpen).toBe(false);
  });

  it('fails connect to a closed port', async () => {
    await expect(SpotwireClient.connect('ws://127.0.0.1:1', { WebSocket })).rejects.toMatchObject({
      kind: 'connect_failed',
    });
  });
});

describe('SpotwireClient events', () => {
  it('delivers exec, trade, book and error messages, from map and array frames', async () => {
    const client = await connect();
    const seen: string[] = [];
    const offExec = client.onExec((m) => seen.push(`exec:${m.id}`));
    client.onTrade((m) => seen.push(`trade:${m.tradeId}`));
    client.onBook((m) => seen.push(`book:${m.seq}`));
    client.onError((m) => seen.push(`error:${m.code}`));
    const socket = fake.sockets[0]!;
    socket.send(
      codec.encode({ type: 'exec', sym: 'X', id: 1, cid: null, side: 'buy', status: 'new', px: 1, qty: 1, leaves: 1, filled: 0, ts: 1 }),
    );
    socket.send(
      codec.encode([
        { type: 'trade', sym: 'X', tradeId: 2, px: 1, qty: 1, side: 'buy', ts: 1 },
        { type: 'book', sym: 'X', seq: 3, bids: [], asks: [], cs: 0 },
        { type: 'exec', sym: 'X', id: 4, cid: null, side: 'buy', status: 'new', px: 1, qty: 1, leaves: 1, filled: 0, ts: 1 },
      ]),
    );
    await until(() => seen.length === 4);
    offExec();
    socket.send(
      codec.encode({ type: 'exec', sym: 'X', id: 5, cid: null, side: 'buy', status: 'new', px: 1, qty: 1, leaves: 1, filled: 0, ts: 1 }),
    );
    client.sendRaw('text frame');
    await until(() => seen.length === 5);
    expect(seen).toEqual(['exec:1', 'trade:2', 'book:3', 'exec:4', 'error:bad_frame']);
  });

  it('counts undecodable server frames without failing', async () => {
    const client = await connect();
    fake.sockets[0]!.send(Uint8Array.from([0xdd, 0xff, 0xff, 0xff, 0xff]));
    fake.sockets[0]!.send(codec.encode([1, 'x']));
    await until(() => client.badFrames === 3);
    expect(await client.ping()).toMatchObject({ type: 'pong' });
  });
});

describe('SpotwireClient subscriptions', () => {
  const A: { bids: Level[]; asks: Level[] } = {
    bids: [
      [100, 3],
      [99, 7],
    ],
    asks: [
      [101, 5],
      [102, 1],
    ],
  };
  const B: { bids: Level[]; asks: Level[] } = { bids: [[99, 7]], asks: A.asks };

  /** Replies to book subs with subbed + a snapshot of `state()` at `seq()`. */
  function serveBook(state: () => { bids: Level[]; asks: Level[] }, seq: () => number): void {
    fake.handle = (msg, socket) => {
      const reply = defaultReply(msg);
      if (msg['op'] === 'sub' && msg['ch'] === 'book') {
        socket.send(codec.encode(reply));
        const s = state();
        return book(String(msg['sym']), seq(), s.bids, s.asks, s, true);
      }
      return reply;
    };
  }

  it('resolves with a LocalBook after the snapshot and applies deltas', async () => {
    serveBook(
      () => A,
      () => 10,
    );
    const client = await connect();
    const updates: number[] = [];
    const local = await client.subscribeBook('BTC-USD', { depth: 5, onUpdate: (b) => updates.push(b.seq) });
    expect(fake.frames[0] as Msg).toMatchObject({ op: 'sub', ch: 'book', sym: 'BTC-USD', depth: 5 });
    expect(local.seq).toBe(10);
    expect(local.bids()).toEqual(A.bids);
    expect(client.book('BTC-USD')).toBe(local);
    fake.sockets[0]!.send(codec.encode(book('BTC-USD', 11, [[100, 0]], [], B)));
    await until(() => local.seq === 11);
    expect(local.bestBid).toEqual([99, 7]);
    expect(updates).toEqual([10, 11]);
    expect(client.resyncs).toBe(0);
  });

  it('resubscribes (unsub then sub) on a seq gap and counts it', async () => {
    let seq = 10;
    serveBook(
      () => A,
      () => seq,
    );
    const client = await connect();
    const local = await client.subscribeBook('BTC-USD');
    seq = 20;
    fake.sockets[0]!.send(codec.encode(book('BTC-USD', 12, [], [], A)));
    await until(() => local.seq === 20 && local.synced);
    expect(client.resyncs).toBe(1);
    const ops = fake.frames.slice(1);
    expect(ops).toHaveLength(1);
    expect((ops[0] as Msg[]).map((m) => `${String(m['op'])}:${String(m['ch'])}`)).toEqual(['unsub:book', 'sub:book']);
    // deltas from the new subscription apply
    fake.sockets[0]!.send(codec.encode(book('BTC-USD', 21, [[100, 0]], [], B)));
    await until(() => local.seq === 21);
    expect(local.bids()).toEqual(B.bids);
  });

  it('resubscribes on a checksum mismatch and ignores deltas in flight meanwhile', async () => {
    let seq = 10;
    serveBook(
      () => A,
      () => seq,
    );
    const client = await connect();
    const local = await client.subscribeBook('BTC-USD');
    seq = 30;
    const socket = fake.sockets[0]!;
    // a delta whose cs does not match what the book becomes, then one more old delta
    socket.send(codec.encode({ ...book('BTC-USD', 11, [[100, 4]], [], A) }));
    socket.send(codec.encode(book('BTC-USD', 12, [], [], A)));
    await until(() => local.seq === 30 && local.synced);
    expect(client.resyncs).toBe(1);
    expect(local.bids()).toEqual(A.bids);
  });

  it('rejects subscribeBook with a RejectError when the server refuses', async () => {
    fake.handle = (msg) => ({ type: 'reject', rid: msg['rid'], op: 'sub', code: 'unknown_market', msg: 'unknown market' });
    const client = await connect();
    await expect(client.subscribeBook('NOPE')).rejects.toMatchObject({ code: 'unknown_market' });
    expect(client.book('NOPE')).toBeUndefined();
  });

  it('delivers trades of a subscribed market and stops after unsubscribe', async () => {
    const client = await connect();
    const trades: number[] = [];
    expect(await client.subscribeTrades('BTC-USD', (t) => trades.push(t.tradeId))).toMatchObject({
      type: 'subbed',
      ch: 'trades',
    });
    const socket = fake.sockets[0]!;
    socket.send(codec.encode({ type: 'trade', sym: 'BTC-USD', tradeId: 1, px: 1, qty: 1, side: 'buy', ts: 1 }));
    socket.send(codec.encode({ type: 'trade', sym: 'ETH-USD', tradeId: 2, px: 1, qty: 1, side: 'buy', ts: 1 }));
    await until(() => trades.length === 1);
    expect(await client.unsubscribe('trades', 'BTC-USD')).toMatchObject({ type: 'unsubbed' });
    socket.send(codec.encode({ type: 'trade', sym: 'BTC-USD', tradeId: 3, px: 1, qty: 1, side: 'buy', ts: 1 }));
    await client.ping();
    expect(trades).toEqual([1]);
  });
});
