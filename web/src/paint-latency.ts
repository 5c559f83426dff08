// Delta-to-paint latency: from a book message's arrival to the first paint that shows it. A render
// runs inside an animation frame; a message posted from there is delivered once that frame has
// been painted, which is when the samples of every message it rendered are taken.
export const MAX_SAMPLES = 100_000;

export class PaintLatency {
  readonly samples: number[] = [];
  /** How long each render that showed book messages took (script time, before the paint). */
  readonly renderMs: number[] = [];
  #waiting: number[] = [];
  readonly #channel = new MessageChannel();
  #painting: number[][] = [];

  constructor(private readonly now: () => number) {
    this.#channel.port1.onmessage = () => {
      const painted = this.now();
      const batch = this.#painting.shift() ?? [];
      for (const arrived of batch) if (this.samples.length < MAX_SAMPLES) this.samples.push(painted - arrived);
    };
  }

  arrived(at: number): void {
    if (this.#waiting.length < MAX_SAMPLES) this.#waiting.push(at);
  }

  /** Call at the end of a render inside an animation frame, with how long it took. */
  rendered(tookMs: number): void {
    if (this.#waiting.length === 0) return;
    if (this.renderMs.length < MAX_SAMPLES) this.renderMs.push(tookMs);
    this.#painting.push(this.#waiting);
    this.#waiting = [];
    this.#channel.port2.postMessage(null);
  }
}
