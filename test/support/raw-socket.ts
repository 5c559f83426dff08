// A bare WebSocket for tests that must send what the typed client never would: raw bytes, text,
// hostile frames. Collects every decoded server message (array frames flattened) in order.
import WebSocket from 'ws';
import { createCodec } from '../../protocol/codec.js';

const codec = createCodec();

export class RawSocket {
  readonly messages: Record<string, unknown>[] = [];
  frames = 0;
  closeCode: number | null = null;
  closeReason = '';
  private waiters: (() => void)[] = [];

  private constructor(private readonly ws: WebSocket) {
    ws.on('message', (data: Buffer) => {
      this.frames++;
      const decoded = codec.decode(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
      for (const message of Array.isArray(decoded) ? decoded : [decoded]) this.messages.push(message as Record<string, unknown>);
      this.wake();
    });
    ws.on('close', (code: number, reason: Buffer) => {
      this.closeCode = code;
      this.closeReason = reason.toString();
      this.wake();
    });
    ws.on('error', () => this.wake());
  }

  static open(url: string): Promise<RawSocket> {
    const ws = new WebSocket(url);
    return new Promise((resolve, reject) => {
      ws.once('open', () => resolve(new RawSocket(ws)));
      ws.once('error', reject);
    });
  }

  send(value: unknown): void {
    this.ws.send(codec.encode(value));
  }

  sendBytes(bytes: Uint8Array | string): void {
    this.ws.send(bytes, { binary: typeof bytes !== 'string' });
  }

  get isOpen(): boolean {
    return this.ws.readyState === WebSocket.OPEN;
  }

  /** Waits until `predicate` holds over the messages received so far. */
  async waitFor(predicate: (messages: readonly Record<string, unknown>[]) => boolean, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate(this.messages)) {
      if (this.closeCode !== null) throw new Error(`socket closed (${this.closeCode}) while waiting`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out; last messages: ${JSON.stringify(this.messages.slice(-3))}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Sends a request with `rid` and resolves with the reply that echoes it. */
  async request(value: Record<string, unknown>, rid: number | string): Promise<Record<string, unknown>> {
    this.send({ ...value, rid });
    await this.waitFor((messages) => messages.some((m) => m.rid === rid));
    return this.messages.find((m) => m.rid === rid)!;
  }

  close(): Promise<void> {
    if (this.closeCode !== null) return Promise.resolve();
    return new Promise((resolve) => {
      this.ws.once('close', () => resolve());
      this.ws.close();
    });
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }
}
