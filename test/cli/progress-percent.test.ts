import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { cleanupTempDirs, copyFixture, tempDir } from '../helpers/tmp.js';
import { patToken } from '../helpers/tokens.js';

/**
 * While a deployment runs, the line a person reads and the `progress` event a program reads give the
 * same percent: the deployment's overall one (a simulated build reports a different build-step
 * percent at the same time, e.g. overall 30% while the build step is at 20%).
 */

let gw: TestGateway;
let home: string;

beforeAll(async () => {
  // Slow enough that the watcher (polling every 250 ms on a loopback gateway) sees the building steps.
  gw = await startTestGateway({ buildDurationMs: 3000 });
  home = await tempDir('od-home-');
});

afterAll(async () => {
  await gw?.close();
  await cleanupTempDirs();
});

function env(): Record<string, string> {
  return { OD_GATEWAY: gw.url, OPENDEPLOY_HOME: home, OPENDEPLOY_TOKEN: patToken() };
}

const WATCH_LINE = /^(Pending|Analyzing|Building|Deploying|Success) (\d+)%$/;

describe('deployment progress', () => {
  it('--json: each progress event says in words the percent its `progress` field carries', async () => {
    const run = await runCli(['deploy', '--json'], { cwd: await copyFixture('node-http'), env: env() });
    expect(run.code, run.stderr).toBe(0);
    const watch = run.events.filter((event) => event.stage === 'deploy.watch' && typeof event.progress === 'number') as { message: string; status: string; progress: number }[];
    expect(watch.some((event) => event.status === 'building')).toBe(true);
    for (const event of watch) {
      expect(event.message).toBe(`${event.status[0]!.toUpperCase()}${event.status.slice(1)} ${event.progress}%`);
    }
  });

  it('for people: the same words, the overall percent the gateway reports for each step', async () => {
    const run = await runCli(['deploy', '--name', 'progress-human'], { cwd: await copyFixture('node-http'), env: env() });
    expect(run.code, run.stderr).toBe(0);
    const shown = run.stderr
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => WATCH_LINE.test(line) || /^Build \d+%$/.test(line));
    expect(shown.some((line) => line.startsWith('Building '))).toBe(true);
    // The simulated timeline's overall percents (0 when created; its build-step percents are 0, 20, 40, 60, 80, 100).
    const overall: Record<string, number[]> = { Pending: [0, 10], Building: [20, 30, 40, 50, 60, 70], Deploying: [80, 85, 90, 95], Success: [100] };
    for (const line of shown) {
      const [, status, percent] = WATCH_LINE.exec(line) ?? [];
      expect(status, line).toBeDefined();
      expect(overall[status!], line).toContain(Number(percent));
    }
  });
});
