// A MessagePack reader for exactly what the journal body holds: an array of flat tuples of
// nil/booleans/integers/float64/ASCII strings. Recovery decodes every journaled command, and a
// generic decoder builds an array per tuple that is thrown away at once; this one reads each
// tuple into one reused scratch array. It never guesses: on any other type (or trailing bytes)
// it returns null and the caller decodes the body with msgpackr, so results and errors for any
// body stay msgpackr's.

export type TupleVisitor = (tuple: readonly unknown[]) => void;

/** Calls `visit` with each tuple of `body` (scratch array: read it at once); false when not handled. */
export function readFlatTuples(body: Uint8Array, visit: TupleVisitor): boolean {
  const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
  const end = body.length;
  let pos = 0;
  const scratch: unknown[] = [];

  const arrayLength = (): number => {
    const byte = body[pos]!;
    if (byte >= 0x90 && byte <= 0x9f) {
      pos += 1;
      return byte & 0x0f;
    }
    if (byte === 0xdc && pos + 3 <= end) {
      pos += 3;
      return view.getUint16(pos - 2);
    }
    if (byte === 0xdd && pos + 5 <= end) {
      pos += 5;
      return view.getUint32(pos - 4);
    }
    return -1;
  };

  const ascii = (length: number): string | undefined => {
    if (pos + length > end) return undefined;
    let text = '';
    for (let i = pos; i < pos + length; i++) {
      const code = body[i]!;
      if (code >= 0x80) return undefined;
      text += String.fromCharCode(code);
    }
    pos += length;
    return text;
  };

  // `undefined` means "not handled here" (no MessagePack value decodes to undefined in this subset).
  const scalar = (): unknown => {
    const byte = body[pos]!;
    if (byte <= 0x7f) {
      pos += 1;
      return byte;
    }
    if (byte >= 0xe0) {
      pos += 1;
      return byte - 0x100;
    }
    if (byte >= 0xa0 && byte <= 0xbf) {
      pos += 1;
      return ascii(byte & 0x1f);
    }
    const need = (bytes: number): boolean => pos + 1 + bytes <= end;
    switch (byte) {
      case 0xc0:
        pos += 1;
        return null;
      case 0xc2:
        pos += 1;
        return false;
      case 0xc3:
        pos += 1;
        return true;
      case 0xcc:
        if (!need(1)) return undefined;
        pos += 2;
        return body[pos - 1];
      case 0xcd:
        if (!need(2)) return undefined;
        pos += 3;
        return view.getUint16(pos - 2);
      case 0xce:
        if (!need(4)) return undefined;
        pos += 5;
        return view.getUint32(pos - 4);
      case 0xd0:
        if (!need(1)) return undefined;
        pos += 2;
        return view.getInt8(pos - 1);
      case 0xd1:
        if (!need(2)) return undefined;
        pos += 3;
        return view.getInt16(pos - 2);
      case 0xd2:
        if (!need(4)) return undefined;
        pos += 5;
        return view.getInt32(pos - 4);
      case 0xcb:
        if (!need(8)) return undefined;
        pos += 9;
        return view.getFloat64(pos - 8);
      case 0xd9: {
        if (!need(1)) return undefined;
        const length = body[pos + 1]!;
        pos += 2;
        return ascii(length);
      }
      default:
        return undefined;
    }
  };

  if (end === 0) return false;
  const count = arrayLength();
  if (count < 0) return false;
  for (let t = 0; t < count; t++) {
    if (pos >= end) return false;
    const fields = arrayLength();
    if (fields < 0) return false;
    scratch.length = 0;
    for (let f = 0; f < fields; f++) {
      if (pos >= end) return false;
      const value = scalar();
      if (value === undefined) return false;
      scratch.push(value);
    }
    visit(scratch);
  }
  return pos === end;
}
