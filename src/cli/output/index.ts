import type { ExecutionContext } from '../../core/session.js';
import { HumanReporter } from './human.js';
import { JsonReporter, type Streams } from './json.js';
import type { Reporter } from '../../core/reporter.js';

export type { Reporter, LogEvent } from '../../core/reporter.js';
export type { Streams } from './json.js';

export function createReporter(ctx: ExecutionContext, streams: Streams): Reporter {
  if (ctx.json) return new JsonReporter(streams, ctx.verbose);
  return new HumanReporter(streams, {
    color: ctx.color,
    spinner: ctx.spinner,
    quiet: ctx.quiet,
    verbose: ctx.verbose,
  });
}
