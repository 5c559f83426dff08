// What a cluster's core and edge gateways say to each other over Redis Streams (docs/SCALING.md):
// the key layout and the MessagePack shape of each stream entry. Commands travel as the journal's
// command tuples (command-codec.ts), so the bus and the journal share one encoding.
//
//   <prefix>bus:commands   edge → core: one entry per edge turn, [edge, [[tag, command tuple], …], timeoutMs]
//   <prefix>bus:journal    core → edges: one entry per committed journal record (BusRecord)
//   <prefix>bus:snapshot   the core's state as of a published record (BusSnapshot), for edges that start
import { Packr, Unpackr } from 'msgpackr';
import type { RejectCode } from '../../protocol/constants.js';
import type { CommandResult, EngineCommand } from '../engine/types.js';
import { commandToTuple, tupleToCommand } from '../journal/command-codec.js';
import type { SnapshotContents } from '../journal/snapshot-store.js';

export interface BusKeys {
  readonly commands: string;
  readonly journal: string;
  readonly snapshot: string;
}

export function busKeys(prefix: string): BusKeys {
  return { commands: `${prefix}bus:commands`, journal: `${prefix}bus:journal`, snapshot: `${prefix}bus:snapshot` };
}

/** A command an edge forwards; `tag` is unique per edge and names the request waiting for it. */
export interface ForwardedCommand {
  readonly tag: number;
  readonly command: EngineCommand;
}

export interface ForwardedBatch {
  readonly edge: string;
  readonly commands: ForwardedCommand[];
  /**
   * How long the edge waits for the answer. The core does not run a command older than this (by
   * the entry id's Redis time): the edge has answered `unavailable` by then, and an order that
   * turns up minutes later is one nobody expects.
   */
  readonly timeoutMs: number;
}

/** Who a command of the record came from, when an edge sent it: journal index → edge and tag. */
export interface RecordOrigin {
  readonly index: number;
  readonly edge: string;
  readonly tag: number;
}

/** A forwarded command that the journal does not hold (a reject, a transfer ref seen before): its answer. */
export interface RecordAnswer {
  readonly edge: string;
  readonly tag: number;
  readonly command: EngineCommand;
  readonly result: AnswerResult;
}

export type AnswerResult =
  | { readonly ok: false; readonly code: RejectCode; readonly msg: string }
  | { readonly ok: true; readonly transfer: NonNullable<Extract<CommandResult, { ok: true }>['transfer']> };

/**
 * One committed journal record as the edges see it: its first seq and body (the journal's bytes;
 * absent when the core's batch journaled nothing), the origins of its commands and the answers to
 * forwarded commands it did not journal. `lastSeq` is the journal's last seq once it is applied.
 */
export interface BusRecord {
  readonly seq: number;
  readonly lastSeq: number;
  readonly body: Uint8Array | null;
  readonly origins: RecordOrigin[];
  readonly answers: RecordAnswer[];
}

export type BusSnapshot = Omit<SnapshotContents, 'chain'>;

const packr = new Packr({ useRecords: false });
const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true });

export function encodeForwarded(batch: ForwardedBatch): Buffer {
  return packr.pack([batch.edge, batch.commands.map((c) => [c.tag, commandToTuple(c.command)]), batch.timeoutMs]);
}

/** The forwarded commands, stamped with the core's time `ts` (position 1 of a command tuple). */
export function decodeForwarded(bytes: Buffer, ts: number): ForwardedBatch {
  const [edge, commands, timeoutMs] = unpackr.unpack(bytes) as [string, [number, unknown[]][], number];
  return {
    edge,
    commands: commands.map(([tag, tuple]) => {
      tuple[1] = ts;
      return { tag, command: tupleToCommand(tuple) };
    }),
    timeoutMs,
  };
}

/** Origins grouped by edge, each edge's as flat [index, tag, index, tag, …]: its id is written once. */
function groupOrigins(origins: readonly RecordOrigin[]): [string, number[]][] {
  const byEdge = new Map<string, number[]>();
  for (const { index, edge, tag } of origins) {
    const list = byEdge.get(edge);
    if (list) list.push(index, tag);
    else byEdge.set(edge, [index, tag]);
  }
  return [...byEdge];
}

export function encodeRecord(record: BusRecord): Buffer {
  return packr.pack([
    record.seq,
    record.lastSeq,
    record.body,
    groupOrigins(record.origins),
    record.answers.map((a) => [a.edge, a.tag, commandToTuple(a.command), a.result]),
  ]);
}

export function decodeRecord(bytes: Buffer): BusRecord {
  const [seq, lastSeq, body, grouped, answers] = unpackr.unpack(bytes) as [
    number,
    number,
    Uint8Array | null,
    [string, number[]][],
    [string, number, unknown[], AnswerResult][],
  ];
  const origins: RecordOrigin[] = [];
  for (const [edge, pairs] of grouped) {
    for (let i = 0; i + 1 < pairs.length; i += 2) origins.push({ index: pairs[i]!, edge, tag: pairs[i + 1]! });
  }
  return {
    seq,
    lastSeq,
    body,
    origins,
    answers: answers.map(([edge, tag, tuple, result]) => ({ edge, tag, command: tupleToCommand(tuple), result })),
  };
}

export function encodeSnapshot(snapshot: BusSnapshot): Buffer {
  return packr.pack(snapshot);
}

export function decodeSnapshot(bytes: Buffer): BusSnapshot {
  return unpackr.unpack(bytes) as BusSnapshot;
}
