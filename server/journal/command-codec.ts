// Engine commands as compact tuples for the journal body (about a third of a map's size).
// Enum fields are stored as their index in the protocol's tables, so the tables' order is part
// of the journal format: append to them, never reorder.
//
// A place or amend that uses a field added after the first format (a stop's trigger, an iceberg's
// display) is written under its own op, with the fields trailing (up to the last one used, null
// when absent): a server that
// predates them refuses the record ("unknown command op") rather than replay it without them.
// Commands without them keep the original ops and bytes, and old records read as they always did.
import { Packr, Unpackr } from 'msgpackr';
import { ORDER_KINDS, SIDES, STP_MODES, TIFS } from '../../protocol/constants.js';
import type { AmendCommand, EngineCommand, PlaceCommand } from '../engine/types.js';

/** A journaled command with the order id the engine assigned to it (place only), for replay checks. */
export interface JournalEntry {
  readonly command: EngineCommand;
  readonly id: number | null;
}

const OP_PLACE = 0;
const OP_CANCEL = 1;
const OP_CANCEL_ALL = 2;
const OP_AMEND = 3;
const OP_DEPOSIT = 4;
const OP_WITHDRAW = 5;
/** place + [trigger, display]. */
const OP_PLACE_EXTENDED = 6;
/** amend + [trigger]. */
const OP_AMEND_EXTENDED = 7;
const CANCEL_ALL_REASONS = ['user', 'disconnect', 'timeout'] as const;

type Tuple = readonly unknown[];

function index<T>(table: readonly T[], value: T): number {
  return table.indexOf(value);
}

function at<T>(table: readonly T[], position: unknown): T {
  const value = table[position as number];
  if (value === undefined) throw new Error(`journal: bad enum index ${String(position)}`);
  return value;
}

export function commandToTuple(command: EngineCommand): Tuple {
  switch (command.op) {
    case 'place': {
      const extended = command.trigger !== undefined || command.display !== undefined;
      const tuple = [
        extended ? OP_PLACE_EXTENDED : OP_PLACE,
        command.ts,
        command.account,
        command.sym,
        index(SIDES, command.side),
        index(ORDER_KINDS, command.kind),
        command.px,
        command.qty,
        index(TIFS, command.tif),
        command.post,
        index(STP_MODES, command.stp),
        command.cid,
      ];
      if (command.display !== undefined) tuple.push(command.trigger ?? null, command.display);
      else if (extended) tuple.push(command.trigger ?? null);
      return tuple;
    }
    case 'cancel':
      return [
        OP_CANCEL,
        command.ts,
        command.account,
        command.sym,
        'id' in command.ref ? command.ref.id : null,
        'cid' in command.ref ? command.ref.cid : null,
      ];
    case 'cancel_all':
      return [OP_CANCEL_ALL, command.ts, command.account, command.sym, index(CANCEL_ALL_REASONS, command.reason)];
    case 'amend': {
      const extended = command.trigger !== undefined;
      const tuple = [
        extended ? OP_AMEND_EXTENDED : OP_AMEND,
        command.ts,
        command.account,
        command.sym,
        'id' in command.ref ? command.ref.id : null,
        'cid' in command.ref ? command.ref.cid : null,
        command.qty,
        command.px,
      ];
      if (extended) tuple.push(command.trigger ?? null);
      return tuple;
    }
    case 'deposit':
    case 'withdraw':
      // Position 3 (a market elsewhere) is the asset, so every tuple starts op, ts, account, name.
      return [command.op === 'deposit' ? OP_DEPOSIT : OP_WITHDRAW, command.ts, command.account, command.asset, command.amount, command.ref];
  }
}

function ref(id: unknown, cid: unknown): { id: number } | { cid: string } {
  return id !== null ? { id: id as number } : { cid: cid as string };
}

/**
 * The command in `tuple` from position `from` on (the journal body prefixes each tuple with the
 * assigned id, and reading in place spares a copy of every tuple during recovery). Indexed reads,
 * not destructuring: this runs once per replayed command.
 */
