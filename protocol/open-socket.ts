// Opening a WebSocket as the client needs it: binary frames as ArrayBuffers, and a promise that
// settles once, when it is open or has failed to open (within `timeoutMs`, when given).
import { ClientError, type ClientOptions, type WebSocketConstructor, type WebSocketLike } from './client-api.js';

export function openSocket(url: string, options: ClientOptions, timeoutMs?: number): Promise<WebSocketLike> {
  const Ctor = options.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
  if (Ctor === undefined) {
    return Promise.reject(new ClientError('connect_failed', 'no WebSocket implementation: pass options.WebSocket'));
  }
  return new Promise<WebSocketLike>((resolve, reject) => {
    let socket: WebSocketLike;
    try {
      socket = options.protocols === undefined ? new Ctor(url) : new Ctor(url, options.protocols);
    } catch (error) {
      reject(new ClientError('connect_failed', `cannot connect to ${url}: ${String(error)}`));
      return;
    }
    const timer =
      timeoutMs === undefined
        ? undefined
        : setTimeout(() => {
            socket.close();
            reject(new ClientError('connect_failed', `connection to ${url} not open in ${timeoutMs} ms`));
          }, timeoutMs);
    socket.binaryType = 'arraybuffer';
    socket.onopen = () => {
      clearTimeout(timer);
      socket.onopen = null;
      resolve(socket);
    };
    socket.onerror = () => {
      clearTimeout(timer);
      reject(new ClientError('connect_failed', `cannot connect to ${url}`));
    };
    socket.onclose = (event: { code?: number }) => {
      clearTimeout(timer);
      reject(new ClientError('connect_failed', `connection to ${url} closed before open (${event.code ?? 1006})`));
    };
  });
}
