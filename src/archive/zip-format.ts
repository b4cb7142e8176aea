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

/**
 * A local header. With `zip64` the header carries a zip64 extra holding both sizes (and the classic
 * size fields are 0xFFFFFFFF), as APPNOTE requires when either size may exceed 4 GiB.
 */
export function localHeader(entry: Omit<EntryRecord, 'offset' | 'mode'>, zip64: boolean): Buffer {
  const extraLength = zip64 ? ZIP64_LOCAL_EXTRA_BYTES : 0;
  const header = Buffer.alloc(LOCAL_HEADER_BYTES + entry.name.length + extraLength);
  header.writeUInt32LE(0x04034b50, 0);
  header.writeUInt16LE(zip64 ? VERSION_ZIP64 : VERSION_DEFAULT, 4);
  header.writeUInt16LE(FLAG_UTF8, 6);
  header.writeUInt16LE(entry.method, 8);
  header.writeUInt16LE(DOS_TIME, 10);
  header.writeUInt16LE(DOS_DATE, 12);
  header.writeUInt16LE(entry.name.length, 26);
  header.writeUInt16LE(extraLength, 28);
  entry.name.copy(header, LOCAL_HEADER_BYTES);
  writeLocalSizes(header, 0, entry, zip64, entry.name.length);
  return header;
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

/** A central directory entry; zip64 extra fields only for the values that overflow. */
export function centralEntry(entry: EntryRecord): Buffer {
  const wide: bigint[] = [];
  if (entry.size >= MAX32) wide.push(BigInt(entry.size));
  if (entry.compressedSize >= MAX32) wide.push(BigInt(entry.compressedSize));
  if (entry.offset >= MAX32) wide.push(BigInt(entry.offset));
  const extraLength = wide.length === 0 ? 0 : 4 + 8 * wide.length;
  const record = Buffer.alloc(46 + entry.name.length + extraLength);
  record.writeUInt32LE(0x02014b50, 0);
  record.writeUInt16LE(VERSION_MADE_BY, 4);
  record.writeUInt16LE(wide.length > 0 ? VERSION_ZIP64 : VERSION_DEFAULT, 6);
  record.writeUInt16LE(FLAG_UTF8, 8);
  record.writeUInt16LE(entry.method, 10);
  record.writeUInt16LE(DOS_TIME, 12);
  record.writeUInt16LE(DOS_DATE, 14);
  record.writeUInt32LE(entry.crc >>> 0, 16);
  record.writeUInt32LE(Math.min(entry.compressedSize, MAX32), 20);
  record.writeUInt32LE(Math.min(entry.size, MAX32), 24);
  record.writeUInt16LE(entry.name.length, 28);
  record.writeUInt16LE(extraLength, 30);
  // comment length, disk number start, internal attributes: 0
  // External attributes: regular file type bits plus the permission bits, in the high 16 bits.
  record.writeUInt32LE(((0o100000 | entry.mode) << 16) >>> 0, 38);
  record.writeUInt32LE(Math.min(entry.offset, MAX32), 42);
  entry.name.copy(record, 46);
  if (wide.length > 0) {
    let at = 46 + entry.name.length;
    record.writeUInt16LE(0x0001, at);
    record.writeUInt16LE(8 * wide.length, at + 2);
    at += 4;
    for (const value of wide) {
      record.writeBigUInt64LE(value, at);
      at += 8;
    }
  }
  return record;
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
