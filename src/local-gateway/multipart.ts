/**
 * A streaming multipart/form-data parser (RFC 7578) for the upload route.
 *
 * Why hand-written: the archive part must go to disk as it arrives — buffering a 100 MiB body the
 * way `Request.formData()` does would defeat the point of a local stand-in for large uploads — and
 * no new dependency may be added. File parts are handed to a sink chunk by chunk with
 * backpressure; text fields are collected up to a small limit.
 */

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

export const DEFAULT_MULTIPART_LIMITS: MultipartLimits = {
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

/** The boundary of a `multipart/form-data` Content-Type, or null if it is not one. */
export function multipartBoundary(contentType: string | undefined): string | null {
  if (!contentType || !/^multipart\/form-data\s*(;|$)/i.test(contentType)) return null;
  const params = parseParams(contentType.slice(contentType.indexOf(';') + 1));
  const boundary = params.get('boundary');
  if (!boundary || boundary.length > 200) return null;
  return boundary;
}

/** `; name="x"; filename="y"` → Map (quoted values unescaped, names lowercased). */
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

function parsePartHeaders(block: string): PartInfo {
  let disposition = '';
  let contentType = 'text/plain';
  for (const line of block.split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    if (name === 'content-disposition') disposition = value;
    else if (name === 'content-type') contentType = value;
  }
  if (!/^form-data\s*(;|$)/i.test(disposition)) {
    throw new MultipartError(400, 'malformed multipart body: part without Content-Disposition: form-data');
  }
  const params = parseParams(disposition.slice(disposition.indexOf(';') + 1));
  const name = params.get('name');
  if (name === undefined || name === '') throw new MultipartError(400, 'malformed multipart body: part without a name');
  return { name, filename: params.get('filename'), contentType };
}

type Phase = 'preamble' | 'boundary' | 'headers' | 'body' | 'done';

interface OpenPart {
  info: PartInfo;
  sink: FileSink | null;
  /** Collected text of a field part (null for file parts). */
  chunks: Buffer[] | null;
  size: number;
}

/**
 * Parses `source` (the request) and returns the text fields. On a limit or syntax error the rest
 * of the body is still drained before throwing, so the caller can answer on the same connection.
 */
export async function parseMultipart(
  source: AsyncIterable<Buffer>,
  boundary: string,
  onFile: (part: PartInfo) => FileSink | null,
  limits: MultipartLimits = DEFAULT_MULTIPART_LIMITS,
): Promise<MultipartResult> {
  // Prefixing CRLF lets the very first boundary match the same delimiter as every later one.
  const delimiter = Buffer.from(`\r\n--${boundary}`);
  const result: MultipartResult = { fields: new Map(), partNames: [] };
  let buf: Buffer = Buffer.from('\r\n');
  let phase: Phase = 'preamble';
  let part: OpenPart | null = null;
  let failure: unknown = null;

  const emit = async (data: Buffer): Promise<void> => {
    if (!part || data.length === 0) return;
    part.size += data.length;
    if (part.sink) {
      if (part.size > limits.maxFileBytes) throw new MultipartError(413, `file part "${part.info.name}" is too large`);
      await part.sink.write(data);
    } else if (part.chunks) {
      if (part.size > limits.maxFieldBytes) throw new MultipartError(413, `field "${part.info.name}" is too large`);
      part.chunks.push(data);
    }
  };

  const closePart = async (): Promise<void> => {
    if (!part) return;
    const done = part;
    part = null;
    if (done.sink) await done.sink.end();
    else if (done.chunks) result.fields.set(done.info.name, Buffer.concat(done.chunks).toString('utf8'));
  };

  // Consumes as much of `buf` as can be decided now; leaves undecidable bytes for the next chunk.
  const advance = async (): Promise<void> => {
    for (;;) {
      if (phase === 'preamble') {
        const idx = buf.indexOf(delimiter);
        if (idx === -1) {
          buf = buf.subarray(Math.max(0, buf.length - delimiter.length + 1));
          return;
        }
        buf = buf.subarray(idx + delimiter.length);
        phase = 'boundary';
      } else if (phase === 'boundary') {
        // After a delimiter: "--" ends the body, CRLF starts a part (transport padding tolerated).
        const trimmed = trimLeadingBlanks(buf);
        if (trimmed.length < 2) {
          buf = trimmed;
          return;
        }
        if (trimmed[0] === 0x2d && trimmed[1] === 0x2d) {
          phase = 'done';
          buf = Buffer.alloc(0);
          return;
        }
        if (trimmed[0] === 0x0d && trimmed[1] === 0x0a) {
          buf = trimmed.subarray(2);
          phase = 'headers';
        } else {
          throw new MultipartError(400, 'malformed multipart body: bad boundary line');
        }
      } else if (phase === 'headers') {
        const idx = buf.indexOf('\r\n\r\n');
        if (idx === -1) {
          if (buf.length > limits.maxHeaderBytes) throw new MultipartError(400, 'malformed multipart body: part headers too large');
          return;
        }
        const info = parsePartHeaders(buf.subarray(0, idx).toString('utf8'));
        buf = buf.subarray(idx + 4);
        if (result.partNames.length >= limits.maxParts) throw new MultipartError(400, 'too many multipart parts');
        result.partNames.push(info.name);
        const sink = info.filename !== undefined ? onFile(info) : null;
        // File parts nobody wants are discarded (chunks null, sink null) rather than buffered.
        part = { info, sink, chunks: info.filename !== undefined ? null : [], size: 0 };
        phase = 'body';
      } else if (phase === 'body') {
        const idx = buf.indexOf(delimiter);
        if (idx === -1) {
          // Keep a tail that could be the start of a delimiter split across chunks.
          const keep = Math.min(buf.length, delimiter.length - 1);
          await emit(buf.subarray(0, buf.length - keep));
          buf = buf.subarray(buf.length - keep);
          return;
        }
        await emit(buf.subarray(0, idx));
        buf = buf.subarray(idx + delimiter.length);
        await closePart();
        phase = 'boundary';
      } else {
        buf = Buffer.alloc(0); // epilogue after the closing delimiter is ignored
        return;
      }
    }
  };

  for await (const chunk of source) {
    if (failure) continue; // drain: keep the connection usable for the error response
    buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
    try {
      await advance();
    } catch (err) {
      failure = err;
    }
  }
  // Casts: TS cannot see the closures above reassigning these.
  if (!failure && (phase as Phase) !== 'done') failure = new MultipartError(400, 'malformed multipart body: unexpected end of body');
  if (failure) {
    const open = part as OpenPart | null;
    if (open?.sink) await open.sink.abort().catch(() => undefined);
    throw failure;
  }
  return result;
}

function trimLeadingBlanks(buf: Buffer): Buffer {
  let i = 0;
  while (i < buf.length && (buf[i] === 0x20 || buf[i] === 0x09)) i++;
  return buf.subarray(i);
}
