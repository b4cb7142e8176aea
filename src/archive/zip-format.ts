/**
 * The ZIP container records (APPNOTE 6.3): local file headers, central directory entries and the end
 * records, with zip64 fields only where a size, offset or count does not fit in the classic ones.
 * Every entry carries the same fixed DOS timestamp, so output depends on names, modes and contents only.
 */

/** 1980-01-01 00:00:00 in DOS date/time fields (the DOS epoch). */
const DOS_TIME = 0;
const DOS_DATE = (0 << 9) | (1 << 5) | 1;
/** Bit 11: names are UTF-8. */
const FLAG_UTF8 = 0x0800;
/** Made by: Unix (3), spec 2.0, so readers honour the Unix mode in the external attributes. */
const VERSION_MADE_BY = (3 << 8) | 20;
const VERSION_DEFAULT = 20;
const VERSION_ZIP64 = 45;
const MAX32 = 0xffffffff;
const MAX16 = 0xffff;

export const METHOD_STORED = 0;
export const METHOD_DEFLATED = 8;

export interface EntryRecord {
  name: Buffer;
  method: number;
  crc: number;
  compressedSize: number;
  size: number;
  /** Offset of the local header in the zip. */
  offset: number;
  /** Permission bits (0o644 or 0o755). */
  mode: number;
}

/** Offset of the CRC field inside a local header; sizes follow it. */
export const LOCAL_CRC_OFFSET = 14;
export const LOCAL_HEADER_BYTES = 30;
/** Offset of the zip64 extra's size fields from the start of the extra field. */
export const ZIP64_LOCAL_EXTRA_BYTES = 20;

/** Bytes of a local header for a name of `nameLength` bytes. */
export function localHeaderBytes(nameLength: number, zip64: boolean): number {
  return LOCAL_HEADER_BYTES + nameLength + (zip64 ? ZIP64_LOCAL_EXTRA_BYTES : 0);
}

/**
 * A local header. With `zip64` the header carries a zip64 extra holding both sizes (and the classic
 * size fields are 0xFFFFFFFF), as APPNOTE requires when either size may exceed 4 GiB.
 */
export function localHeader(entry: Omit<EntryRecord, 'offset' | 'mode'>, zip64: boolean): Buffer {
  const header = Buffer.alloc(localHeaderBytes(entry.name.length, zip64));
  writeLocalHeader(header, 0, entry, entry.name, zip64);
  return header;
}

/**
 * Writes a local header at `at` in `target` (a reused buffer: every byte of the header is written)
 * and returns its length. `name` is the entry name, as UTF-8 bytes or as a string; `nameLength`
 * must be its UTF-8 length.
 */
export function writeLocalHeader(
  target: Buffer,
  at: number,
  entry: { method: number; crc: number; compressedSize: number; size: number },
  name: Buffer | string,
  zip64: boolean,
  nameLength: number = typeof name === 'string' ? Buffer.byteLength(name, 'utf8') : name.length,
): number {
  checkNameLength(nameLength);
  const extraLength = zip64 ? ZIP64_LOCAL_EXTRA_BYTES : 0;
  target.writeUInt32LE(0x04034b50, at);
  target.writeUInt16LE(zip64 ? VERSION_ZIP64 : VERSION_DEFAULT, at + 4);
  target.writeUInt16LE(FLAG_UTF8, at + 6);
  target.writeUInt16LE(entry.method, at + 8);
  target.writeUInt16LE(DOS_TIME, at + 10);
  target.writeUInt16LE(DOS_DATE, at + 12);
  target.writeUInt16LE(nameLength, at + 26);
  target.writeUInt16LE(extraLength, at + 28);
  writeName(target, at + LOCAL_HEADER_BYTES, name);
  writeLocalSizes(target, at, entry, zip64, nameLength);
  return LOCAL_HEADER_BYTES + nameLength + extraLength;
}

/** A zip name field is 16 bits long. */
function checkNameLength(nameLength: number): void {
  if (nameLength > MAX16) throw new Error(`entry name of ${nameLength} bytes is longer than a zip can store`);
}

function writeName(target: Buffer, at: number, name: Buffer | string): void {
  if (typeof name === 'string') target.write(name, at, 'utf8');
  else name.copy(target, at);
}

/** Writes CRC and sizes into a local header at `at` (also used to patch a streamed entry's header). */
export function writeLocalSizes(
  target: Buffer,
  at: number,
  entry: { crc: number; compressedSize: number; size: number },
  zip64: boolean,
  nameLength: number,
): void {
  target.writeUInt32LE(entry.crc >>> 0, at + LOCAL_CRC_OFFSET);
  if (zip64) {
    target.writeUInt32LE(MAX32, at + 18);
    target.writeUInt32LE(MAX32, at + 22);
    const extra = at + LOCAL_HEADER_BYTES + nameLength;
    target.writeUInt16LE(0x0001, extra);
    target.writeUInt16LE(16, extra + 2);
    target.writeBigUInt64LE(BigInt(entry.size), extra + 4);
    target.writeBigUInt64LE(BigInt(entry.compressedSize), extra + 12);
  } else {
    target.writeUInt32LE(entry.compressedSize, at + 18);
    target.writeUInt32LE(entry.size, at + 22);
  }
}

