// What the write-behind is built from. Plain data, so that the one object the server makes from its
// config crosses into the worker thread as it is: the worker builds the sinks and the dead-letter
// store from it, and the pipeline reads the journal part and the tuning.
import type { MarketInfo } from '../../protocol/messages.js';
import type { EngineLimits } from '../engine/types.js';

export interface WriteBehindSetup {
  readonly journalDir: string;
  readonly snapshotDir: string;
  readonly markets: readonly MarketInfo[];
  readonly limits: EngineLimits;
  /** The last journal seq on disk at start (everything recovered is durable). */
  readonly durableSeq: number;
  /** Whether matching is saturated as the pipeline starts (a restarted worker learns it here). */
  readonly matchingBusy?: boolean;
  /** A Redis sink writes here, its keys under `redisPrefix`; null: no Redis sink. */
  readonly redisUrl: string | null;
  readonly redisPrefix: string;
  /** A Postgres sink writes here; null: no Postgres sink. */
  readonly databaseUrl: string | null;
  /** Dead letters are kept under it. */
  readonly dataDir: string;
  /** The worker thread's log level. */
  readonly logLevel: string;
  /** The worker thread's nice value (ServerConfig.writeBehindNice); 0 leaves it as the process's. */
  readonly nice?: number;
  readonly tuning?: Partial<WriteBehindTuning>;
}

export interface WriteBehindTuning {
  /** A batch closes once it holds this many commands (records are never split). */
  readonly maxBatchCommands: number;
  /** Book levels per side in each batch's depth snapshot. */
  readonly bookDepth: number;
  /** Commands the shared feed holds ahead of the slowest sink reading it (the open batch included). */
  readonly windowCommands: number;
  /** Batches the shared feed holds ahead of the slowest sink reading it. */
  readonly windowBatches: number;
  /**
   * How long a full window may wait for its slowest reader before that reader is cut loose when
   * its sink is not failing, only slow (a failing one is cut loose at once).
   */
  readonly stallMs: number;
  /** Longest a single sink call may take before it counts as hung (ServerConfig.sinkDeadlineMs). */
  readonly deadlineMs: number;
  readonly breakerFailures: number;
  readonly breakerOpenMs: number;
  readonly retryBaseMs: number;
  readonly retryMaxMs: number;
  /**
   * A call past its deadline may still be pending in the client (a SIGSTOPped server answers it
   * later). Until it settles, or for this long, no new call is sent: a hung sink then holds one
   * request with one batch, not one per retry.
   */
  readonly abandonHungCallMs: number;
  /**
   * Share of time the sinks may work while matching is saturated (matching-pressure.ts,
   * ServerConfig.writeBehindBusyDuty); 1: they never rest.
   */
  readonly busyDutyCycle: number;
}

export const DEFAULT_TUNING: WriteBehindTuning = {
  maxBatchCommands: 5_000,
  bookDepth: 50,
  windowCommands: 20_000,
  windowBatches: 64,
  stallMs: 5_000,
  deadlineMs: 5_000,
  breakerFailures: 3,
  breakerOpenMs: 2_000,
  retryBaseMs: 50,
  retryMaxMs: 2_000,
  abandonHungCallMs: 60_000,
  busyDutyCycle: 1,
};
