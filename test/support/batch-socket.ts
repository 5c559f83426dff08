// A raw-TCP WebSocket (bench/lib/raw-ws-client.ts) for tests that must put several frames in one
// TCP write, as a hostile client would; the `ws` package writes each frame on its own. Collects
// decoded server messages (array frames flattened) and the close.
import { RawWsClient } from '../../bench/lib/raw-ws-client.js';
import { createCodec } from '../../protocol/codec.js';

const codec = createCodec();

export class BatchSocket {
  readonly messages: Record<string, unknown>[] = [];
  closed = false;

  private constructor(private client: RawWsClient | null) {}

  static async open(port: number): Promise<BatchSocket> {
    const socket = new BatchSocket(null);
    socket.client = await RawWsClient.open('127.0.0.1', port, '/ws', {
      onPayload: (payload) => {
        const decoded = codec.decode(payload);
        for (const message of Array.isArray(decoded) ? decoded : [decoded]) socket.messages.push(message as Record<string, unknown>);
      },
      onClose: () => {
        socket.closed = true;
      },
    });
    return socket;
  }

  /** Each value becomes one frame; all of them leave in one TCP write. */
  sendFrames(...values: unknown[]): void {
    for (const value of values) this.client!.send(codec.encode(value));
  }

  count(predicate: (message: Record<string, unknown>) => boolean): number {
    let n = 0;
    for (const message of this.messages) if (predicate(message)) n++;
    return n;
  }

  async waitFor(predicate: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }

  destroy(): void {
    this.client!.destroy();
  }
}
