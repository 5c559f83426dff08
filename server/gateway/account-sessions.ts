// Who is logged in where: each account's connections (where its execs and balances go), the
// request budget they share, and `login` itself — the connection cap per account and the private
// stream's resume.
import type { Role } from '../../protocol/constants.js';
import type { LoginReply, LoginRequest, Reject, Rid } from '../../protocol/messages.js';
import { makeReject } from '../../protocol/validate.js';
import type { Batch } from './batch.js';
import type { Connection } from './connection.js';
import type { PrivateStreams } from './private-streams.js';
import { TokenBucket } from './token-bucket.js';

/** Who a token logs in as. */
export interface Identity {
  readonly account: string;
  readonly role: Role;
}

export interface SessionLimits {
  /** Connections one account may have logged in at once; 0: no cap. */
  readonly maxConnectionsPerAccount: number;
  /** Requests/s one account may send across its connections; 0: no account limit. */
  readonly accountRateLimitPerSecond: number;
}

export class AccountSessions {
  private readonly connectionsByAccount = new Map<string, Set<Connection>>();
  private readonly accountBuckets = new Map<string, TokenBucket>();

  constructor(
    private readonly tokens: ReadonlyMap<string, Identity>,
    private readonly limits: SessionLimits,
    private readonly streams: PrivateStreams,
  ) {}

  /** The account's logged-in connections (undefined: none). */
  connectionsOf(account: string): ReadonlySet<Connection> | undefined {
    return this.connectionsByAccount.get(account);
  }

  /** Logs the connection in and queues the reply (and the resumed messages); a reject when refused. */
  login(batch: Batch, connection: Connection, request: LoginRequest, rid: Rid | undefined): Reject | null {
    const identity = this.tokens.get(request.token);
    if (identity === undefined) return makeReject('login', 'unauthenticated', 'unknown token', rid);
    const { account } = identity;
    if (connection.account !== null && connection.account !== account) {
      return makeReject('login', 'bad_request', 'this connection is logged in to another account', rid);
    }
    const cap = this.limits.maxConnectionsPerAccount;
    const logged = this.connectionsByAccount.get(account);
    if (cap > 0 && connection.account === null && (logged?.size ?? 0) >= cap) {
      return makeReject(
        'login',
        'too_many_connections',
        `account ${account} already has ${cap} connections logged in (the most allowed)`,
        rid,
      );
    }
    connection.account = account;
    connection.role = identity.role;
    connection.cancelOnDisconnect = connection.cancelOnDisconnect || request.cancelOnDisconnect;
    let set = this.connectionsByAccount.get(account);
    if (!set) this.connectionsByAccount.set(account, (set = new Set()));
    set.add(connection);
    const accountRate = this.limits.accountRateLimitPerSecond;
    if (accountRate > 0 && connection.accountRequests === null) {
      let bucket = this.accountBuckets.get(account);
      if (!bucket) this.accountBuckets.set(account, (bucket = new TokenBucket(accountRate, batch.ts)));
      connection.accountRequests = bucket;
    }
    const streams = this.streams;
    const reply: LoginReply = { type: 'login', account, pseq: streams.last(account), epoch: streams.epoch };
    if (rid !== undefined) reply.rid = rid;
    if (request.resumeFrom === null) {
      batch.send(connection, reply);
      return null;
    }
    // What the account missed goes right after the reply, before anything newer in this batch.
    const resume = streams.resume(account, request.resumeFrom, request.epoch!);
    if ('gap' in resume) {
      reply.resumeGap = resume.gap;
      batch.send(connection, reply);
      return null;
    }
    reply.resumed = resume.messages.length;
    batch.send(connection, reply);
    for (const message of resume.messages) batch.send(connection, message);
    batch.work += resume.messages.length;
    return null;
  }

  /** A closed connection leaves its account's set (and the shared budget, with the last one). */
  logout(connection: Connection): void {
    const account = connection.account;
    if (account === null) return;
    const set = this.connectionsByAccount.get(account);
    set?.delete(connection);
    if (set?.size === 0) {
      this.connectionsByAccount.delete(account);
      this.accountBuckets.delete(account);
    }
  }
}