/** The values of a central directory entry that need zip64 fields, in the order APPNOTE gives them. */
function wideValues(entry: Omit<EntryRecord, 'name'>): number[] {
  const wide: number[] = [];
  if (entry.size >= MAX32) wide.push(entry.size);
  if (entry.compressedSize >= MAX32) wide.push(entry.compressedSize);
  if (entry.offset >= MAX32) wide.push(entry.offset);
  return wide;
}

/** Bytes of the central directory entry `writeCentralEntry` writes. */
export function centralEntryBytes(entry: Omit<EntryRecord, 'name'>, nameLength: number): number {
  const wide = wideValues(entry).length;
  return 46 + nameLength + (wide === 0 ? 0 : 4 + 8 * wide);
}

/** A central directory entry; zip64 extra fields only for the values that overflow. */
export function centralEntry(entry: EntryRecord): Buffer {
  const record = Buffer.alloc(centralEntryBytes(entry, entry.name.length));
  writeCentralEntry(record, 0, entry, entry.name);
  return record;
}

/**
 * Writes a central directory entry at `at` in `target` (a reused buffer: every byte of the record
 * is written) and returns its length. `nameLength` must be the UTF-8 length of `name`.
 */
export function writeCentralEntry(
  target: Buffer,
  at: number,
  entry: Omit<EntryRecord, 'name'>,
  name: Buffer | string,
  nameLength: number = typeof name === 'string' ? Buffer.byteLength(name, 'utf8') : name.length,
): number {
  checkNameLength(nameLength);
  const wide = wideValues(entry);
  const extraLength = wide.length === 0 ? 0 : 4 + 8 * wide.length;
  target.writeUInt32LE(0x02014b50, at);
  target.writeUInt16LE(VERSION_MADE_BY, at + 4);
  target.writeUInt16LE(wide.length > 0 ? VERSION_ZIP64 : VERSION_DEFAULT, at + 6);
  target.writeUInt16LE(FLAG_UTF8, at + 8);
  target.writeUInt16LE(entry.method, at + 10);
  target.writeUInt16LE(DOS_TIME, at + 12);
  target.writeUInt16LE(DOS_DATE, at + 14);
  target.writeUInt32LE(entry.crc >>> 0, at + 16);
  target.writeUInt32LE(Math.min(entry.compressedSize, MAX32), at + 20);
  target.writeUInt32LE(Math.min(entry.size, MAX32), at + 24);
  target.writeUInt16LE(nameLength, at + 28);
  target.writeUInt16LE(extraLength, at + 30);
  // Comment length, disk number start, internal attributes: 0.
  target.fill(0, at + 32, at + 38);
  // External attributes: regular file type bits plus the permission bits, in the high 16 bits.
  target.writeUInt32LE(((0o100000 | entry.mode) << 16) >>> 0, at + 38);
  target.writeUInt32LE(Math.min(entry.offset, MAX32), at + 42);
  writeName(target, at + 46, name);
  if (wide.length > 0) {
    let extra = at + 46 + nameLength;
    target.writeUInt16LE(0x0001, extra);
    target.writeUInt16LE(8 * wide.length, extra + 2);
    extra += 4;
    for (const value of wide) {
      target.writeBigUInt64LE(BigInt(value), extra);
      extra += 8;
    }
  }
  return 46 + nameLength + extraLength;
}

/** The end records: zip64 end record and locator when any count or offset overflows, then the classic one. */
export function endRecords(entries: number, centralOffset: number, centralSize: number): Buffer {
  const zip64 = entries >= MAX16 || centralOffset >= MAX32 || centralSize >= MAX32;
  const parts: Buffer[] = [];
  if (zip64) {
    const record = Buffer.alloc(56);
    record.writeUInt32LE(0x06064b50, 0);
    record.writeBigUInt64LE(44n, 4);
    record.writeUInt16LE(VERSION_MADE_BY, 12);
    record.writeUInt16LE(VERSION_ZIP64, 14);
    record.writeBigUInt64LE(BigInt(entries), 24);
    record.writeBigUInt64LE(BigInt(entries), 32);
    record.writeBigUInt64LE(BigInt(centralSize), 40);
    record.writeBigUInt64LE(BigInt(centralOffset), 48);
    const locator = Buffer.alloc(20);
    locator.writeUInt32LE(0x07064b50, 0);
    locator.writeBigUInt64LE(BigInt(centralOffset + centralSize), 8);
    locator.writeUInt32LE(1, 16);
    parts.push(record, locator);
  }
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(Math.min(entries, MAX16), 8);
  end.writeUInt16LE(Math.min(entries, MAX16), 10);
  end.writeUInt32LE(Math.min(centralSize, MAX32), 12);
  end.writeUInt32LE(Math.min(centralOffset, MAX32), 16);
  parts.push(end);
  return Buffer.concat(parts);
}
