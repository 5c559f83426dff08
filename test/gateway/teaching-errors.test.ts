// Error messages that teach: a decimal price or quantity is answered in the market's own units, an
// unknown op lists the ops, and a frame over the payload limit is closed 1009 with a reason that
// says so (uWS itself would drop the socket, which a client sees as a bare 1006).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OPS } from '../../protocol/constants.js';
import { RawSocket } from '../support/raw-socket.js';
import { startTestServer, type TestServer } from '../support/test-server.js';

describe('error messages that teach', () => {
  let server: TestServer;
  let socket: RawSocket;
  beforeAll(async () => {
    server = await startTestServer();
    socket = await RawSocket.open(server.url);
    await socket.request({ op: 'login', token: 'token-alice' }, 'login');
  });
  afterAll(async () => {
    await socket?.close();
    await server?.stop();
  });

  it('a decimal px names the tick size of its market, with the value converted', async () => {
    const reply = await socket.request({ op: 'place', sym: 'BTC-USD', side: 'buy', kind: 'limit', px: 100.5, qty: 1 }, 'f1');
    expect(reply).toMatchObject({ type: 'reject', code: 'bad_number' });
    expect(reply.msg).toBe('px must be an integer number of ticks (BTC-USD has pxDecimals 2: 100.50 USD is px 10050)');
  });

  it('a decimal qty names the lot size; an amend too', async () => {
    const place = await socket.request({ op: 'place', sym: 'ETH-USD', side: 'buy', kind: 'limit', px: 100, qty: 0.25 }, 'f2');
    expect(place.msg).toBe('qty must be an integer number of lots (ETH-USD has qtyDecimals 4: 0.2500 ETH is qty 2500)');
    const amend = await socket.request({ op: 'amend', sym: 'BTC-USD', id: 1, px: 99.99 }, 'f3');
    expect(amend).toMatchObject({
      code: 'bad_number',
      msg: 'px must be an integer number of ticks (BTC-USD has pxDecimals 2: 99.99 USD is px 9999)',
    });
  });

  it('an unknown op lists the ops', async () => {
    const reply = await socket.request({ op: 'nope' }, 'u1');
    expect(reply).toMatchObject({ type: 'reject', op: 'nope', code: 'bad_request' });
    expect(reply.msg).toBe(`unknown op; the ops are ${OPS.join(', ')}`);
  });

  it('closes a frame over the payload limit with 1009 and a reason', async () => {
    const big = await RawSocket.open(server.url);
    big.sendBytes(new Uint8Array(64 * 1024 + 1));
    await big.waitFor(() => false, 5_000).catch(() => undefined);
    expect(big.closeCode).toBe(1009);
    expect(big.closeReason).toBe('frame of 65537 bytes is over the 65536-byte limit');
  });

  it('past four times the limit uWS drops the socket itself: the client sees 1006, the server stays up', async () => {
    const huge = await RawSocket.open(server.url);
    huge.sendBytes(new Uint8Array(4 * 64 * 1024 + 1));
    await huge.waitFor(() => false, 5_000).catch(() => undefined);
    expect(huge.closeCode).toBe(1006);
    expect((await socket.request({ op: 'ping' }, 'alive')).type).toBe('pong');
  });
});
