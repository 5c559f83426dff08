// One account of the kill -9 harness: drives pipelined place/cancel/amend over WebSocket and keeps
// a model of its orders built only from what the server acknowledged and reported (each exec
// carries the order's whole state, so the last exec of an order is its state). Requests still
// unanswered when the server dies are remembered: their outcome is unknown until recovery.
import WebSocket from 'ws';
import { SpotwireClient, type RawRequest, type WebSocketConstructor } from '../../protocol/client.js';
import type { Exec, OrderView } from '../../protocol/messages.js';
import { pick, randomInt } from './prng.js';

export interface OrderState {
  readonly sym: string;
  readonly id: number;
  readonly cid: string | null;
  readonly side: 'buy' | 'sell';
  readonly px: number;
  readonly qty: number;
  readonly filled: number;
  readonly leaves: number;
}

export const orderKey = (sym: string, id: number): string => `${sym}:${id}`;

/** What a place or amend may take from the other side of the book, at most. */
export interface Aggression {
  readonly sym: string;
  readonly side: 'buy' | 'sell';
  /** The worst price it may trade at (±Infinity for market orders). */
  readonly px: number;
  readonly qty: number;
}

function fromView(view: OrderView): OrderState {
  return {
    sym: view.sym,
    id: view.id,
    cid: view.cid,
    side: view.side,
    px: view.px!,
    qty: view.qty,
    filled: view.filled,
    leaves: view.leaves,
  };
}

export class CrashTrader {
  client: SpotwireClient | null = null;
  /** Open orders as last reported. */
  readonly open = new Map<string, OrderState>();
  /** Orders reported filled or canceled: they must never come back. */
  readonly closed = new Set<string>();
  /** Requests sent and not answered, by a local number. */
  readonly inFlight = new Map<number, RawRequest>();
  /** What each place or amend sent may take from the book. */
  readonly intents = new WeakMap<RawRequest, Aggression>();
  /** Places and amends acked since the last restart, with their batch's ts. */
  readonly answered: Array<{ readonly aggression: Aggression; readonly ts: number }> = [];
  /**
   * The ts of the newest batch this connection got anything from. Batches are released in order
   * and each socket keeps its frames' order, but a kill can land between the sends of one batch:
   * batches from this ts on may have reached other accounts and not this one.
   */
  lastSeenTs = 0;
  readonly violations: string[] = [];
  /** Ids acked and trade ids reported must stay above these after a restart (per market). */
  readonly idFloor = new Map<string, number>();
  readonly tradeFloor = new Map<string, number>();
  readonly maxAckedId = new Map<string, number>();
  readonly maxTradeId = new Map<string, number>();
  private readonly fills = new Set<string>();
  private nextLocal = 1;
  private nextCid = 1;
  placesAcked = 0;
  fillsReported = 0;

  constructor(
    readonly account: string,
    readonly token: string,
    private readonly syms: readonly string[],
  ) {}

  async connect(url: string): Promise<void> {
    const client = await SpotwireClient.connect(url, {
      WebSocket: WebSocket as unknown as WebSocketConstructor,
      timeoutMs: 30_000,
      maxPending: 10_000,
    });
    client.onExec((exec) => this.onExec(exec));
    await client.login(this.token);
    this.client = client;
  }

  /** After a restart: the highest ids any account saw acked or reported are floors from now on. */
  setFloors(ids: ReadonlyMap<string, number>, tradeIds: ReadonlyMap<string, number>): void {
    for (const [sym, id] of ids) this.idFloor.set(sym, id);
    for (const [sym, id] of tradeIds) this.tradeFloor.set(sym, id);
  }

  /** The recovered server is the truth from here on (in-flight outcomes are now known). */
  resetTo(recovered: readonly OrderView[]): void {
    this.open.clear();
    for (const view of recovered) this.open.set(orderKey(view.sym, view.id), fromView(view));
    this.inFlight.clear();
    this.answered.length = 0;
  }

  /** Sends frames of 1–4 requests back to back until `running()` turns false or the socket dies. */
  async lane(random: () => number, running: () => boolean): Promise<void> {
    const client = this.client!;
    while (running() && client.isOpen) {
      const frame: RawRequest[] = [];
      for (let n = randomInt(random, 1, 4); n > 0; n--) frame.push(this.randomRequest(random));
      const locals = frame.map((request) => {
        const local = this.nextLocal++;
        this.inFlight.set(local, request);
        return local;
      });
      let replies;
      try {
        replies = await client.send(frame);
      } catch {
        return; // the server died: these stay in flight
      }
      replies.forEach((reply, i) => {
        const request = frame[i]!;
        this.inFlight.delete(locals[i]!);
        if (reply.type !== 'ack') return;
        const ts = ('ts' in reply ? reply.ts : undefined) ?? Number.MAX_SAFE_INTEGER;
        this.lastSeenTs = Math.max(this.lastSeenTs, ts);
        const aggression = this.intents.get(request);
        if (aggression) this.answered.push({ aggression, ts });
        if (reply.op === 'place' && typeof reply.id === 'number') this.onPlaceAck(request.sym as string, reply.id);
      });
    }
  }

