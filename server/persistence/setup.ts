// How the write-behind is tuned: batch size, the shared feed's window, the sink calls' deadline,
// breaker and retries, and how much it yields to matching. Every part reads the same object.

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
