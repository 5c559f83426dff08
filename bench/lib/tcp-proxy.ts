// A TCP proxy for network-fault tests: forwards every connection to a target port and can cut
// all of them at once (both sockets destroyed, as a dropped NAT entry or a dead link would), or
// hold traffic so that requests or replies are in flight when the cut comes. When the target
// goes away its connections are cut and new ones are refused (accepted, then closed), so a
// client sees what it would see of the server itself; `targetPort` may point at a restarted one.
import { createServer, connect as tcpConnect, type Server, type Socket } from 'node:net';

export class TcpProxy {
  readonly #pairs = new Set<{ client: Socket; upstream: Socket }>();
  /**
   * While set, bytes in that direction are swallowed, never delivered: a frame cut in two would
   * garble the stream, so a hold lasts until the next dropAll(), which lifts it.
   */
  holdRequests = false;
  holdReplies = false;
  /** Connections accepted so far. */
  accepted = 0;

  private constructor(
    private readonly server: Server,
    readonly port: number,
    public targetPort: number,
  ) {}

  static async start(targetPort: number): Promise<TcpProxy> {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const proxy = new TcpProxy(server, (server.address() as { port: number }).port, targetPort);
    server.on('connection', (client) => proxy.#forward(client, proxy.targetPort));
    return proxy;
  }

  get url(): string {
    return `ws://127.0.0.1:${this.port}/ws`;
  }

  get connections(): number {
    return this.#pairs.size;
  }

  /** Destroys both sockets of every forwarded connection. */
  dropAll(): number {
    const n = this.#pairs.size;
    for (const pair of this.#pairs) {
      pair.client.destroy();
      pair.upstream.destroy();
    }
    this.#pairs.clear();
    this.holdRequests = false;
    this.holdReplies = false;
    return n;
  }

  async close(): Promise<void> {
    this.dropAll();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  #forward(client: Socket, targetPort: number): void {
    this.accepted++;
    const upstream = tcpConnect(targetPort, '127.0.0.1');
    const pair = { client, upstream };
    this.#pairs.add(pair);
    client.setNoDelay(true);
    upstream.setNoDelay(true);
    client.on('data', (chunk) => {
      if (!this.holdRequests) upstream.write(chunk);
    });
    upstream.on('data', (chunk) => {
      if (!this.holdReplies) client.write(chunk);
    });
    const end = (): void => {
      this.#pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('close', end);
    upstream.on('close', end);
    client.on('error', end);
    upstream.on('error', end);
  }
}
