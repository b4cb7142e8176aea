/**
 * multipart/form-data (RFC 7578) for the upload route, parsed by @fastify/busboy as the request
 * streams in: the archive part goes to disk as it arrives — buffering a 100 MiB body the way
 * `Request.formData()` does would defeat the point of a local stand-in for large uploads. File
 * parts are handed to a sink chunk by chunk with backpressure; text fields are collected up to a
 * small limit. Every limit or syntax error becomes a MultipartError with the HTTP status to answer.
 *
 * Malformed bodies busboy reads differently from the strict parser this replaced (measured part by
 * part against it, each body fed in 1-, 7- and whole-body chunks): a part whose Content-Disposition
 * is not `form-data` is skipped instead of refused; part headers over the header limit are cut
 * instead of refused; a delimiter line followed by spaces (RFC 2046 transport padding) or by other
 * bytes does not open a part, so its content is skipped. In each case the upload route then answers
 * 400 naming the field it lacks (`project_name is required`, …). A LF-only body is still a 400
 * (`unexpected end of body`). Well-formed bodies, truncated bodies, the size, part and name checks
 * give the same results as before; nothing here needs the hand-written scanner back.
 */

import type { Readable } from 'node:stream';
import { Busboy } from '@fastify/busboy';

export class MultipartError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export interface PartInfo {
  name: string;
  filename: string | undefined;
  contentType: string;
}

/** Receives one file part. `write` may return a promise to apply backpressure. */
export interface FileSink {
  write(chunk: Buffer): Promise<void> | void;
  end(): Promise<void>;
  /** Called instead of `end` when parsing fails after the part started. */
  abort(): Promise<void>;
}

export interface MultipartLimits {
  maxFileBytes: number;
  maxFieldBytes: number;
  maxParts: number;
  maxHeaderBytes: number;
}

const DEFAULT_MULTIPART_LIMITS: MultipartLimits = {
  maxFileBytes: 512 * 1024 * 1024,
  maxFieldBytes: 64 * 1024,
  maxParts: 64,
  maxHeaderBytes: 16 * 1024,
};

export interface MultipartResult {
  fields: Map<string, string>;
  /** Every part name (fields and files) in arrival order. */
  partNames: string[];
}

const UNEXPECTED_END = 'malformed multipart body: unexpected end of body';

/** The boundary of a `multipart/form-data` Content-Type, or null if it is not one. */
export function multipartBoundary(contentType: string | undefined): string | null {
  if (!contentType || !/^multipart\/form-data\s*(;|$)/i.test(contentType)) return null;
  const params = parseParams(contentType.slice(contentType.indexOf(';') + 1));
  const boundary = params.get('boundary');
  if (!boundary || boundary.length > 200) return null;
  return boundary;
}

/** `; name="x"; boundary=y` → Map (quoted values unescaped, names lowercased). */
function parseParams(text: string): Map<string, string> {
  const params = new Map<string, string>();
  const re = /;?\s*([^=;\s]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^;]*)/g;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    const key = (m[1] ?? '').toLowerCase();
    let value = (m[2] ?? '').trim();
    if (value.startsWith('"')) value = value.slice(1, -1).replace(/\\(.)/g, '$1');
    params.set(key, value);
  }
  return params;
}

/**
 * Parses `source` (the request) and returns the text fields. On a limit or syntax error the rest
 * of the body is still read (and discarded) before throwing, so the caller can answer on the same
 * connection; a file part that was open when parsing failed gets `abort()` instead of `end()`.
 */
export async function parseMultipart(
  source: AsyncIterable<Buffer>,
  boundary: string,
  onFile: (part: PartInfo) => FileSink | null,
  limits: MultipartLimits = DEFAULT_MULTIPART_LIMITS,
): Promise<MultipartResult> {
  const result: MultipartResult = { fields: new Map(), partNames: [] };
  let failure: unknown = null;
  const fail = (error: unknown): void => {
    failure ??= error;
  };
  const failed = (): boolean => failure !== null;

  const parser = Busboy({
    headers: { 'content-type': `multipart/form-data; boundary="${boundary.replace(/["\\]/g, '\\$&')}"` },
    // A part is a file exactly when it names a filename (not by its Content-Type), and the name is kept as sent.
    isPartAFile: (_name, _type, filename) => filename !== undefined,
    preservePath: true,
    limits: {
      fileSize: limits.maxFileBytes,
      fieldSize: limits.maxFieldBytes,
      parts: limits.maxParts,
      headerSize: limits.maxHeaderBytes,
    },
  });
  const files: Array<Promise<void>> = [];
  const open = new Set<Readable>();
  let broken = false;

  parser.on('field', (name, value, _nameTruncated, valueTruncated) => {
    if (!name) return fail(new MultipartError(400, 'malformed multipart body: part without a name'));
    result.partNames.push(name);
    if (valueTruncated) return fail(new MultipartError(413, `field "${name}" is too large`));
    result.fields.set(name, value);
  });
  parser.on('file', (name, stream, filename, _encoding, contentType) => {
    if (!name) fail(new MultipartError(400, 'malformed multipart body: part without a name'));
    else result.partNames.push(name);
    // File parts nobody wants (or that arrive after a failure) are read and discarded, never buffered.
    const sink = failed() ? null : onFile({ name, filename, contentType });
    stream.on('limit', () => fail(new MultipartError(413, `file part "${name}" is too large`)));
    open.add(stream);
    files.push(receiveFile(stream, sink, failed, fail).finally(() => open.delete(stream)));
  });
  parser.on('partsLimit', () => fail(new MultipartError(400, 'too many multipart parts')));
  const done = new Promise<void>((resolve) => {
    parser.on('finish', resolve);
    parser.on('error', () => {
      broken = true;
      fail(new MultipartError(400, UNEXPECTED_END));
      // A part cut off by the error would wait for bytes that never come.
      for (const stream of open) stream.destroy(new Error(UNEXPECTED_END));
      resolve();
    });
  });

  for await (const chunk of source) {
    if (broken) continue; // drain: keep the connection usable for the error response
    if (!parser.write(chunk)) await new Promise<void>((resolve) => {
      const resume = (): void => {
        parser.off('drain', resume);
        parser.off('error', resume);
        resolve();
      };
      parser.on('drain', resume);
      parser.on('error', resume);
    });
  }
  if (!broken) parser.end();
  await done;
  await Promise.all(files);
  if (failure) throw failure;
  return result;
}

/** Copies one file part into its sink; after any failure the rest is only read, and the sink aborted. */
async function receiveFile(stream: Readable, sink: FileSink | null, failed: () => boolean, fail: (error: unknown) => void): Promise<void> {
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      if (!sink || failed()) continue;
      try {
        await sink.write(chunk);
      } catch (error) {
        fail(error);
      }
    }
  } catch {
    fail(new MultipartError(400, UNEXPECTED_END));
  }
  if (!sink) return;
  if (failed()) await sink.abort().catch(() => undefined);
  else await sink.end();
}