export function tupleToCommand(tuple: Tuple, from = 0): EngineCommand {
  const op = tuple[from];
  const ts = tuple[from + 1] as number;
  const account = tuple[from + 2] as string;
  const sym = tuple[from + 3] as string;
  switch (op) {
    case OP_PLACE:
    case OP_PLACE_EXTENDED: {
      const place: PlaceCommand = {
        op: 'place',
        ts,
        account,
        sym,
        side: at(SIDES, tuple[from + 4]),
        kind: at(ORDER_KINDS, tuple[from + 5]),
        px: tuple[from + 6] as number | null,
        qty: tuple[from + 7] as number,
        tif: at(TIFS, tuple[from + 8]),
        post: tuple[from + 9] as boolean,
        stp: at(STP_MODES, tuple[from + 10]),
        cid: tuple[from + 11] as string | null,
      };
      if (op === OP_PLACE) return place;
      const trigger = tuple[from + 12] as number | null | undefined;
      const display = tuple[from + 13] as number | null | undefined;
      if (trigger != null) return display == null ? { ...place, trigger } : { ...place, trigger, display };
      return display == null ? place : { ...place, display };
    }
    case OP_CANCEL:
      return { op: 'cancel', ts, account, sym, ref: ref(tuple[from + 4], tuple[from + 5]) };
    case OP_CANCEL_ALL:
      return { op: 'cancel_all', ts, account, sym: tuple[from + 3] as string | null, reason: at(CANCEL_ALL_REASONS, tuple[from + 4]) };
    case OP_AMEND:
    case OP_AMEND_EXTENDED: {
      const amend: AmendCommand = {
        op: 'amend',
        ts,
        account,
        sym,
        ref: ref(tuple[from + 4], tuple[from + 5]),
        qty: tuple[from + 6] as number | null,
        px: tuple[from + 7] as number | null,
      };
      if (op === OP_AMEND) return amend;
      const trigger = tuple[from + 8] as number | null | undefined;
      return trigger == null ? amend : { ...amend, trigger };
    }
    case OP_DEPOSIT:
    case OP_WITHDRAW:
      return {
        op: op === OP_DEPOSIT ? 'deposit' : 'withdraw',
        ts,
        account,
        asset: sym,
        amount: tuple[from + 4] as number,
        ref: tuple[from + 5] as string,
      };
    default:
      throw new Error(`journal: unknown command op ${String(op)}`);
  }
}

function entryOf(tuple: unknown): JournalEntry {
  if (!Array.isArray(tuple) || tuple.length < 5) throw new Error('journal: bad command tuple');
  return { id: tuple[0] as number | null, command: tupleToCommand(tuple, 1) };
}

/**
 * A record body may end with the bus position its commands were read up to (a cluster's core,
 * docs/SCALING.md), stored as one more tuple that starts with this marker instead of an id, so a
 * core that restarts knows where its journal ends in the bus. A body without it is the plain format.
 */
const BUS_CURSOR_MARK = 'bus';

export interface DecodedBody {
  readonly entries: JournalEntry[];
  readonly busCursor: string | null;
}

export interface CommandCodec {
  encodeBatch(entries: readonly JournalEntry[], busCursor?: string | null): Uint8Array;
  decodeBatch(body: Uint8Array): JournalEntry[];
  decodeBody(body: Uint8Array): DecodedBody;
}

export function createCommandCodec(): CommandCodec {
  const packr = new Packr({ useRecords: false });
  const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true });
  return {
    // Each entry is [id, ...command tuple].
    encodeBatch: (entries, busCursor = null) => {
      const tuples: unknown[] = entries.map((entry) => [entry.id, ...commandToTuple(entry.command)]);
      if (busCursor !== null) tuples.push([BUS_CURSOR_MARK, busCursor]);
      return packr.pack(tuples);
    },
    decodeBatch: (body) => decodeBody(body).entries,
    decodeBody: (body) => decodeBody(body),
  };

  function decodeBody(body: Uint8Array): DecodedBody {
    const tuples = unpackr.unpack(body) as unknown;
    if (!Array.isArray(tuples)) throw new Error('journal: record body is not an array');
    let count = tuples.length;
    let busCursor: string | null = null;
    const last = tuples[count - 1] as unknown;
    if (Array.isArray(last) && last[0] === BUS_CURSOR_MARK) {
      if (typeof last[1] !== 'string') throw new Error('journal: bad bus position');
      busCursor = last[1];
      count--;
    }
    const entries: JournalEntry[] = [];
    for (let i = 0; i < count; i++) entries.push(entryOf(tuples[i]));
    return { entries, busCursor };
  }
}
