// docs/PROTOCOL.md is the only protocol reference a clone has, so it must not drift from the code:
// every op, reject code, cancel reason and limit it lists is checked against protocol/ and the
// server's defaults, and its checksum example against the checksum code.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { bookChecksum, checksumText } from '../../protocol/checksum.js';
import {
  CANCEL_REASONS,
  CANDLE_INTERVALS,
  DEFAULT_BOOK_DEPTH,
  DEFAULT_CANDLES_LIMIT,
  MAX_CANDLES,
  MAX_RECENT_TRADES,
  TICKER_INTERVAL_MS,
  MAX_ACCOUNT_LENGTH,
  MAX_ASSET_LENGTH,
  MAX_BOOK_DEPTH,
  MAX_CID_LENGTH,
  MAX_MESSAGES_PER_FRAME,
  MAX_REF_LENGTH,
  MAX_RID_STRING_LENGTH,
  MAX_SYM_LENGTH,
  MAX_TOKEN_LENGTH,
  OPS,
  REJECT_CODES,
} from '../../protocol/constants.js';
import type { Level } from '../../protocol/messages.js';
import { DEFAULTS } from '../../server/config.js';

const doc = readFileSync(fileURLToPath(new URL('../../docs/PROTOCOL.md', import.meta.url)), 'utf8');

/** The markdown between a `## title` heading and the next `## ` heading. */
function section(title: string): string {
  const start = doc.indexOf(`\n## ${title}\n`);
  expect(start, `section "${title}"`).toBeGreaterThan(-1);
  const end = doc.indexOf('\n## ', start + 1);
  return doc.slice(start, end === -1 ? undefined : end);
}

const thousands = (n: number): string => n.toLocaleString('en-US');

describe('docs/PROTOCOL.md', () => {
  it('has a row in the requests table for every op', () => {
    const requests = section('Requests');
    for (const op of OPS) expect(requests, op).toContain(`| \`${op}\` |`);
  });

  it('has a row in the reject code table for every code', () => {
    const codes = section('Reject codes');
    for (const code of Object.keys(REJECT_CODES)) expect(codes, code).toContain(`| \`${code}\` |`);
  });

  it('names every cancel reason', () => {
    const messages = section('Server messages');
    for (const reason of CANCEL_REASONS) expect(messages, reason).toContain(`\`${reason}\` (`);
  });

  it('states the limits the code enforces', () => {
    const limits = section('Limits');
    const rows: [string, string][] = [
      ['token', `| \`token\` | 1–${MAX_TOKEN_LENGTH} chars |`],
      ['sym', `| \`sym\` | 1–${MAX_SYM_LENGTH} chars |`],
      ['cid', `| \`cid\` | 1–${MAX_CID_LENGTH} chars |`],
      ['account', `| \`account\` | 1–${MAX_ACCOUNT_LENGTH} chars |`],
      ['asset', `| \`asset\` | 1–${MAX_ASSET_LENGTH} chars |`],
      ['ref', `| \`ref\` | 1–${MAX_REF_LENGTH} chars |`],
      ['rid', `| string \`rid\` | ≤ ${MAX_RID_STRING_LENGTH} chars`],
      ['depth', `| book \`depth\` | 1–${MAX_BOOK_DEPTH}, default ${DEFAULT_BOOK_DEPTH} |`],
      ['candles limit', `| candles \`limit\` **[Spotwire]** | 1–${MAX_CANDLES}, default ${DEFAULT_CANDLES_LIMIT} |`],
      ['candles kept', `| candles kept per market and interval **[Spotwire]** | ${MAX_CANDLES} (kept in snapshots) |`],
      ['recent', `| trades \`recent\` **[Spotwire]** | 1–${MAX_RECENT_TRADES} (${MAX_RECENT_TRADES} trades kept per market) |`],
      ['ticker', `| ticker messages **[Spotwire]** | at most 1 per market per ${TICKER_INTERVAL_MS} ms |`],
      ['array frame', `| messages in one array frame | 1–${MAX_MESSAGES_PER_FRAME} |`],
      ['payload', `| WebSocket payload (one frame) | ${DEFAULTS.maxPayloadBytes / 1024} KiB |`],
      ['rate', `| requests per connection | ${thousands(DEFAULTS.rateLimitPerSecond)}/s,`],
      ['open orders', `| open orders per account | ${thousands(DEFAULTS.maxOpenOrdersPerAccount)} (all markets) |`],
      ['backpressure', `| unsent data per socket | ${DEFAULTS.maxBackpressureBytes / (1024 * 1024)} MiB;`],
    ];
    for (const [name, row] of rows) expect(limits, name).toContain(row);
  });

  it('names every candle interval', () => {
    const sub = doc.slice(doc.indexOf('\n### `sub`\n'), doc.indexOf('\n### `unsub`\n'));
    expect(sub).toContain(
      CANDLE_INTERVALS.map((interval) => `\`"${interval}"\``)
        .join(', ')
        .replace(/, ([^,]*)$/, ' or $1'),
    );
    expect(sub).toContain(`interval must be one of ${CANDLE_INTERVALS.join(', ')}`);
  });

  it("gives the checksum example's real CRC", () => {
    const asks: Level[] = [
      [5000100, 5000],
      [5000200, 1000],
    ];
    const bids: Level[] = [
      [4999900, 3000],
      [4999800, 7000],
    ];
    const text = checksumText(asks, bids);
    expect(doc).toContain(`string:  "${text}"`);
    expect(doc).toContain(`cs:      ${bookChecksum(asks, bids)} `);
  });
});
