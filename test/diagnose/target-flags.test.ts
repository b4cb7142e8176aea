import { describe, expect, it } from 'vitest';
import type { Command } from 'commander';
import { buildProgram } from '../../src/cli/program.js';
import { matchPlaybook, PLAYBOOK, type PlaybookFacts, type PlaybookMatch } from '../../src/diagnose/playbook.js';
import { runtime } from '../helpers/playbook-facts.js';
import { diagnoseFailure } from '../../src/diagnose/failure.js';
import { diagnoseDeployment } from '../../src/diagnose/triage.js';
import { commandWriter, targetFlags } from '../../src/core/target-flags.js';
import type { Deployment } from '../../src/gateway/index.js';

/**
 * The diagnosis writes every `opendeploy …` command with the flags that reached the diagnosed
 * service. Two properties, over one sample per playbook row and variant:
 * - with the flags, a diagnosis is the one without them with the flags after every command (what
 *   the CLI used to get by rewriting the printed text afterwards), and nothing else changes;
 * - each such command parses with the real program, and its options name that same target.
 */

const TARGET = { project: 'prj_1', service: 'web', env: 'staging', gateway: 'http://127.0.0.1:4000/api', authFile: '/tmp/a.json', local: true, dataDir: '/tmp/od data' };
const FLAGS = targetFlags(TARGET);
const SUFFIX = " --project prj_1 --service web --env staging --gateway http://127.0.0.1:4000/api --auth-file /tmp/a.json --local --data-dir '/tmp/od data'";

/** The old afterwards-rewrite, kept here as the reference: the flags after every quoted command. */
function withSuffix(text: string): string {
  return text.replace(/`(opendeploy(?: [^`]*)?)`/g, (_quoted, command: string) => `\`${command}${SUFFIX}\``);
}

/** One sample per playbook row and per variant that prints a different command. */
const SAMPLES: { facts: PlaybookFacts; lines: string[] }[] = [
  { facts: { status: 'failed', progress: 10, error_msg: 'Service failed to deploy' }, lines: [] }, // D1
  { facts: { status: 'cancelled' }, lines: [] }, // cancelled
  { facts: runtime({ bound: false }), lines: ['403 agent_quota_exceeded field=memory_limit requested=2Gi limit=1Gi'] }, // B1
  { facts: runtime({ bound: false }), lines: ['quota exceeded'] }, // B1 unnamed
  { facts: runtime({ bound: false }), lines: ['JavaScript heap out of memory'] }, // OOM capped
  { facts: runtime(), lines: ['error: relation "users" does not exist'] }, // F15
  { facts: runtime({ dependencies: undefined }), lines: ['Error: Missing required environment variable: DATABASE_URL'] }, // G17 + db hint
  { facts: runtime({ dependencies: [] }), lines: ['Error: Missing required environment variable: DATABASE_URL'] }, // G17 + db add
  { facts: runtime(), lines: ['Error: environment variable PORT is required and must be valid'] }, // F13
  { facts: runtime(), lines: ['Invalid environment variables'] }, // G17 without a name
  { facts: runtime({ missingRequired: ['JWT_SECRET', 'SESSION_SECRET'] }), lines: ['Back-off restarting failed container'] }, // G17 from the analysis
  { facts: runtime({ missingRequired: ['JWT_SECRET'] }), lines: ['OOMKilled'] }, // missing named first
  { facts: runtime({ missingRequired: ['API_KEY'] }), lines: ['Error: Missing required environment variable: STRIPE_KEY'] }, // G17 logged + analysis
  { facts: runtime({ dependencies: [{ engine: 'postgres', id: 'd1', status: 'provisioning' }] }), lines: ['connect ECONNREFUSED 10.0.0.1:5432'] }, // G2
  { facts: runtime(), lines: ['connect ECONNREFUSED 10.0.0.1:27017'] }, // G3
  { facts: runtime({ dependencies: [{ engine: 'postgres', id: 'd1', status: 'running' }] }), lines: ['connect ECONNREFUSED 10.0.0.1:5432'] }, // G4
  { facts: runtime({ dependencies: [{ engine: 'postgres', id: 'd1', status: 'running' }] }), lines: ['the database system is starting up'] }, // G2 starting
  { facts: runtime({ service: { port: 8080, portEnv: null } }), lines: ['listening on port 3000', 'Readiness probe failed'] }, // F1 PORT not set
  { facts: runtime({ service: { port: 8080, portEnv: '3000' } }), lines: ['listening on port 3000', 'Readiness probe failed'] }, // F1 PORT wrong
  { facts: runtime({ service: { port: 8080, portEnv: '9090' } }), lines: ['Readiness probe failed'] }, // F1 no listen line
  { facts: runtime(), lines: ['nginx listening on port 80', 'Readiness probe failed'] }, // F2
  { facts: runtime({ service: { port: 80, portEnv: '80' } }), lines: ['listening on port 3000', 'Readiness probe failed'] }, // F3
  { facts: runtime({ service: { port: 8080, portEnv: '8080' } }), lines: ['listening on port 3000', 'Readiness probe failed'] }, // F4
  { facts: { status: 'failed', lastPhase: 'building', service: { buildCommand: 'npm run build' } }, lines: ['npm ERR! missing script: build'] }, // E1
  { facts: { status: 'failed', lastPhase: 'building' }, lines: ['Could not install pnpm 9.1.0 (packageManager) from the npm registry: 404 Not Found'] }, // PM1
  { facts: runtime(), lines: ["Error: Cannot find module 'express'"] }, // F9
  { facts: runtime(), lines: ['Failed to pull image: manifest unknown'] }, // E6
  { facts: runtime(), lines: ['Traceback (most recent call last):', 'ValueError: bad'] }, // F6
  { facts: runtime(), lines: ['something odd happened'] }, // unknown
  { facts: runtime({ dependencies: [{ engine: 'redis', id: 'r1', status: 'failed' }] }), lines: ['step 1'] }, // fallback G2
];

