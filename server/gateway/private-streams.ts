// Each account's private stream (its `exec` and `balance` messages) numbered by `pseq`, rising by
// 1, whether or not the account is connected, with the last `retention` messages kept so that a
// client that reconnects can log in with `resumeFrom` and get exactly what it missed. Numbers are
// per server life (`epoch`): they live in memory, and a restart starts them again, so a resume
// from another epoch, or from before what is retained, is a gap the client closes with snapshots
// (`orders`, `balances`).
import type { BalanceMessage, Exec } from '../../protocol/messages.js';

export type PrivateMessage = (Exec | BalanceMessage) & { pseq?: number };

class Retained {
  /** The last pseq assigned (0: none yet). */
  last = 0;
  /** Ring of the newest messages: slot pseq % capacity. */
  readonly ring: (PrivateMessage | undefined)[];

  constructor(capacity: number) {
    this.ring = new Array<PrivateMessage | undefined>(capacity);
  }
}

export type Resume = { readonly messages: PrivateMessage[] } | { readonly gap: string };

export class PrivateStreams {
  private readonly accounts = new Map<string, Retained>();

  constructor(
    /** Messages kept per account for resume (≥ 1). */
    private readonly retention: number,
    /** Names this server life: pseqs of another epoch mean nothing here. */
    readonly epoch: string,
  ) {}

  /** Numbers `message` as the account's next and keeps it; returns its pseq. */
  record(account: string, message: PrivateMessage): number {
    let retained = this.accounts.get(account);
    if (!retained) this.accounts.set(account, (retained = new Retained(this.retention)));
    const pseq = ++retained.last;
    message.pseq = pseq;
    retained.ring[pseq % this.retention] = message;
    return pseq;
  }

  last(account: string): number {
    return this.accounts.get(account)?.last ?? 0;
  }

  /** What a client that has seen up to `from` (of `epoch`) missed, oldest first; or why it cannot be told. */
  resume(account: string, from: number, epoch: string): Resume {
    if (epoch !== this.epoch)
      return { gap: `epoch ${epoch} is not this server's (${this.epoch}): it restarted; take snapshots (orders, balances)` };
    const last = this.last(account);
    if (from > last) return { gap: `resumeFrom ${from} is past the account's last pseq ${last}` };
    const oldest = Math.max(1, last - this.retention + 1);
    if (from + 1 < oldest)
      return { gap: `pseq ${from + 1} to ${oldest - 1} are no longer kept (the last ${this.retention} are); take snapshots` };
    const retained = this.accounts.get(account);
    const messages: PrivateMessage[] = [];
    for (let pseq = from + 1; pseq <= last; pseq++) messages.push(retained!.ring[pseq % this.retention]!);
    return { messages };
  }
}
