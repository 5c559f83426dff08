// postgres.js opens its TCP sockets without TCP_NODELAY. A COPY sends its data and its CopyDone
// in separate writes, and the small CopyDone then waits for the ACK of the data, which the server
// delays (~40 ms on Linux): measured, COPY doubled the sink's wall time that way. postgres.js takes
// a `socket` factory and, when given one, does not connect the socket itself: it writes its startup
// message at once (a connecting net.Socket queues writes until connected) and watches the socket's
// 'error' and 'close' as usual, so a refused connection takes its normal path, retries included,
// and its own `connect_timeout` timer still bounds the attempt.
import { connect, type Socket } from 'node:net';

/** The parsed postgres.js options the factory reads (host and port are parallel arrays). */
export interface PgSocketOptions {
  readonly host: readonly string[];
  readonly port: readonly number[];
  /** A unix socket path (a URL whose host is a directory), or false. */
  readonly path: string | false;
}

/**
 * A postgres.js `socket` option: each call connects to the next host of the URL in turn (as
 * postgres.js does), with Nagle off; unix sockets (no Nagle there) are connected as they are.
 */
export function noDelaySocketFactory(): (options: PgSocketOptions) => Socket {
  let next = 0;
  return (options) => {
    if (options.path) return connect({ path: options.path });
    const index = next % options.host.length;
    next = index + 1;
    const host = options.host[index];
    const port = options.port[index] ?? options.port[0];
    if (host === undefined || port === undefined) throw new Error('postgres: no host to connect to');
    return connect({ host, port, noDelay: true });
  };
}
