/**
 * Remembers what clients sent to `/api/...` so tests can assert request shapes and retry counts
 * (`GET /__local/requests`). Only metadata and parsed bodies are kept: header values are reduced
 * to `has_auth`, so a recorded request never contains a token.
 */

import type { IncomingMessage } from 'node:http';

export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  /** 0 until a response is written; stays 0 for dropped connections. */
  status: number;
  has_auth: boolean;
  user_agent: string;
  body_keys: string[];
  /** The X-OpenDeploy-Consent header, when the client sent one. */
  consent?: string;
  /** Parsed JSON body (JSON requests only). */
  json?: unknown;
  /** Names of multipart fields, file parts included, in arrival order. */
  form_fields?: string[];
  /** Set when a scripted fault answered instead of the normal handler. */
  fault?: string;
}

/** Bounded so a long-running `opendeploy local-gateway` does not grow without limit. */
const MAX_RECORDS = 2000;

export class RequestRecorder {
  private entries: RecordedRequest[] = [];

  start(req: IncomingMessage, path: string, query: URLSearchParams): RecordedRequest {
    const entry: RecordedRequest = {
      method: (req.method ?? 'GET').toUpperCase(),
      path,
      query: Object.fromEntries(query),
      status: 0,
      has_auth: typeof req.headers.authorization === 'string' && req.headers.authorization !== '',
      user_agent: req.headers['user-agent'] ?? '',
      body_keys: [],
      ...(typeof req.headers['x-opendeploy-consent'] === 'string' ? { consent: req.headers['x-opendeploy-consent'] } : {}),
    };
    this.entries.push(entry);
    if (this.entries.length > MAX_RECORDS) this.entries.splice(0, this.entries.length - MAX_RECORDS);
    return entry;
  }

  list(): RecordedRequest[] {
    return this.entries;
  }

  clear(): void {
    this.entries = [];
  }
}
