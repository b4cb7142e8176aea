/**
 * A hand-built `multipart/form-data` body streamed from disk: text fields, then at most one file part
 * read with `fs.createReadStream`. The Content-Length is computed up front from the file size, so the
 * archive is never held in memory and the gateway gets an exact length (no chunked encoding). Bytes
 * read from the file are reported through `onProgress` as the socket pulls them.
 */
import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { Readable } from 'node:stream';
import { OdError } from '../core/errors.js';
import type { UploadBody } from './http.js';

export interface MultipartFile {
  /** Form field name (`project_file`). */
  field: string;
  path: string;
  /** File name sent in Content-Disposition. */
  fileName: string;
  contentType?: string;
  onProgress?: (sentBytes: number, totalBytes: number) => void;
}

/** Escapes a name for a Content-Disposition parameter the way browsers do (WHATWG HTML). */
function escapeName(name: string): string {
  return name.replace(/\r/g, '%0D').replace(/\n/g, '%0A').replace(/"/g, '%22');
}

/** Values are sent as UTF-8; bare CR/LF are normalised to CRLF as the HTML form encoder does. */
function normaliseValue(value: string): string {
  return value.replace(/\r\n|\r|\n/g, '\r\n');
}

/** The file name of the upload part: always ends in `.zip` (the gateway only reads ZIP archives). */
export function zipFileName(filePath: string, fileName?: string): string {
  const name = (fileName ?? basename(filePath)).trim() || 'source.zip';
  return /\.zip$/i.test(name) ? name : `${name}.zip`;
}

export async function buildMultipart(
  fields: Record<string, string | undefined>,
  file?: MultipartFile,
): Promise<UploadBody> {
  const boundary = `----opendeploy${randomBytes(16).toString('hex')}`;
  const head: Buffer[] = [];
  for (const [name, value] of Object.entries(fields)) {
    if (value === undefined) continue;
    head.push(
      Buffer.from(
        `--${boundary}\r\nContent-Disposition: form-data; name="${escapeName(name)}"\r\n\r\n${normaliseValue(value)}\r\n`,
        'utf8',
      ),
    );
  }

  let fileSize = 0;
  if (file) {
    let info;
    try {
      info = await stat(file.path);
    } catch {
      throw new OdError('invalid_input', `The archive ${file.path} does not exist or cannot be read.`, {
        nextAction: 'Check the path and re-run.',
      });
    }
    if (!info.isFile()) {
      throw new OdError('invalid_input', `The archive ${file.path} is not a regular file.`, {
        nextAction: 'Point at a .zip file and re-run.',
      });
    }
    fileSize = info.size;
    head.push(
      Buffer.from(
        `--${boundary}\r\nContent-Disposition: form-data; name="${escapeName(file.field)}"; filename="${escapeName(file.fileName)}"\r\n` +
          `Content-Type: ${file.contentType ?? 'application/zip'}\r\n\r\n`,
        'utf8',
      ),
    );
  }
  const preamble = Buffer.concat(head);
  const epilogue = Buffer.from(`${file ? '\r\n' : ''}--${boundary}--\r\n`, 'utf8');
  const contentLength = preamble.length + fileSize + epilogue.length;

  async function* generate(): AsyncGenerator<Buffer> {
    yield preamble;
    if (file) {
      let sent = 0;
      file.onProgress?.(0, fileSize);
      // Read exactly the size we announced: a file that grows or shrinks mid-upload is an error,
      // never a silently corrupt body.
      if (fileSize > 0) {
        const stream = createReadStream(file.path, { start: 0, end: fileSize - 1, highWaterMark: 64 * 1024 });
        for await (const chunk of stream as AsyncIterable<Buffer>) {
          sent += chunk.length;
          yield chunk;
          file.onProgress?.(sent, fileSize);
        }
      }
      if (sent !== fileSize) {
        throw new OdError('internal', `The archive ${file.path} changed size while it was being uploaded.`, {
          nextAction: 'Re-run; opendeploy rebuilds the archive.',
        });
      }
    }
    yield epilogue;
  }

  return {
    contentType: `multipart/form-data; boundary=${boundary}`,
    contentLength,
    open: () => Readable.from(generate(), { objectMode: false }),
  };
}
