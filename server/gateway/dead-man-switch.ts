// The dead-man switch (`cancel_after`): per account, a deadline that the account keeps pushing
// out; if it passes, the gateway cancels all the account's orders with reason `timeout`. The
// deadline lives here, in wall-clock time, and never in the engine: what reaches the engine and
// the journal is the cancel_all that fires, so a replay repeats it without any clock. A restart
// therefore disarms every switch (documented): a bot re-arms it when it logs in again.

export class DeadManSwitch {
  /** account → when its orders are canceled unless renewed (ms). */
  private readonly deadlines = new Map<string, number>();

  /** Arms (or renews) the account's switch; timeout 0 turns it off. Returns the deadline or null. */
  arm(account: string, timeout: number, now: number): number | null {
    if (timeout === 0) {
      this.deadlines.delete(account);
      return null;
    }
    const deadline = now + timeout;
    this.deadlines.set(account, deadline);
    return deadline;
  }

  /** The accounts whose deadline has passed, disarmed as they are returned (each fires once). */
  due(now: number): string[] {
    const fired: string[] = [];
    for (const [account, deadline] of this.deadlines) {
      if (deadline <= now) fired.push(account);
    }
    for (const account of fired) this.deadlines.delete(account);
    return fired;
  }

  get armed(): number {
    return this.deadlines.size;
  }
}
