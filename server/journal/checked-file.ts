// The layout shared by snapshots and dead letters: an 8-byte magic naming the kind of file, the
// CRC-32C of the body, then the body. A file that is cut short or altered fails to open.
import { crc32c } from '@node-rs/crc32';

export interface CheckedFileKind {
  /** 8 latin1 characters, e.g. 'SWSNAP01'. */
  readonly magic: Buffer;
  /** How errors name the file, e.g. 'snapshot'. */
  readonly what: string;
}

export function checkedFileKind(magic: string, what: string): CheckedFileKind {
  return { magic: Buffer.from(magic, 'latin1'), what };
}

export function sealFile(kind: CheckedFileKind, body: Uint8Array): Buffer {
  const headerBytes = kind.magic.length + 4;
  const file = Buffer.allocUnsafe(headerBytes + body.length);
  kind.magic.copy(file, 0);
  file.writeUInt32LE(crc32c(body), kind.magic.length);
  file.set(body, headerBytes);
  return file;
}

/** The body of a sealed file; throws when the magic or the CRC does not match. */
export function openFile(kind: CheckedFileKind, file: Buffer): Buffer {
  const headerBytes = kind.magic.length + 4;
  if (file.length < headerBytes || !file.subarray(0, kind.magic.length).equals(kind.magic)) throw new Error(`not a ${kind.what} file`);
  const body = file.subarray(headerBytes);
  if (crc32c(body) !== file.readUInt32LE(kind.magic.length)) throw new Error(`${kind.what} CRC-32C mismatch`);
  return body;
}
