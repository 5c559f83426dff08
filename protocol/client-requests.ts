// The wire maps of the client's typed calls whose shape depends on their arguments: a field the
// caller left out is left off the wire, not sent as undefined or null.
import type { LoginOptions, OrderRefInput, RawRequest } from './client-api.js';
import type { OrderRef } from './messages.js';

export function toOrderRef(ref: OrderRefInput): OrderRef {
  if (typeof ref === 'number') return { id: ref };
  if (typeof ref === 'string') return { cid: ref };
  return ref;
}

export function loginRequest(token: string, options: LoginOptions): RawRequest {
  const message: Record<string, unknown> = { op: 'login', token };
  if (options.cancelOnDisconnect !== undefined) message.cancelOnDisconnect = options.cancelOnDisconnect;
  if (options.resume !== undefined) {
    message.resumeFrom = options.resume.pseq;
    message.epoch = options.resume.epoch;
  }
  return message as RawRequest;
}