/** Every `opendeploy …` a match prints: the fix command and each one its next action quotes. */
function commandsOf(match: Pick<PlaybookMatch, 'fixCommand' | 'nextAction'>): string[] {
  const quoted = [...match.nextAction.matchAll(/`(opendeploy[^`]*)`/g)].map((m) => m[1]!);
  return [...new Set([...(match.fixCommand ? [match.fixCommand] : []), ...quoted])];
}

/** argv of a printed command: words split on spaces, single-quoted words as `shellQuote` writes them. */
function argvOf(command: string): string[] {
  return [...command.matchAll(/'((?:[^']|'\\'')*)'|(\S+)/g)].map((m) => (m[1] !== undefined ? m[1].replace(/'\\''/g, "'") : m[2]!)).slice(1);
}

function recordAll(command: Command, record: (options: Record<string, unknown>, name: string) => void): void {
  for (const sub of command.commands) {
    sub.action((...received: unknown[]) => {
      const self = received[received.length - 1] as Command;
      record(self.optsWithGlobals(), self.name());
    });
    recordAll(sub, record);
  }
}

/** The options the real program parses from a command line (every action replaced by a recorder). */
async function parsedOptions(line: string): Promise<Record<string, unknown>> {
  const io = { env: {}, cwd: process.cwd(), streams: { stdout: { write: () => true }, stderr: { write: () => true } }, stdinIsTTY: false, stderrIsTTY: false };
  const program = await buildProgram(io, () => undefined);
  let options: Record<string, unknown> | undefined;
  recordAll(program, (parsed) => {
    options = parsed;
  });
  await program.parseAsync(argvOf(line), { from: 'user' });
  if (!options) throw new Error(`${line}: no command ran`);
  return options;
}

describe('the diagnosis writes its commands with the target flags', () => {
  const pairs = SAMPLES.map((sample) => ({
    plain: matchPlaybook(sample.facts, sample.lines, { unknownTail: 20 }),
    targeted: matchPlaybook(sample.facts, sample.lines, { unknownTail: 20, targetFlags: FLAGS }),
  }));

  it('the samples cover every row of the playbook', () => {
    const ids = new Set(pairs.map((pair) => pair.plain.id));
    for (const rule of PLAYBOOK) expect(ids.has(rule.id), rule.id).toBe(true);
    for (const id of ['D1', 'F2', 'F3', 'F4', 'F13', 'G3', 'G4', null]) expect(ids.has(id), String(id)).toBe(true);
  });

  it('with the flags: the same diagnosis, each command followed by the flags, nothing else changed', () => {
    for (const { plain, targeted } of pairs) {
      expect(targeted).toEqual({
        ...plain,
        fixCommand: plain.fixCommand === null ? null : `${plain.fixCommand}${SUFFIX}`,
        nextAction: withSuffix(plain.nextAction),
      });
    }
  });

  it('an exact example: the build failure (E1) in a local data folder whose path has a space', () => {
    const match = matchPlaybook({ status: 'failed', lastPhase: 'building' }, ['npm ERR! missing script: build'], { targetFlags: ['--local', '--data-dir', '/tmp/od data'] });
    expect(match.fixCommand).toBe("opendeploy redeploy --source . --local --data-dir '/tmp/od data'");
    expect(match.nextAction).toBe("Run the build locally, fix the error quoted above, then run `opendeploy redeploy --source . --local --data-dir '/tmp/od data'`.");
  });

  const lines = [...new Set(pairs.flatMap((pair) => commandsOf(pair.targeted)))].sort();

  it('found the commands, each with the flags', () => {
    expect(lines.length).toBe(20);
    for (const line of lines) expect(line.endsWith(SUFFIX), line).toBe(true);
  });

  for (const line of lines) {
    it(`parses and names the same target: ${line.slice(0, line.length - SUFFIX.length)} …`, async () => {
      expect(await parsedOptions(line)).toMatchObject(TARGET);
    });
  }

  it('the deploy failure summary takes the flags too', () => {
    const diagnosis = diagnoseFailure(runtime(), ['OOMKilled'], { targetFlags: ['--project', 'prj_1'] });
    expect(diagnosis.fixCommand).toBe('opendeploy resize --memory 2Gi --project prj_1');
    expect(diagnosis.nextAction).toBe(
      'Give it more memory with `opendeploy resize --memory 2Gi --project prj_1` (or reduce its memory use), then run `opendeploy redeploy --project prj_1` if it does not recover by itself.',
    );
  });
});

describe("triage's own next actions carry the flags", () => {
  const deployment = (status: string): Deployment => ({ id: 'dep_1', status, progress: 40 }) as Deployment;
  const flags = { targetFlags: ['--service', 'api', '--env', 'staging'] };

  it('still running: follow it with the logs command of that target', () => {
    expect(diagnoseDeployment(deployment('building'), [], undefined, flags).report.next_action).toBe(
      'Follow it with `opendeploy logs dep_1 --follow --service api --env staging`, then triage it if it fails.',
    );
  });

  it('healthy: the status command of that target', () => {
    expect(diagnoseDeployment(deployment('success'), [], runtime(), flags).report.next_action).toBe('Nothing to fix; `opendeploy status --service api --env staging` shows the live URL.');
    expect(diagnoseDeployment(deployment('rolled_back'), [], runtime(), flags).report.next_action).toBe(
      'Nothing to fix; `opendeploy status --service api --env staging` shows the current release.',
    );
  });

  it('unknown: the logs command of that target', () => {
    const { report, known } = diagnoseDeployment(deployment('failed'), ['odd'], runtime(), flags);
    expect(known).toBe(false);
    expect(report.fix_command).toBeNull();
    expect(report.next_action).toBe('No playbook row matches. Read the last 1 log lines above; `opendeploy logs dep_1 --tail 300 --service api --env staging` shows more.');
  });

  it('without flags, the commands are the plain ones', () => {
    expect(diagnoseDeployment(deployment('success'), [], runtime()).report.next_action).toBe('Nothing to fix; `opendeploy status` shows the live URL.');
    expect(commandWriter()('redeploy')).toBe('opendeploy redeploy');
    expect(commandWriter(['--local'])()).toBe('opendeploy --local');
  });
});
