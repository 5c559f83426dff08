// The kill -9 harness's admin: sends deposits and withdrawals to the traders' accounts while they
// trade, each with a fresh ref, and remembers which were acked and which were in flight at the
// kill. After a restart every acked ref must be known to the server (resent, it is a duplicate),
// and an in-flight one either was applied (duplicate) or was not (applied now, or refused); so the
// net of all transfers known applied is exact, and conservation can be checked against it.
import WebSocket from 'ws';
import { RejectError, SpotwireClient, type WebSocketConstructor } from '../../protocol/client.js';
import type { TransferOp } from '../../protocol/constants.js';
import { pick, randomInt } from './prng.js';

interface Transfer {
  readonly op: TransferOp;
  readonly account: string;
  readonly asset: string;
  readonly amount: number;
  readonly ref: string;
}

export class CrashTreasurer {
  client: SpotwireClient | null = null;
  /** Net units per asset that transfers known applied moved into the accounts. */
  readonly net = new Map<string, number>();
  private readonly acked: Transfer[] = [];
  private readonly inFlight = new Set<Transfer>();
  private nextRef = 0;
  transfersAcked = 0;

  constructor(
    private readonly token: string,
    private readonly accounts: readonly string[],
    private readonly assets: readonly string[],
  ) {}

  async connect(url: string): Promise<void> {
    this.client = await SpotwireClient.connect(url, { WebSocket: WebSocket as unknown as WebSocketConstructor, timeoutMs: 15_000 });
    await this.client.login(this.token);
  }

  async lane(random: () => number, running: () => boolean): Promise<void> {
    const client = this.client!;
    while (running() && client.isOpen) {
      const transfer: Transfer = {
        op: random() < 0.7 ? 'deposit' : 'withdraw',
        account: pick(random, this.accounts),
        asset: pick(random, this.assets),
        amount: randomInt(random, 1, 50_000),
        ref: `treasury-${this.nextRef++}`,
      };
      this.inFlight.add(transfer);
      try {
        await this.send(transfer);
        this.inFlight.delete(transfer);
        this.acked.push(transfer);
        this.transfersAcked++;
      } catch (error) {
        if (!(error instanceof RejectError)) return; // the server died: it stays in flight
        this.inFlight.delete(transfer); // refused (e.g. insufficient_funds): never applied
      }
      await new Promise((resume) => setTimeout(resume, randomInt(random, 5, 25)));
    }
  }

  /**
   * After a restart: every acked transfer must come back a duplicate (else a violation), and each
   * in-flight one is settled by resending it. Returns the violations found.
   */
  async reconcile(): Promise<string[]> {
    const violations: string[] = [];
    for (const transfer of this.acked.splice(0)) {
      const ack = await this.send(transfer).catch((error: unknown) => (error instanceof Error ? error : new Error(String(error))));
      if (ack instanceof Error || ack.duplicate !== true)
        violations.push(`acked transfer ${transfer.ref} was not applied before the restart`);
    }
    for (const transfer of [...this.inFlight]) {
      this.inFlight.delete(transfer);
      await this.send(transfer).catch((error: unknown) => {
        if (!(error instanceof RejectError && error.code === 'insufficient_funds'))
          violations.push(`in-flight transfer ${transfer.ref}: ${String(error)}`);
      });
    }
    return violations;
  }

  close(): void {
    this.client?.close();
  }

  /** Sends one transfer; a first application (duplicate or not) counts in `net` exactly once. */
  private async send(transfer: Transfer): Promise<{ duplicate?: true }> {
    const { op, account, asset, amount, ref } = transfer;
    const ack =
      op === 'deposit' ? await this.client!.deposit(account, asset, amount, ref) : await this.client!.withdraw(account, asset, amount, ref);
    if (!this.counted.has(ref)) {
      this.counted.add(ref);
      this.net.set(asset, (this.net.get(asset) ?? 0) + (op === 'deposit' ? amount : -amount));
    }
    return ack;
  }

  private readonly counted = new Set<string>();
}
