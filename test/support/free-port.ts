// A port of 127.0.0.1 that nothing listens on now, for tests that must bind a port by number.
// Linux treats a listener bound to port 0 differently from one bound by number: here its port was
// not shared under SO_REUSEPORT, and the TIME_WAIT of its closed connections kept a later bind of
// that port failing; so port 0 would not show what a user with a configured port sees.
import { createServer } from 'node:net';

export async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as { port: number };
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

/** Whether a plain Node server can listen on `port` of 127.0.0.1 now. */
export async function canListenOn(port: number): Promise<boolean> {
  const probe = createServer();
  const bound = await new Promise<boolean>((resolve) => {
    probe.once('error', () => resolve(false));
    probe.listen(port, '127.0.0.1', () => resolve(true));
  });
  if (bound) await new Promise<void>((resolve) => probe.close(() => resolve()));
  return bound;
}
