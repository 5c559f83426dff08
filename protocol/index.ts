// The public surface of @spotwire/client (packages/client builds it from here): what a bot or a
// browser page imports. The validator and the msgpack writer's internals stay out; nothing here
// may import a Node-only module, since the same files are bundled for browsers.
export * from './client.js';
export { LocalBook, type ApplyResult } from './local-book.js';
export { bookChecksum, checksumText, crc32 } from './checksum.js';
export { formatUnits, toUnits } from './units.js';
export {
  CANCEL_REASONS,
  CANDLE_INTERVALS,
  CHANNELS,
  CHECKSUM_LEVELS,
  DEFAULT_BOOK_DEPTH,
  EXEC_STATUSES,
  FEE_RATE_SCALE,
  LIQUIDITY,
  MAX_BOOK_DEPTH,
  MAX_CID_LENGTH,
  MAX_MESSAGES_PER_FRAME,
  MAX_CANDLES,
  MAX_RECENT_TRADES,
  ORDER_KINDS,
  REJECT_CODES,
  SIDES,
  STP_MODES,
  TIFS,
  type CancelReason,
  type CandleInterval,
  type Channel,
  type ExecStatus,
  type Liquidity,
  type OrderKind,
  type RejectCode,
  type Side,
  type StpMode,
  type Tif,
} from './constants.js';
export type * from './messages.js';
