/**
 * Server-Sent Events for the deployment log stream, parsed by `eventsource-parser` (the WHATWG
 * "event stream interpretation": `event:`, multi-line `data:`, `id:`, `retry:`, comments, CRLF / LF
 * / CR line endings). This module adds what a byte stream needs around it: UTF-8 decoding across
 * chunk boundaries, a leading BOM dropped, the last event ID and retry carried onto later events,
 * and an unterminated final event discarded when the stream ends.
 *
 * One difference from the letter of the standard: an `id:` in a block without `data:` is not
 * remembered (the library resets it with the block). The gateway always sends `id:` with data.
 */
import { createParser, type EventSourceMessage, type EventSourceParser } from 'eventsource-parser';

export interface RawSseEvent {
  event: string;
  data: string;
  id?: string;
  retry?: number;
}

export class SseParser {
  private readonly decoder = new TextDecoder('utf-8');
  private readonly parser: EventSourceParser;
  private readonly completed: RawSseEvent[] = [];
  private started = false;
  /** The last text fed ended with CR, which the library holds until it sees what follows. */
  private endsWithCR = false;
  private lastId: string | undefined;
  private retry: number | undefined;

  constructor() {
    this.parser = createParser({
      onEvent: (message: EventSourceMessage) => this.completed.push(this.toRaw(message)),
      onRetry: (ms: number) => {
        this.retry = ms;
      },
    });
  }

  /** Feeds bytes (or text) and returns the events completed by them. */
  push(chunk: Uint8Array | string): RawSseEvent[] {
    let text = typeof chunk === 'string' ? chunk : this.decoder.decode(chunk, { stream: true });
    if (!this.started && text.length > 0) {
      this.started = true;
      // TextDecoder drops a BOM from bytes; text handed in directly may still carry one.
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    }
    if (text.length > 0) {
      this.endsWithCR = text.charCodeAt(text.length - 1) === 13;
      this.parser.feed(text);
    }
    return this.completed.splice(0);
  }

  /** Ends the stream: an unterminated final event is discarded, as the standard requires. */
  end(): RawSseEvent[] {
    const tail = this.decoder.decode();
    if (tail) this.push(tail);
    // A CR as the very last byte ends its line; the library waits for a possible LF, so give it one.
    if (this.endsWithCR) this.parser.feed('\n');
    this.endsWithCR = false;
    this.parser.reset();
    return this.completed.splice(0);
  }

  private toRaw(message: EventSourceMessage): RawSseEvent {
    if (message.id !== undefined) this.lastId = message.id;
    const event: RawSseEvent = { event: message.event || 'message', data: message.data };
    if (this.lastId !== undefined) event.id = this.lastId;
    if (this.retry !== undefined) event.retry = this.retry;
    return event;
  }

  /** The last `id:` seen (for Last-Event-ID on reconnect). */
  get lastEventId(): string | undefined {
    return this.lastId;
  }
}

/** Parses an SSE byte stream into events, with `data` decoded as JSON when it is JSON. */
export async function* parseSseStream(
  body: AsyncIterable<Uint8Array | string>,
): AsyncGenerator<{ event: string; data: unknown; id?: string }> {
  const parser = new SseParser();
  const convert = (raw: RawSseEvent) => {
    let data: unknown = raw.data;
    try {
      data = JSON.parse(raw.data) as unknown;
    } catch {
      // Not JSON: hand the text through unchanged.
    }
    return raw.id !== undefined ? { event: raw.event, data, id: raw.id } : { event: raw.event, data };
  };
  for await (const chunk of body) {
    for (const raw of parser.push(chunk)) yield convert(raw);
  }
  for (const raw of parser.end()) yield convert(raw);
}
