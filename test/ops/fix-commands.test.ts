import { describe, expect, it } from 'vitest';
import type { Command } from 'commander';
import { buildProgram } from '../../src/cli/program.js';
import { matchPlaybook, PLAYBOOK, type PlaybookFacts, type PlaybookMatch } from '../../src/diagnose/playbook.js';
import { runtime } from '../helpers/playbook-facts.js';
import { missingVarsWarning } from '../../src/deploy/stages/required.js';
import { resizeBody } from '../../src/ops/quantity.js';
import { parseEngine } from '../../src/ops/db.js';
import { assertEnvKey } from '../../src/ops/dotenv.js';

/**
 * Every command the failure playbook (and the deploy's missing-variables warning) tells a user to
 * run must be one the CLI accepts: each is parsed by the real commander program, with every action
 * replaced by a recorder so nothing runs, and its values checked by the same validators the
 * command uses.
 */

interface Parsed {
  /** `env set`, `resize`, `deploy`, … */
  command: string;
  args: string[];
  options: Record<string, unknown>;
}

function fullName(command: Command): string {
  const names: string[] = [];
  for (let c: Command | null = command; c?.parent; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}

function recordAll(command: Command, record: (parsed: Parsed) => void): void {
  for (const sub of command.commands) {
    sub.action((...received: unknown[]) => {
      const self = received[received.length - 1] as Command;
      record({ command: fullName(self), args: self.processedArgs.flat().filter((a): a is string => typeof a === 'string'), options: self.optsWithGlobals() });
    });
    recordAll(sub, record);
  }
}

async function parse(line: string): Promise<Parsed> {
  expect(line, 'a fix command is one plain command line').toMatch(/^opendeploy( [^\s'"`$;&|]+)*$/);
  const io = { env: {}, cwd: process.cwd(), streams: { stdout: { write: () => true }, stderr: { write: () => true } }, stdinIsTTY: false, stderrIsTTY: false };
  const program = await buildProgram(io, () => undefined);
  let parsed: Parsed | undefined;
  recordAll(program, (p) => {
    parsed = p;
  });
  const argv = line.split(' ').slice(1);
  await program.parseAsync(argv, { from: 'user' });
  if (!parsed) throw new Error(`${line}: no command ran`);
  // `deploy` is the default command, so a misspelt command would be taken for a folder to deploy.
  if (parsed.command === 'deploy' && argv[0] !== 'deploy') {
    for (const arg of parsed.args) expect(arg, `${line}: "${arg}" is not a command`).toMatch(/^[./~]/);
  }
  return parsed;
}

/** The values too: the validators the commands themselves run. */
function validate(line: string, parsed: Parsed): void {
  if (parsed.command === 'resize') {
    const { cpu, memory, replicas } = parsed.options as { cpu?: string; memory?: string; replicas?: string };
    expect(() => resizeBody({ ...(cpu ? { cpu } : {}), ...(memory ? { memory } : {}), ...(replicas ? { replicas } : {}) }), line).not.toThrow();
  }
  if (parsed.command === 'db add') expect(() => parseEngine(parsed.args[0] ?? ''), line).not.toThrow();
  if (parsed.command === 'env set') {
    for (const assignment of parsed.args) {
      const [key, value] = assignment.split('=');
      // `...` is the placeholder for a secret; anything else is the literal value to set.
      expect(value, `${line}: ${assignment} has a value`).toMatch(/^(?:\.\.\.|[\w.:/-]+)$/);
      expect(() => assertEnvKey(key ?? ''), line).not.toThrow();
    }
  }
  if (parsed.command === 'redeploy' && parsed.options.source !== undefined) expect(parsed.options.source).toBe('.');
}

/** The commands a match prints: its fix command and every `opendeploy …` quoted in the next action. */
function commandsOf(match: Pick<PlaybookMatch, 'fixCommand' | 'nextAction'>): string[] {
  const quoted = [...match.nextAction.matchAll(/`(opendeploy[^`]*)`/g)].map((m) => m[1]!);
  return [...new Set([...(match.fixCommand ? [match.fixCommand] : []), ...quoted])];
}

/** One sample per playbook row and per variant a row resolves to (ids in comments). */
const SAMPLES: { facts: PlaybookFacts; lines: string[] }[] = [
  { facts: { status: 'failed', progress: 10, error_msg: 'Service failed to deploy' }, lines: [] }, // D1
  { facts: { status: 'cancelled' }, lines: [] }, // cancelled
  { facts: runtime({ bound: false }), lines: ['403 agent_quota_exceeded field=memory_limit requested=2Gi limit=1Gi'] }, // B1 memory
  { facts: runtime(), lines: ['403 agent_quota_exceeded field=memory_limit requested=4G limit=2G'] }, // B1 memory, decimal unit
  { facts: runtime(), lines: ['403 agent_quota_exceeded field=memory_limit requested=4294967296 limit=1073741824'] }, // B1 bytes: no exact command
  { facts: runtime(), lines: ['exceeded quota: guest-claims, requested: limits.cpu=2, used: limits.cpu=0, limited: limits.cpu=1'] }, // B1 cpu
  { facts: runtime(), lines: ['403 agent_quota_exceeded field=cpu_limit requested=2 limit=500m'] }, // B1 millicores
  { facts: runtime(), lines: ['403 agent_quota_exceeded field=replicas requested=3 limit=1'] }, // B1 replicas
  { facts: runtime(), lines: ['quota exceeded'] }, // B1 unnamed
  { facts: runtime(), lines: ['OOMKilled'] }, // OOM
  { facts: runtime({ bound: false }), lines: ['JavaScript heap out of memory'] }, // OOM capped
  { facts: runtime({ service: { memoryLimit: '4Gi' } }), lines: ['OOMKilled'] }, // OOM large
  { facts: runtime(), lines: ['error: relation "users" does not exist'] }, // F15
  { facts: runtime(), lines: ['Error: Missing required environment variable: STRIPE_SECRET_KEY'] }, // G17
  { facts: runtime(), lines: ['Error: environment variable PORT is required and must be valid'] }, // F13
  { facts: runtime(), lines: ['Invalid environment variables'] }, // G17 without a name
  { facts: runtime({ missingRequired: ['JWT_SECRET', 'SESSION_SECRET'] }), lines: ['Back-off restarting failed container'] }, // G17 from the analysis
  { facts: runtime({ missingRequired: ['JWT_SECRET'] }), lines: ['OOMKilled'] }, // OOM, missing named first
  { facts: runtime({ dependencies: [{ engine: 'postgres', id: 'd1', status: 'provisioning' }] }), lines: ['connect ECONNREFUSED 10.0.0.1:5432'] }, // G2
  { facts: runtime(), lines: ['connect ECONNREFUSED 10.0.0.1:27017'] }, // G3 mongodb
  { facts: runtime(), lines: ['Redis connection to db:6379 failed'] }, // G3 redis
  { facts: runtime(), lines: ["Can't connect to MySQL server on 'db'"] }, // G3 mysql
  { facts: runtime({ dependencies: [{ engine: 'postgres', id: 'd1', status: 'running' }] }), lines: ['connect ECONNREFUSED 10.0.0.1:5432'] }, // G4
  { facts: runtime({ dependencies: [{ engine: 'postgres', id: 'd1', status: 'running' }] }), lines: ['the database system is starting up'] }, // G2 starting
  { facts: runtime({ service: { port: 8080, portEnv: null } }), lines: ['listening on port 3000', 'Readiness probe failed'] }, // F1 PORT not set
  { facts: runtime({ service: { port: 8080, portEnv: '3000' } }), lines: ['listening on port 3000', 'Readiness probe failed'] }, // F1 PORT wrong
  { facts: runtime({ service: { port: 8080, portEnv: '5000' } }), lines: ['listening on port 3000', 'Readiness probe failed'] }, // F4 hard-coded
  { facts: runtime({ service: { port: 8080, portEnv: '9090' } }), lines: ['Readiness probe failed'] }, // F1 no listen line
  { facts: runtime(), lines: ['nginx listening on port 80', 'Readiness probe failed'] }, // F2
  { facts: runtime({ service: { port: 80, portEnv: '80' } }), lines: ['listening on port 3000', 'Readiness probe failed'] }, // F3
  { facts: runtime({ service: { port: 8080, portEnv: '8080' } }), lines: ['listening on port 3000', 'Readiness probe failed'] }, // F4
  { facts: { status: 'failed', lastPhase: 'building', service: { buildCommand: 'npm run build' } }, lines: ['npm ERR! missing script: build'] }, // E1
  { facts: { status: 'failed', lastPhase: 'building' }, lines: ['Could not install pnpm 9.1.0 (packageManager) from the npm registry: 404 Not Found'] }, // PM1
  { facts: runtime(), lines: ["Error: Cannot find module 'express'"] }, // F9
  { facts: runtime(), lines: ["Error: Cannot find module '/app/server.js'"] }, // F9 file
  { facts: runtime(), lines: ['Failed to pull image: manifest unknown'] }, // E6
  { facts: runtime(), lines: ['Traceback (most recent call last):', 'ValueError: bad'] }, // F6
  { facts: runtime(), lines: ['something odd happened'] }, // unknown
];

describe('every command the playbook prints parses with the real CLI', () => {
  const matches = SAMPLES.map((sample) => matchPlaybook(sample.facts, sample.lines));

  it('the samples cover every row of the table and every variant a row resolves to', () => {
    const ids = new Set(matches.map((m) => m.id));
    for (const rule of PLAYBOOK) expect(ids.has(rule.id), rule.id).toBe(true);
    for (const id of ['D1', 'F2', 'F3', 'F4', 'F13', 'G3', 'G4', null]) expect(ids.has(id), String(id)).toBe(true);
  });

  const lines = [...new Set(matches.flatMap(commandsOf))].sort();
  it('found the commands', () => {
    expect(lines).toContain('opendeploy resize --memory 2G');
    expect(lines).toContain('opendeploy env set JWT_SECRET=... SESSION_SECRET=...');
    expect(lines).toContain('opendeploy --vars-file <file>');
  });

  for (const line of lines) {
    it(line, async () => {
      validate(line, await parse(line));
    });
  }

  it('the missing-variables warning prints commands that parse (one service, and --service with several)', async () => {
    for (const message of [missingVarsWarning('web', ['API_KEY'], false), missingVarsWarning('web', ['API_KEY', 'JWT_SECRET'], true)]) {
      const quoted = [...message.matchAll(/`(opendeploy[^`]*)`/g)].map((m) => m[1]!);
      expect(quoted.length).toBe(3);
      for (const line of quoted) validate(line, await parse(line));
    }
  });

  it('the missing-variables warning carries the deploy target flags, and --service only once', () => {
    expect(missingVarsWarning('web', ['API_KEY'], true, ['--project', 'p-1', '--local', '--data-dir', '/srv/od dir'])).toBe(
      'web will start without a required variable: API_KEY (the analysis marks it required; the app will likely fail without it). ' +
        "Pass it in a dotenv file with `opendeploy --vars-file <file> --project p-1 --local --data-dir '/srv/od dir'`, or set it with " +
        "`opendeploy env set API_KEY=... --project p-1 --local --data-dir '/srv/od dir' --service web` and then `opendeploy redeploy --project p-1 --local --data-dir '/srv/od dir' --service web`.",
    );
    expect(missingVarsWarning('web', ['API_KEY'], true, ['--service', 'web'])).toContain('`opendeploy env set API_KEY=... --service web` and then `opendeploy redeploy --service web`');
  });

  it('the parser itself rejects what does not exist', async () => {
    await expect(parse('opendeploy resize --mem 2Gi')).rejects.toThrow(/unknown option/);
    await expect(parse('opendeploy db ad postgres')).rejects.toThrow();
    await expect(parse('opendeploy redeploi')).rejects.toThrow(/is not a command/);
    await expect(parse('opendeploy env set')).rejects.toThrow(/missing required argument/);
    expect(() => validate('opendeploy resize --memory 2', { command: 'resize', args: [], options: { memory: '2' } })).toThrow();
  });
});
