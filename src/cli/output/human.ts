import kleur from 'kleur';
import type { Ora } from 'ora';
import { scrubText, scrubTextExcept } from '../../core/redact.js';
import type { OdError } from '../../core/errors.js';
import { DeclinedError } from '../../core/consent.js';
import { errorAllowList, type LogEvent, type Reporter } from '../../core/reporter.js';
import type { Streams } from './json.js';
import { bar, isByteProgress, Throttle, TransferMeters } from './progress.js';

type OraFactory = (typeof import('ora'))['default'];
let oraFactory: OraFactory | undefined;
let oraLoading: Promise<void> | undefined;

/**
 * ora and its dependencies cost about 70 ms of start-up to import, and most runs (CI, pipes, --json)
 * never show a spinner: it is imported only when one may be shown, while the command gets going.
 * A stage that starts before it arrives is simply shown without animation.
 */
function preloadSpinner(): Promise<void> {
  oraLoading ??= import('ora').then(
    (module) => {
      oraFactory = module.default;
    },
    () => undefined,
  );
  return oraLoading;
}

export interface HumanOptions {
  color: boolean;
  spinner: boolean;
  quiet: boolean;
  verbose: boolean;
}

/**
 * Stage lines and spinners go to stderr so stdout carries only the final report (pipe-friendly).
 * The spinner is used only when stderr is a TTY; otherwise each finished stage is one plain line.
 */
export class HumanReporter implements Reporter {
  private readonly paint: typeof kleur;
  private spinner: Ora | undefined;
  /** A progress bar is drawn on the current stderr line (TTY only); cleared before any other output. */
  private barShown = false;
  private readonly barThrottle = new Throttle(100);
  private readonly meters = new TransferMeters();

  constructor(
    private readonly streams: Streams,
    private readonly options: HumanOptions,
  ) {
    kleur.enabled = options.color;
    this.paint = kleur;
    if (options.spinner) void preloadSpinner();
  }

  private clearBar(): void {
    if (!this.barShown) return;
    this.barShown = false;
    this.streams.stderr.write('\r\x1b[2K');
  }

  private err(line: string): void {
    this.clearBar();
    this.pauseSpinner(() => this.streams.stderr.write(`${scrubText(line)}\n`));
  }

  private pauseSpinner(write: () => void): void {
    if (this.spinner?.isSpinning) {
      const text = this.spinner.text;
      this.spinner.stop();
      write();
      this.spinner.start(text);
    } else {
      write();
    }
  }

  stageStart(_stage: string, text: string): void {
    if (!this.options.spinner || oraFactory === undefined) return;
    this.spinner?.stop();
    // discardStdin: false keeps the terminal out of raw mode, so Ctrl-C stays a real SIGINT from the
    // terminal (src/cli/interrupt.ts) instead of a byte ora has to notice on stdin.
    this.spinner = oraFactory({ text: scrubText(text), stream: process.stderr, color: 'cyan', discardStdin: false }).start();
  }

  private finishSpinner(): void {
    this.clearBar();
    if (this.spinner) {
      this.spinner.stop();
      this.spinner = undefined;
    }
  }

  stageDone(_stage: string, text: string): void {
    this.finishSpinner();
    if (this.options.quiet) return;
    this.err(`${this.paint.green('✔')} ${text}`);
  }

  stageSkip(_stage: string, text: string): void {
    this.finishSpinner();
    if (this.options.quiet) return;
    this.err(`${this.paint.dim('↷')} ${this.paint.dim(text)}`);
  }

  progress(stage: string, text: string, fields?: Record<string, unknown>): void {
    if (isByteProgress(fields)) {
      // Quiet and non-TTY (CI) runs get one line per stage (stageDone), never a line per chunk.
      if (this.options.quiet || !this.options.spinner) return;
      const final = fields.sent >= fields.total;
      if (!this.barThrottle.allow(stage, final)) return;
      // The bar replaces the spinner while bytes move: it is redrawn in place on stderr.
      this.finishSpinner();
      const percent = typeof fields.percent === 'number' ? fields.percent : 0;
      this.streams.stderr.write(`\r\x1b[2K${this.paint.cyan(bar(percent))} ${scrubText(text)}`);
      this.barShown = true;
      return;
    }
    if (this.spinner?.isSpinning) {
      this.spinner.text = scrubText(text);
      return;
    }
    if (!this.options.quiet) this.err(`  ${this.paint.dim(text)}`);
  }

  transfer(stage: string, verb: string, sent: number, total: number): void {
    const { text, fields } = this.meters.update(stage, verb, sent, total);
    this.progress(stage, text, fields);
  }

  log(event: LogEvent): void {
    if (this.options.quiet) return;
    const stamp = event.timestamp ? `${this.paint.dim(event.timestamp)} ` : '';
    this.err(`  ${stamp}${event.message}`);
  }

  warn(message: string): void {
    this.err(`${this.paint.yellow('!')} ${message}`);
  }

  warning(_code: string, message: string): void {
    this.warn(message);
  }

  info(message: string): void {
    if (!this.options.quiet) this.err(message);
  }

  debug(message: string): void {
    if (this.options.verbose) this.err(this.paint.dim(`debug: ${message}`));
  }

  result(_data: Record<string, unknown>, human: string[], allowed: string[] = []): void {
    this.finishSpinner();
    for (const line of human) this.streams.stdout.write(`${scrubTextExcept(line, allowed)}\n`);
  }

  document(_data: unknown, human: string[], allowed: string[] = []): void {
    this.finishSpinner();
    for (const line of human) this.streams.stdout.write(`${scrubTextExcept(line, allowed)}\n`);
  }

  error(error: OdError): void {
    this.clearBar();
    if (error instanceof DeclinedError) {
      // A "no" at the prompt is the person's choice: plain lines saying what was left as it was.
      this.finishSpinner();
      const allowed = errorAllowList(error);
      const write = (line: string): void => void this.streams.stderr.write(`${scrubTextExcept(line, allowed)}\n`);
      write(error.message);
      write(`  Not done: ${error.notDone}.`);
      write(`  ${this.paint.bold('→')} ${error.nextAction}`);
      return;
    }
    if (this.spinner) {
      this.spinner.fail();
      this.spinner = undefined;
    }
    const allowed = errorAllowList(error);
    const write = (line: string): void => this.pauseSpinner(() => this.streams.stderr.write(`${scrubTextExcept(line, allowed)}\n`));
    write(`${this.paint.red('✖')} ${error.message}`);
    if (error.nextAction) write(`  ${this.paint.bold('→')} ${error.nextAction}`);
    if (this.options.verbose && error.stack) this.err(this.paint.dim(error.stack));
  }

  close(): void {
    this.finishSpinner();
  }
}
