// What a reconnecting client restores on each new connection, and how: the login it made (token,
// cancelOnDisconnect), resumed from the last pseq it saw; the dead-man switch the app armed (a
// restarted server has forgotten it); on a gap, fresh `orders` and `balances` snapshots; then
// every subscription. A gap stays owed until a restore succeeds, so a restore cut after the login
// that found it still takes the snapshots next time and reports the gap, though the next login
// resumes cleanly from the new pseq.
import type { GapEvent, LoginOptions, ResumedEvent } from './client-api.js';
import type { BalanceView, LoginReply, OrderView } from './messages.js';

export interface RestoreSteps {
  login(token: string, options: LoginOptions): Promise<LoginReply>;
  armDeadMan(timeoutMs: number): Promise<void>;
  snapshots(): Promise<{ orders: OrderView[]; balances: BalanceView[] }>;
  resubscribe(): Promise<void>;
  privateStream(): { epoch: string; pseq: number };
  /** The session is back on socket `generation`; false if that socket is no longer the current one. */
  restored(generation: number): boolean;
  failed(generation: number, error: unknown): void;
  gap(event: GapEvent): void;
  resumed(event: ResumedEvent): void;
}

export class SessionRestore {
  #login: { readonly token: string; readonly cancelOnDisconnect: boolean | undefined } | undefined;
  #deadManMs = 0;
  #gapToFill: string | undefined;

  constructor(private readonly steps: RestoreSteps) {}

  loggedIn(token: string, cancelOnDisconnect: boolean | undefined): void {
    this.#login = { token, cancelOnDisconnect };
  }

  /** The switch as the app last set it (0: off). */
  deadManSet(timeoutMs: number): void {
    this.#deadManMs = timeoutMs;
  }

  async restore(generation: number): Promise<void> {
    const { steps } = this;
    const from = steps.privateStream();
    try {
      let replayed = 0;
      if (this.#login !== undefined) {
        const { token, cancelOnDisconnect } = this.#login;
        const reply = await steps.login(token, {
          ...(cancelOnDisconnect === undefined ? {} : { cancelOnDisconnect }),
          ...(from.epoch === '' ? {} : { resume: from }),
        });
        this.#gapToFill ??= reply.resumeGap;
        replayed = reply.resumed ?? 0;
        if (this.#deadManMs > 0) await steps.armDeadMan(this.#deadManMs);
      }
      const gap = this.#gapToFill;
      const snapshots = gap === undefined ? undefined : await steps.snapshots();
      await steps.resubscribe();
      if (!steps.restored(generation)) return;
      this.#gapToFill = undefined;
      if (gap !== undefined) steps.gap({ reason: gap, ...snapshots! });
      const to = steps.privateStream();
      steps.resumed({ fromPseq: from.pseq, toPseq: to.pseq, epoch: to.epoch, replayed });
    } catch (error) {
      steps.failed(generation, error);
    }
  }
}
