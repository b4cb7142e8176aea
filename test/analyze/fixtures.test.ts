/**
 * Golden tests: every fixture app's WHOLE analysis equals its committed fixtures/expected/<name>.json.
 * The fixture is analyzed from a temp copy (same folder name, without the golden itself) with the
 * cwd set to that copy, so `root` is "."; the archive field is the default (the archive module is
 * tested on its own).
 *
 * To regenerate after an intended change: UPDATE_GOLDENS=1 npx vitest run test/analyze/fixtures
 * and review the diff.
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { analyzeProject } from '../../src/analyze/index.js';
import { AnalysisSchema, type Analysis } from '../../src/analyze/schema.js';
import { FIXTURES, copyFixture, goldenPath } from './helpers.js';

const REQUIRED_FIXTURES = [
  'remix-app',
  'node-http',
  'express-app',
  'fastify-app',
  'nextjs-app',
  'vite-react',
  'python-http',
  'flask-app',
  'fastapi-app',
  'django-postgres',
  'static-site',
  'refusal-miner',
  'refusal-no-entry',
  // JS/TS frameworks and the service split
  'nuxt-app',
  'astro-node',
  'sveltekit-node',
  'react-router-app',
  'nestjs-app',
  'hono-node',
  'koa-app',
  'bun-app',
  'deno-app',
  'monorepo-pnpm-turbo',
  'monorepo-npm-workspaces',
  'compose-postgres-redis',
  'procfile-worker',
  'dockerfile-multi-expose',
  'env-example-app',
  'ai-sdk-app',
  // Backend frameworks, backend workspaces and database engines
  'rails-app',
  'sinatra-app',
  'phoenix-app',
  'laravel-app',
  'symfony-app',
  'spring-boot-maven',
  'spring-boot-gradle-kotlin',
  'aspnet-app',
  'go-nethttp',
  'go-gin',
  'go-echo',
  'go-fiber',
  'rust-actix',
  'rust-axum',
  'rust-rocket',
  'cargo-workspace',
  'uv-workspace',
  'mongo-app',
  'mysql-app',
  'clickhouse-app',
  'python-worker',
];

const fixtureNames = readdirSync(FIXTURES, { withFileTypes: true })
  .filter((entry) => entry.isDirectory())
  .map((entry) => entry.name)
  .sort();

const cleanups: Array<() => Promise<void>> = [];
afterAll(async () => {
  await Promise.all(cleanups.map((cleanup) => cleanup()));
});

async function analyzeFixture(name: string): Promise<Analysis> {
  const copy = await copyFixture(name);
  cleanups.push(copy.cleanup);
  return analyzeProject(copy.dir, { cwd: copy.dir });
}

describe('fixture apps', () => {
  it('include every required fixture, each with a golden file', () => {
    for (const name of REQUIRED_FIXTURES) expect(fixtureNames).toContain(name);
    for (const name of fixtureNames) expect(existsSync(goldenPath(name)), goldenPath(name)).toBe(true);
  });

  for (const name of fixtureNames) {
    it(`${name}: whole analysis equals the golden`, async () => {
      const analysis = await analyzeFixture(name);
      const file = goldenPath(name);
      if (process.env.UPDATE_GOLDENS === '1') writeFileSync(file, `${JSON.stringify(analysis, null, 2)}\n`);
      const golden: unknown = JSON.parse(readFileSync(file, 'utf8'));
      expect(analysis).toEqual(golden);
    });

    it(`${name}: output and golden validate against the schema`, async () => {
      const analysis = await analyzeFixture(name);
      expect(AnalysisSchema.safeParse(analysis).success).toBe(true);
      const golden: unknown = JSON.parse(readFileSync(goldenPath(name), 'utf8'));
      const parsed = AnalysisSchema.safeParse(golden);
      expect(parsed.success, parsed.success ? '' : parsed.error.message).toBe(true);
    });
  }

  it('is deterministic: two runs give the same result', async () => {
    const first = await analyzeFixture('express-app');
    const second = await analyzeFixture('express-app');
    expect(second).toEqual(first);
  });
});
