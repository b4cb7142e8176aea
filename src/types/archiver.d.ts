/**
 * Minimal declarations for archiver 8, which ships none. Only what src/archive/zip.ts uses is
 * declared, so a wrong call fails to compile instead of silently passing as `any`.
 */
declare module 'archiver' {
  import { Transform } from 'node:stream';

  export interface ZipOptions {
    /** zlib options for deflated entries (level 0-9). */
    zlib?: { level?: number };
    /** Store every entry uncompressed. */
    store?: boolean;
    forceLocalTime?: boolean;
    forceZip64?: boolean;
    comment?: string;
    highWaterMark?: number;
  }

  export interface EntryData {
    /** Entry name inside the archive, forward slashes. */
    name: string;
    /** Entry modification time (DOS precision: 2 s, years 1980-2107). */
    date?: Date | string;
    /** Unix permission bits. */
    mode?: number;
    /** Store this entry uncompressed. */
    store?: boolean;
  }

  export class ZipArchive extends Transform {
    constructor(options?: ZipOptions);
    append(source: NodeJS.ReadableStream | Buffer | string, data: EntryData): this;
    /** Resolves when the last byte of the archive has been emitted (not when the sink has flushed). */
    finalize(): Promise<void>;
    abort(): this;
    /** Bytes emitted so far. */
    pointer(): number;
    on(event: 'entry', listener: (data: EntryData) => void): this;
    on(event: 'warning' | 'error', listener: (error: Error) => void): this;
    on(event: string | symbol, listener: (...args: any[]) => void): this;
  }
}
