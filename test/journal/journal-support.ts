// Helpers shared by the journal tests: temp dirs, random accepted commands from a real engine,
// file systems that count or fail (the writer's JournalFileSystem seam), and an in-process server
// started on a data dir the test owns, so it can be restarted on the same files.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import type { MarketInfo } from '../../protocol/messages.js';
import { loadConfig, type ServerConfig } from '../../server/config.js';
import type { MatchingEngine } from '../../server/engine/engine.js';
import type { EngineCommand } from '../../server/engine/types.js';
import type { JournalEntry } from '../../server/journal/command-codec.js';
import { nodeFileSystem, type JournalFile, type JournalFileSystem } from '../../server/journal/journal-writer.js';
import { startServer, type RunningServer, type ServerHooks } from '../../server/server.js';
import { fundingCommands } from '../support/engine-fixtures.js';
import { pick, randomInt } from '../../bench/lib/prng.js';
import { TEST_KEYS } from '../support/test-server.js';

export const JOURNAL_MARKETS: readonly MarketInfo[] = [
  { sym: 'BTC-USD', base: 'BTC', quote: 'USD', pxDecimals: 2, qtyDecimals: 6, makerFee: 0, takerFee: 0 },
  { sym: 'ETH-USD', base: 'ETH', quote: 'USD', pxDecimals: 2, qtyDecimals: 4, makerFee: 0, takerFee: 0 },
];
const ACCOUNTS = ['alice', 'bob', 'carol'] as const;

export const silentLog = {
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};

export function makeTempDir(): { path: string; remove: () => void } {
  const path = mkdtempSync(join(tmpdir(), 'spotwire-journal-'));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

/**
 * A command the engine is likely to accept: places around a mid price (so books cross and
 * trade), cancels and amends of orders that are open, now and then a cancel_all.
 */
export function randomCommand(random: () => number, engine: MatchingEngine, ts: number): EngineCommand {
  const account = pick(random, ACCOUNTS);
  const sym = pick(random, JOURNAL_MARKETS).sym;
  const open = engine.openOrders(account, sym);
  const roll = random();
  if (open.length > 0 && roll < 0.2) return { op: 'cancel', ts, account, sym, ref: { id: pick(random, open).id } };
  if (open.length > 0 && roll < 0.35) {
    const order = pick(random, open);
    const px = random() < 0.5 ? null : randomInt(random, 95, 105);
    return { op: 'amend', ts, account, sym, ref: { id: order.id }, qty: px === null ? randomInt(random, 1, 20) : null, px };
  }
  if (roll < 0.37) return { op: 'cancel_all', ts, account, sym: random() < 0.5 ? sym : null, reason: 'user' };
  const side = random() < 0.5 ? 'buy' : 'sell';
  const market = random() < 0.05;
  return {
    op: 'place',
    ts,
    account,
    sym,
    side,
    kind: market ? 'market' : 'limit',
    px: market ? null : randomInt(random, 95, 105),
    qty: randomInt(random, 1, 20),
    tif: market ? 'ioc' : pick(random, ['gtc', 'gtc', 'gtc', 'ioc'] as const),
    post: false,
    stp: pick(random, ['none', 'cancel_taker', 'cancel_maker', 'cancel_both'] as const),
    cid: random() < 0.3 ? `c${randomInt(random, 1, 1_000_000)}` : null,
  };
}

/** Runs random commands on `engine` and returns the accepted ones as journal entries (what the gateway journals). */
/** Funds the random accounts on `engine`: the entries to journal first, as a server funds its keys. */
export function fundingBatch(engine: MatchingEngine): JournalEntry[] {
  return fundingCommands(ACCOUNTS).map((command) => {
    const result = engine.execute(command);
    if (!result.ok) throw new Error(`funding rejected: ${result.msg}`);
    return { command, id: null };
  });
}

export function acceptedBatch(random: () => number, engine: MatchingEngine, size: number, ts: number): JournalEntry[] {
  const entries: JournalEntry[] = [];
  while (entries.length < size) {
    const command = randomCommand(random, engine, ts);
    const result = engine.execute(command);
    if (result.ok) entries.push({ command, id: command.op === 'place' ? (result.id ?? null) : null });
  }
  return entries;
}

/** Counts the writer's syscalls; `hold` makes datasync wait until `release` (a slow disk). */
export class CountingFileSystem implements JournalFileSystem {
  writes = 0;
  datasyncs = 0;
  opened: string[] = [];
  private held: Array<() => void> | null = null;

  hold(): void {
    this.held ??= [];
  }

  release(): void {
    const waiting = this.held ?? [];
    this.held = null;
    for (const resume of waiting) resume();
  }

  async openAppend(path: string): Promise<JournalFile> {
    this.opened.push(path);
    const file = await nodeFileSystem.openAppend(path);
    return {
      write: (buffer) => {
        this.writes++;
        return file.write(buffer);
      },
      datasync: async () => {
        this.datasyncs++;
        if (this.held) await new Promise<void>((resume) => this.held!.push(resume));
        return file.datasync();
      },
      truncate: (size) => file.truncate(size),
      close: () => file.close(),
    };
  }

  syncDirectory(path: string): Promise<void> {
    return nodeFileSystem.syncDirectory(path);
  }
}

/**
 * Fails like a disk that filled up or turned read-only, once `arm()` is called: `write` writes
 * half of the buffer and then throws ENOSPC; `datasync` lets the write through but throws EIO.
 */
export class FailingFileSystem implements JournalFileSystem {
  private armed = false;
  failures = 0;

  constructor(private readonly mode: 'write' | 'datasync') {}

  arm(): void {
    this.armed = true;
  }

  async openAppend(path: string): Promise<JournalFile> {
    const file = await nodeFileSystem.openAppend(path);
    return {
      write: async (buffer) => {
        if (this.armed && this.mode === 'write') {
          this.failures++;
          await file.write(buffer.subarray(0, Math.floor(buffer.length / 2)));
          throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
        }
        await file.write(buffer);
      },
      datasync: async () => {
        if (this.armed && this.mode === 'datasync') {
          this.failures++;
          throw Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' });
        }
        await file.datasync();
      },
      truncate: (size) => file.truncate(size),
      close: () => file.close(),
    };
  }

  syncDirectory(path: string): Promise<void> {
    return nodeFileSystem.syncDirectory(path);
  }
}

export interface InProcessServer {
  readonly server: RunningServer;
  readonly url: string;
  readonly httpUrl: string;
}

/** A real server on 127.0.0.1:0 over `dataDir` (kept across restarts; the caller removes it). */
export async function startOnDataDir(
  root: string,
  overrides: Partial<ServerConfig> = {},
  hooks: ServerHooks = {},
): Promise<InProcessServer> {
  const keysFile = join(root, 'keys.json');
  writeFileSync(keysFile, JSON.stringify(TEST_KEYS));
  const base = loadConfig(['--port', '0', '--keys', keysFile, '--data-dir', join(root, 'data')], {});
  const config: ServerConfig = { ...base, host: '127.0.0.1', markets: JOURNAL_MARKETS, ...overrides };
  const server = await startServer(config, pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }), hooks);
  return { server, url: `ws://127.0.0.1:${server.port}/ws`, httpUrl: `http://127.0.0.1:${server.port}` };
}