  private onPlaceAck(sym: string, id: number): void {
    this.placesAcked++;
    const floor = this.idFloor.get(sym) ?? 0;
    if (id <= floor) this.violations.push(`${this.account}: place acked with id ${sym}:${id}, not above ${floor} acked before the restart`);
    this.maxAckedId.set(sym, Math.max(this.maxAckedId.get(sym) ?? 0, id));
  }

  private onExec(exec: Exec): void {
    this.lastSeenTs = Math.max(this.lastSeenTs, exec.ts);
    const key = orderKey(exec.sym, exec.id);
    if (this.closed.has(key)) this.violations.push(`${this.account}: exec ${exec.status} for ${key}, reported closed before`);
    if (exec.fill) {
      this.fillsReported++;
      const fill = `${exec.sym}:${exec.fill.tradeId}:${exec.id}`;
      if (this.fills.has(fill)) this.violations.push(`${this.account}: fill ${fill} reported twice`);
      this.fills.add(fill);
      const floor = this.tradeFloor.get(exec.sym) ?? 0;
      if (exec.fill.tradeId <= floor)
        this.violations.push(`${this.account}: trade id ${exec.sym}:${exec.fill.tradeId} not above ${floor} reported before the restart`);
      this.maxTradeId.set(exec.sym, Math.max(this.maxTradeId.get(exec.sym) ?? 0, exec.fill.tradeId));
    }
    if (exec.status === 'new' || exec.status === 'partial') {
      this.open.set(key, {
        sym: exec.sym,
        id: exec.id,
        cid: exec.cid,
        side: exec.side,
        px: exec.px!,
        qty: exec.qty,
        filled: exec.filled,
        leaves: exec.leaves,
      });
    } else {
      this.open.delete(key);
      this.closed.add(key);
    }
  }

  private randomRequest(random: () => number): RawRequest {
    const request = this.pickRequest(random);
    if (request.op === 'place') {
      const side = request.side as 'buy' | 'sell';
      const px = request.kind === 'market' ? (side === 'buy' ? Infinity : -Infinity) : (request.px as number);
      this.intents.set(request, { sym: request.sym as string, side, px, qty: request.qty as number });
    } else if (request.op === 'amend') {
      const order = this.open.get(orderKey(request.sym as string, request.id as number))!;
      const px = typeof request.px === 'number' ? request.px : order.px;
      const qty = Math.max(order.leaves, typeof request.qty === 'number' ? request.qty - order.filled : 0);
      this.intents.set(request, { sym: order.sym, side: order.side, px, qty });
    }
    return request;
  }

  private pickRequest(random: () => number): RawRequest {
    const sym = pick(random, this.syms);
    const mine = [...this.open.values()].filter((o) => o.sym === sym);
    const roll = random();
    if (mine.length > 0 && roll < 0.25) return { op: 'cancel', sym, id: pick(random, mine).id };
    if (mine.length > 0 && roll < 0.4) {
      const order = pick(random, mine);
      return random() < 0.5
        ? { op: 'amend', sym, id: order.id, qty: order.filled + randomInt(random, 1, 10) }
        : { op: 'amend', sym, id: order.id, px: order.px + randomInt(random, -2, 2) };
    }
    if (roll < 0.41) return { op: 'cancel_all', sym };
    const side = random() < 0.5 ? 'buy' : 'sell';
    const cid = `${this.account}-${this.nextCid++}`;
    if (random() < 0.03) return { op: 'place', sym, side, kind: 'market', qty: randomInt(random, 1, 5), cid };
    // Mostly passive around a 100 mid so books build depth, some orders reaching across to trade.
    const reach = random() < 0.25 ? randomInt(random, 1, 4) : 0;
    const px = side === 'buy' ? randomInt(random, 90, 99) + reach : randomInt(random, 101, 110) - reach;
    const tif = random() < 0.15 ? 'ioc' : 'gtc';
    return { op: 'place', sym, side, kind: 'limit', px, qty: randomInt(random, 1, 10), tif, cid };
  }
}
