/**
 * Byte progress for long stages (archive, upload): how much, what percent, how fast and how long
 * is left — computed once here so the terminal bar and the JSON events agree.
 */
import { formatBytes, formatDuration } from '../../core/text.js';

export { formatBytes, formatDuration };

export interface ProgressSnapshot {
  sent: number;
  total: number;
  percent: number;
  /** Bytes per second over the recent window (0 until there is a measurement). */
  rate: number;
  /** Seconds left at that rate; undefined while the rate is unknown. */
  eta?: number;
}

/** Keeps a short window of samples so the rate follows the current speed, not the average since start. */
export class ProgressMeter {
  private readonly samples: Array<{ t: number; bytes: number }> = [];

  constructor(
    private readonly total: number,
    private readonly now: () => number = () => performance.now(),
    private readonly windowMs = 5000,
  ) {}

  update(sent: number): ProgressSnapshot {
    const t = this.now();
    this.samples.push({ t, bytes: sent });
    while (this.samples.length > 2 && t - this.samples[0]!.t > this.windowMs) this.samples.shift();
    const first = this.samples[0]!;
    const dt = (t - first.t) / 1000;
    const rate = dt > 0.2 ? Math.max(0, (sent - first.bytes) / dt) : 0;
    const percent = this.total > 0 ? Math.min(100, Math.floor((sent / this.total) * 100)) : 100;
    const snapshot: ProgressSnapshot = { sent, total: this.total, percent, rate: Math.round(rate) };
    if (rate > 0) snapshot.eta = Math.max(0, Math.round((this.total - sent) / rate));
    return snapshot;
  }
}

/** `Uploading 120.0 MiB / 300.0 MiB (40%) · 25.3 MiB/s · 7s left` */
export function progressText(verb: string, p: ProgressSnapshot): string {
  const parts = [`${verb} ${formatBytes(p.sent)} / ${formatBytes(p.total)} (${p.percent}%)`];
  if (p.rate > 0) parts.push(`${formatBytes(p.rate)}/s`);
  if (p.eta !== undefined && p.sent < p.total) parts.push(`${formatDuration(p.eta)} left`);
  return parts.join(' · ');
}

/** The fields of a JSON `progress` event (and what the human reporter draws its bar from). */
export function progressFields(p: ProgressSnapshot): Record<string, unknown> {
  return { sent: p.sent, total: p.total, percent: p.percent, rate: p.rate, ...(p.eta !== undefined ? { eta_s: p.eta } : {}) };
}

/** True when `progress` fields describe bytes (so they get a bar / are throttled). */
export function isByteProgress(fields: Record<string, unknown> | undefined): fields is { sent: number; total: number } & Record<string, unknown> {
  return fields !== undefined && typeof fields.sent === 'number' && typeof fields.total === 'number';
}

/** `[██████░░░░░░]` of `width` cells. */
export function bar(percent: number, width = 24): string {
  const filled = Math.max(0, Math.min(width, Math.round((percent / 100) * width)));
  return `[${'█'.repeat(filled)}${'░'.repeat(width - filled)}]`;
}

/**
 * At most one event per `intervalMs` per stage, but the last one (sent === total) always passes:
 * a program reading `--json` gets a few events per second, never one per network chunk.
 */
export class Throttle {
  private readonly last = new Map<string, number>();

  constructor(
    private readonly intervalMs = 250,
    private readonly now: () => number = () => performance.now(),
  ) {}

  allow(key: string, final: boolean): boolean {
    const t = this.now();
    const previous = this.last.get(key);
    if (!final && previous !== undefined && t - previous < this.intervalMs) return false;
    this.last.set(key, t);
    return true;
  }
}

/**
 * One meter per stage for `Reporter.transfer`: a stage that starts over (a smaller count, or a new
 * total) gets a fresh meter, so the rate never mixes two transfers.
 */
export class TransferMeters {
  private readonly meters = new Map<string, { meter: ProgressMeter; total: number; last: number }>();

  constructor(private readonly now: () => number = () => performance.now()) {}

  update(stage: string, verb: string, sent: number, total: number): { text: string; fields: Record<string, unknown> } {
    let entry = this.meters.get(stage);
    if (!entry || entry.total !== total || sent < entry.last) {
      entry = { meter: new ProgressMeter(total, this.now), total, last: sent };
      this.meters.set(stage, entry);
    }
    entry.last = sent;
    const p = entry.meter.update(sent);
    return { text: progressText(verb, p), fields: progressFields(p) };
  }
}
