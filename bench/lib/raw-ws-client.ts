// A minimal WebSocket client over a raw TCP socket, for load generation. The `ws` package writes
// each message with its own syscall (its ceiling: LIMITS.md), so a load generator built on it
// measures `ws`. Here frames queued in one event-loop turn go out in
// one write, and incoming bytes are parsed into whole binary payloads without copying when a
// payload sits inside one TCP chunk.
import { randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';

const OPCODE_BINARY = 0x2;
const OPCODE_CLOSE = 0x8;
const OPCODE_PING = 0x9;
const OPCODE_PONG = 0xa;
/** Refuse to buffer a server frame larger than this: a load client has no use for one. */
const MAX_INCOMING_FRAME_BYTES = 64 * 1024 * 1024;

export interface RawWsHandlers {
  onPayload(payload: Uint8Array): void;
  onClose?(): void;
}

export class RawWsClient {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private flushScheduled = false;
  private inbox: Buffer = Buffer.alloc(0);
  private readonly mask = randomBytes(4);
  closed = false;
  bytesIn = 0;
  bytesOut = 0;

  private constructor(
    private readonly socket: Socket,
    private readonly handlers: RawWsHandlers,
  ) {}

  static open(host: string, port: number, path: string, handlers: RawWsHandlers): Promise<RawWsClient> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host, port, noDelay: true });
      const key = randomBytes(16).toString('base64');
      let head = Buffer.alloc(0);
      const onData = (chunk: Buffer): void => {
        head = Buffer.concat([head, chunk]);
        const end = head.indexOf('\r\n\r\n');
        if (end < 0) return;
        socket.off('data', onData);
        const status = head.subarray(0, head.indexOf('\r\n')).toString();
        if (!status.includes(' 101 ')) {
          socket.destroy();
          reject(new Error(`websocket upgrade refused: ${status}`));
          return;
        }
        const client = new RawWsClient(socket, handlers);
        socket.on('data', (data: Buffer) => client.receive(data));
        socket.on('close', () => {
          client.closed = true;
          handlers.onClose?.();
        });
        const rest = head.subarray(end + 4);
        if (rest.length > 0) client.receive(rest);
        resolve(client);
      };
      socket.on('data', onData);
      socket.once('error', reject);
      socket.once('connect', () => {
        socket.write(
          `GET ${path} HTTP/1.1\r\nHost: ${host}:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
            `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
        );
      });
    });
  }

  /** Queues one masked binary frame; everything queued in this turn is written at once. */
  send(payload: Uint8Array): void {
    const length = payload.length;
    const headerBytes = length < 126 ? 6 : length < 65_536 ? 8 : 14;
    const frame = Buffer.allocUnsafe(headerBytes + length);
    frame[0] = 0x80 | OPCODE_BINARY;
    if (length < 126) {
      frame[1] = 0x80 | length;
    } else if (length < 65_536) {
      frame[1] = 0x80 | 126;
      frame.writeUInt16BE(length, 2);
    } else {
      frame[1] = 0x80 | 127;
      frame.writeBigUInt64BE(BigInt(length), 2);
    }
    const mask = this.mask;
    mask.copy(frame, headerBytes - 4);
    for (let i = 0; i < length; i++) frame[headerBytes + i] = payload[i]! ^ mask[i & 3]!;
    this.pending.push(frame);
    this.pendingBytes += frame.length;
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      queueMicrotask(() => this.flush());
    }
  }

  close(): void {
    if (this.closed) return;
    this.flush();
    this.socket.end();
  }

  /** Stops reading: the server then sees a slow consumer. */
  pause(): void {
    this.socket.pause();
  }

  destroy(): void {
    this.socket.destroy();
  }

  private flush(): void {
    this.flushScheduled = false;
    if (this.pending.length === 0 || this.socket.destroyed) return;
    const bytes = this.pending.length === 1 ? this.pending[0]! : Buffer.concat(this.pending, this.pendingBytes);
    this.bytesOut += bytes.length;
    this.pending = [];
    this.pendingBytes = 0;
    this.socket.write(bytes);
  }

  private receive(chunk: Buffer): void {
    this.bytesIn += chunk.length;
    let buffer = this.inbox.length === 0 ? chunk : Buffer.concat([this.inbox, chunk]);
    let offset = 0;
    for (;;) {
      if (buffer.length - offset < 2) break;
      const opcode = buffer[offset]! & 0x0f;
      let length = buffer[offset + 1]! & 0x7f;
      let headerBytes = 2;
      if (length === 126) {
        if (buffer.length - offset < 4) break;
        length = buffer.readUInt16BE(offset + 2);
        headerBytes = 4;
      } else if (length === 127) {
        if (buffer.length - offset < 10) break;
        length = Number(buffer.readBigUInt64BE(offset + 2));
        headerBytes = 10;
      }
      if (length > MAX_INCOMING_FRAME_BYTES) {
        this.socket.destroy(new Error(`server frame of ${length} bytes`));
        return;
      }
      if (buffer.length - offset < headerBytes + length) break;
      const payload = buffer.subarray(offset + headerBytes, offset + headerBytes + length);
      offset += headerBytes + length;
      if (opcode === OPCODE_BINARY) this.handlers.onPayload(payload);
      else if (opcode === OPCODE_PING) this.sendControl(OPCODE_PONG, payload);
      else if (opcode === OPCODE_CLOSE) this.socket.end();
    }
    buffer = buffer.subarray(offset);
    // Keep only the unparsed tail; copy it so the chunk it came from can be collected.
    this.inbox = buffer.length === 0 ? Buffer.alloc(0) : Buffer.from(buffer);
  }

  private sendControl(opcode: number, payload: Uint8Array): void {
    const frame = Buffer.allocUnsafe(6 + payload.length);
    frame[0] = 0x80 | opcode;
    frame[1] = 0x80 | payload.length;
    this.mask.copy(frame, 2);
    for (let i = 0; i < payload.length; i++) frame[6 + i] = payload[i]! ^ this.mask[i & 3]!;
    this.pending.push(frame);
    this.pendingBytes += frame.length;
    this.flush();
  }
}
