// A progress line for long replays: redrawn in place on a TTY (at most every 100 ms), silent
// otherwise; the summary line is printed either way.
export class Progress {
  private lastDraw = 0;
  private readonly tty: boolean;

  constructor(
    private readonly label: string,
    private readonly total: number,
    private readonly stream: NodeJS.WriteStream = process.stderr,
  ) {
    this.tty = stream.isTTY === true;
  }

  update(done: number): void {
    if (!this.tty) return;
    const now = performance.now();
    if (now - this.lastDraw < 100 && done < this.total) return;
    this.lastDraw = now;
    const fraction = this.total > 0 ? Math.min(1, done / this.total) : 1;
    const width = 30;
    const filled = Math.round(fraction * width);
    const bar = '#'.repeat(filled) + '-'.repeat(width - filled);
    this.stream.write(`\r${this.label} [${bar}] ${(fraction * 100).toFixed(1)}% ${done}/${this.total}`);
  }

  finish(): void {
    if (this.tty) this.stream.write('\n');
  }
}
