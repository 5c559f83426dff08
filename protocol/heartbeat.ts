// A reconnecting client's check that the server is still there. A connection that dies without
// a FIN or RST (a NAT forgetting it, a cable pulled, a peer frozen) stays "open" for as long as
// TCP keeps quiet, so the client pings when the server has been silent for one period and treats
// a second silent period as a drop: the reconnect loop takes over at once.
export class Heartbeat {
  #timer: ReturnType<typeof setInterval> | undefined;
  #lastFrameAt = 0;
  #pinged = false;

  constructor(
    private readonly periodMs: number,
    private readonly hooks: { ping(): void; dead(silentMs: number): void },
  ) {}

  /** A socket was attached: watch it. */
  start(): void {
    this.stop();
    this.#lastFrameAt = Date.now();
    this.#pinged = false;
    // Checked at a fraction of the period, so a silence is seen within 1¼ periods of starting.
    this.#timer = setInterval(() => this.#check(), Math.max(10, Math.floor(this.periodMs / 4)));
    (this.#timer as { unref?: () => void }).unref?.();
  }

  /** Any frame from the server counts as a sign of life. */
  frame(): void {
    this.#lastFrameAt = Date.now();
    this.#pinged = false;
  }

  stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  #check(): void {
    const silentMs = Date.now() - this.#lastFrameAt;
    if (silentMs >= 2 * this.periodMs) {
      this.stop();
      this.hooks.dead(silentMs);
    } else if (silentMs >= this.periodMs && !this.#pinged) {
      this.#pinged = true;
      this.hooks.ping();
    }
  }
}
