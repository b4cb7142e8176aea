/**
 * A closed pipe on stdout or stderr (`opendeploy logs | head -1`) is the reader saying "enough",
 * not a failure: exit quietly instead of letting Node print an unhandled 'error' stack trace.
 * Nothing more can be written to a closed stream, so there is nothing left to report either.
 */
export function exitQuietlyOnClosedPipe(
  streams: NodeJS.WriteStream[] = [process.stdout, process.stderr],
  exit: (code: number) => void = (code) => process.exit(code),
): void {
  for (const stream of streams) {
    stream.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'EPIPE' || error.code === 'ERR_STREAM_DESTROYED') {
        // 0 like a reader-terminated `yes | head`: the user got what they asked for.
        exit(0);
        return;
      }
      throw error;
    });
  }
}
