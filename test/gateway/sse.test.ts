import { afterEach, describe, expect, it } from 'vitest';
import { setTimeout as sleep } from 'node:timers/promises';
import { SseParser, parseSseStream, type GatewayClient, type RawSseEvent } from '../../src/gateway/index.js';
import { clientFor, failure, json, startServer, type TestServer } from './helpers.js';

function parseAll(chunks: (string | Uint8Array)[]): RawSseEvent[] {
  const parser = new SseParser();
  const out: RawSseEvent[] = [];
  for (const chunk of chunks) out.push(...parser.push(chunk));
  out.push(...parser.end());
  return out;
}

const STREAM =
  '\uFEFF: keep-alive comment\n' +
  'event: log\nid: 1\ndata: {"message":"step 1","source":"buildctl"}\n\n' +
  'data: first line\r\ndata: second line\r\n\r\n' +
  'event: progress\rdata: {"progress_percent":42}\r\r' +
  'retry: 3000\nevent: ignored-no-data\n\n' +
  'data:no-space\nunknown: field\ndata\n\n' +
  'event: end\ndata: {"status":"success","text":"héllo ✓"}\n\n' +
  'data: unterminated at EOF';

const EXPECTED: RawSseEvent[] = [
  { event: 'log', id: '1', data: '{"message":"step 1","source":"buildctl"}' },
  { event: 'message', id: '1', data: 'first line\nsecond line' },
  { event: 'progress', id: '1', data: '{"progress_percent":42}' },
  { event: 'message', id: '1', retry: 3000, data: 'no-space\n' },
  { event: 'end', id: '1', retry: 3000, data: '{"status":"success","text":"héllo ✓"}' },
];

describe('SseParser', () => {
  it('parses a whole stream (comments ignored, CRLF/CR/LF, multi-line data, BOM)', () => {
    expect(parseAll([STREAM])).toEqual(EXPECTED);
  });

  it('gives the same events whatever the chunk boundaries (every split point, bytes)', () => {
    const bytes = Buffer.from(STREAM, 'utf8');
    for (let cut = 1; cut < bytes.length; cut++) {
      const events = parseAll([bytes.subarray(0, cut), bytes.subarray(cut)]);
      expect(events, `split at byte ${cut}`).toEqual(EXPECTED);
    }
  });

  it('handles one byte at a time (UTF-8 sequences and CRLF split across chunks)', () => {
    const bytes = Buffer.from(STREAM, 'utf8');
    const chunks = Array.from(bytes, (b) => Uint8Array.of(b));
    expect(parseAll(chunks)).toEqual(EXPECTED);
  });

  it('a CR at the end of a chunk followed by LF does not produce an extra blank line', () => {
    expect(parseAll(['data: a\r', '\n', 'data: b\r\n\r\n'])).toEqual([{ event: 'message', data: 'a\nb' }]);
  });
});

describe('parseSseStream', () => {
  it('decodes JSON data and passes other text through', async () => {
    async function* source() {
      yield Buffer.from('event: log\ndata: {"a":');
      yield Buffer.from('1}\n\ndata: not json\n\n');
    }
    const out = [];
    for await (const e of parseSseStream(source())) out.push(e);
    expect(out).toEqual([
      { event: 'log', data: { a: 1 } },
      { event: 'message', data: 'not json' },
    ]);
  });
});

describe('streamDeploymentLogs over real HTTP', () => {
  let server: TestServer | undefined;
  let client: GatewayClient | undefined;
  afterEach(async () => {
    await client?.close();
    await server?.close();
    server = undefined;
    client = undefined;
  });

  it('yields events written in awkward chunks, with the token and Accept header', async () => {
    server = await startServer(async (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      const text = ': hello\n\nevent: log\ndata: {"message":"Build 42% — installing dependencies"}\n\nevent: log\nda';
      res.write(text.slice(0, 17));
      await sleep(20);
      res.write(text.slice(17, 40));
      await sleep(20);
      res.write(text.slice(40));
      await sleep(20);
      res.write('ta: {"message":"done"}\r\n\r\nevent: end\ndata: {"status":"success"}\n\n');
      res.end();
    });
    client = clientFor(server);
    const events = [];
    for await (const e of client.streamDeploymentLogs('dep-1')) events.push(e);
    expect(events).toEqual([
      { event: 'log', data: { message: 'Build 42% — installing dependencies' } },
      { event: 'log', data: { message: 'done' } },
      { event: 'end', data: { status: 'success' } },
    ]);
    const req = server.requests[0]!;
    expect(req.url).toBe('/api/v1/deployments/dep-1/logs/stream');
    expect(req.headers.accept).toBe('text/event-stream');
    expect(req.headers.authorization).toMatch(/^Bearer /);
  });

  it('ends quietly when the signal aborts mid-stream', async () => {
    server = await startServer(async (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('data: {"n":1}\n\n');
      // keep the stream open
    });
    client = clientFor(server);
    const controller = new AbortController();
    const events = [];
    for await (const e of client.streamDeploymentLogs('d', { signal: controller.signal })) {
      events.push(e);
      setTimeout(() => controller.abort(), 10);
    }
    expect(events).toEqual([{ event: 'message', data: { n: 1 } }]);
  });

  it('an error status on open is mapped like any request', async () => {
    server = await startServer((_req, res) => json(res, 404, { error: 'deployment not found' }));
    client = clientFor(server);
    const err = await failure(
      (async () => {
        for await (const _ of client!.streamDeploymentLogs('nope')) {
          /* nothing */
        }
      })(),
    );
    expect(err.code).toBe('not_found');
    expect(err.message).toBe('The gateway has no GET /v1/deployments/nope/logs/stream (404): deployment not found.');
  });
});
