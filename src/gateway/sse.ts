/**
 * A Server-Sent Events parser (WHATWG "event stream interpretation"): `event:`, `data:` (multi-line,
 * joined with "\n"), `id:`, `retry:`; comment lines (`:`) ignored; CRLF, LF and CR line endings; a
 * leading BOM dropped; chunks may split anywhere, including inside a UTF-8 sequence or a CRLF pair.
 */

export interface RawSseEvent {
  event: string;
  data: string;
  id?: string;
  retry?: number;
}

export class SseParser {
  private readonly decoder = new TextDecoder('utf-8');
  private buffer = '';
  private started = false;
  /** The previous chunk ended with CR: a LF at the start of the next chunk belongs to it. */
  private pendingCR = false;
  private eventType = '';
  private dataLines: string[] = [];
  private hasData = false;
  private lastId: string | undefined;
  private retry: number | undefined;

  /** Feeds bytes (or text) and returns the events completed by them. */
  push(chunk: Uint8Array | string): RawSseEvent[] {
    let text = typeof chunk === 'string' ? chunk : this.decoder.decode(chunk, { stream: true });
    if (!this.started && text.length > 0) {
      this.started = true;
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    }
    if (this.pendingCR && text.startsWith('\n')) text = text.slice(1);
    this.pendingCR = false;
    this.buffer += text;
    return this.drainLines();
  }

  /** Ends the stream: an unterminated final event is discarded, as the spec requires. */
  end(): RawSseEvent[] {
    const tail = this.decoder.decode();
    const events = tail ? this.push(tail) : [];
    this.buffer = '';
    this.resetEvent();
    return events;
  }

  private drainLines(): RawSseEvent[] {
    const events: RawSseEvent[] = [];
    let start = 0;
    for (let i = 0; i < this.buffer.length; i++) {
      const c = this.buffer.charCodeAt(i);
      if (c !== 10 && c !== 13) continue;
      const line = this.buffer.slice(start, i);
      if (c === 13) {
        if (i + 1 < this.buffer.length) {
          if (this.buffer.charCodeAt(i + 1) === 10) i++;
        } else {
          this.pendingCR = true;
        }
      }
      start = i + 1;
      const event = this.processLine(line);
      if (event) events.push(event);
    }
    this.buffer = this.buffer.slice(start);
    return events;
  }

  private processLine(line: string): RawSseEvent | undefined {
    if (line === '') return this.dispatch();
    if (line.startsWith(':')) return undefined;
    const colon = line.indexOf(':');
    let field: string;
    let value: string;
    if (colon === -1) {
      field = line;
      value = '';
    } else {
      field = line.slice(0, colon);
      value = line.slice(colon + 1);
      if (value.startsWith(' ')) value = value.slice(1);
    }
    switch (field) {
      case 'event':
        this.eventType = value;
        break;
      case 'data':
        this.dataLines.push(value);
        this.hasData = true;
        break;
      case 'id':
        if (!value.includes('\0')) this.lastId = value;
        break;
      case 'retry':
        if (/^\d+$/.test(value)) this.retry = Number(value);
        break;
      default:
        break;
    }
    return undefined;
  }

  private dispatch(): RawSseEvent | undefined {
    if (!this.hasData) {
      this.resetEvent();
      return undefined;
    }
    const event: RawSseEvent = { event: this.eventType || 'message', data: this.dataLines.join('\n') };
    if (this.lastId !== undefined) event.id = this.lastId;
    if (this.retry !== undefined) event.retry = this.retry;
    this.resetEvent();
    return event;
  }

  private resetEvent(): void {
    this.eventType = '';
    this.dataLines = [];
    this.hasData = false;
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
