/** Upload progress: rate/ETA, the terminal bar (TTY only), one line per stage in CI, throttled JSON events. */
import { describe, expect, it } from 'vitest';
import { HumanReporter } from '../../src/cli/output/human.js';
import { JsonReporter } from '../../src/cli/output/json.js';
import { ProgressMeter, progressFields, progressText, Throttle } from '../../src/cli/output/progress.js';

function streams() {
  const out = { stdout: '', stderr: '' };
  return {
    out,
    streams: { stdout: { write: (c: string) => (out.stdout += c) }, stderr: { write: (c: string) => (out.stderr += c) } },
  };
}

const MiB = 1024 * 1024;

describe('progress meter', () => {
  it('reports bytes, percent, rate and time left', () => {
    let now = 0;
    const meter = new ProgressMeter(300 * MiB, () => now);
    meter.update(0);
    now = 2000;
    const p = meter.update(50 * MiB);
    expect(p).toEqual({ sent: 50 * MiB, total: 300 * MiB, percent: 16, rate: 25 * MiB, eta: 10 });
    expect(progressText('Uploading', p)).toBe('Uploading 50.0 MiB / 300.0 MiB (16%) · 25.0 MiB/s · 10s left');
    expect(progressFields(p)).toEqual({ sent: 50 * MiB, total: 300 * MiB, percent: 16, rate: 25 * MiB, eta_s: 10 });
  });

  it('throttle lets one event per interval through, and always the final one', () => {
    let now = 0;
    const throttle = new Throttle(250, () => now);
    const allowed: number[] = [];
    for (const [t, final] of [[0, false], [100, false], [200, false], [260, false], [300, true], [400, false], [560, false]] as const) {
      now = t;
      if (throttle.allow('upload', final)) allowed.push(t);
    }
    expect(allowed).toEqual([0, 260, 300, 560]);
  });
});

describe('reporters', () => {
  const fields = (sent: number) => ({ sent, total: 100, percent: sent, rate: 10, eta_s: (100 - sent) / 10 });

  it('JSON: ten thousand chunk updates in a burst give at most a few progress events, the last one included', () => {
    const { out, streams: s } = streams();
    const reporter = new JsonReporter(s, false);
    const started = performance.now();
    for (let i = 0; i <= 10_000; i++) reporter.progress('upload', `u ${i}`, { sent: i, total: 10_000 });
    const seconds = (performance.now() - started) / 1000;
    const events = out.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(events.length).toBeLessThanOrEqual(Math.ceil(seconds * 4) + 2);
    expect(events[0]).toEqual({ type: 'progress', stage: 'upload', message: 'u 0', sent: 0, total: 10_000 });
    expect(events.at(-1)).toEqual({ type: 'progress', stage: 'upload', message: 'u 10000', sent: 10_000, total: 10_000 });
    // Other progress (build status) is never throttled.
    reporter.progress('deploy.watch', 'building', { status: 'building' });
    reporter.progress('deploy.watch', 'deploying', { status: 'deploying' });
    expect(out.stdout.trim().split('\n').slice(-2).map((l) => (JSON.parse(l) as { status: string }).status)).toEqual(['building', 'deploying']);
  });

  it('human on a TTY: a bar redrawn in place, cleared before the stage line', () => {
    const { out, streams: s } = streams();
    const reporter = new HumanReporter(s, { color: false, spinner: true, quiet: false, verbose: false });
    reporter.progress('upload', 'Uploading 40 B / 100 B (40%)', fields(40));
    expect(out.stderr).toBe('\r\x1b[2K[██████████░░░░░░░░░░░░░░] Uploading 40 B / 100 B (40%)');
    reporter.stageDone('upload', 'Uploaded 100 B in parts');
    expect(out.stderr.endsWith('\r\x1b[2K✔ Uploaded 100 B in parts\n')).toBe(true);
  });

  it('human in CI (no TTY) and quiet: no per-chunk lines, one line per stage', () => {
    for (const quiet of [false, true]) {
      const { out, streams: s } = streams();
      const reporter = new HumanReporter(s, { color: false, spinner: false, quiet, verbose: false });
      for (let i = 0; i <= 100; i += 5) reporter.progress('upload', `Uploading ${i}%`, fields(i));
      reporter.stageDone('upload', 'Uploaded 100 B in parts');
      expect(out.stderr).toBe(quiet ? '' : '✔ Uploaded 100 B in parts\n');
    }
  });
});
