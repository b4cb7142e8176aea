/**
 * The answer of a commit-then-fail fault (see faults.ts): what a client sees when its request was
 * applied but the answer was lost.
 */

import { STATUS_CODES } from 'node:http';
import type { FaultAction } from './faults.js';
import type { RequestContext } from './http.js';

/**
 * Installs the answer of a commit-then-fail fault: the request goes on to its normal handler (so
 * the change is applied and journaled with the handler's status), but whatever the handler answers
 * is replaced — by a destroyed connection (`drop`) or by the fault's status and body.
 */
export function failAfterCommit(ctx: RequestContext, fault: FaultAction): void {
  const write = ctx.write.bind(ctx);
  ctx.write = (status, body, headers) => {
    if (ctx.res.headersSent || ctx.res.destroyed) return;
    if (ctx.entry) ctx.entry.status = status;
    if (fault.drop) {
      ctx.req.socket.destroy();
      return;
    }
    const replacement = fault.status ?? 502;
    const text = typeof fault.body === 'string' ? fault.body : JSON.stringify(fault.body ?? { error: STATUS_CODES[replacement] ?? 'injected fault' });
    const looksJson = /^\s*[[{]/.test(text);
    write(replacement, text, { 'content-type': looksJson ? 'application/json; charset=utf-8' : 'text/plain; charset=utf-8', ...fault.headers });
    // The journal keeps the status the handler committed with; the client saw the replacement.
    if (ctx.entry) ctx.entry.status = status;
  };
}
