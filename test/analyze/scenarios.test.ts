/**
 * Rules of spec/analysis.md exercised on small hand-built projects: port priority, package
 * managers, precedence between runtimes, language-only detectors, env var rules, refusal markers.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { analyzeProject } from '../../src/analyze/index.js';
import type { Analysis, AnalyzedService } from '../../src/analyze/schema.js';
import { tempDir } from './helpers.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((cleanup) => cleanup()));
});

type Files = Record<string, string | Buffer>;

async function analyzeFiles(files: Files, name = 'project'): Promise<Analysis> {
  const { dir, cleanup } = await tempDir(name);
  cleanups.push(cleanup);
  await mkdir(dir, { recursive: true });
  for (const [rel, content] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(dir, rel)), { recursive: true });
    await writeFile(path.join(dir, rel), content);
  }
  return analyzeProject(dir, { cwd: dir });
}

async function service(files: Files): Promise<{ service: AnalyzedService; analysis: Analysis }> {
  const analysis = await analyzeFiles(files);
  expect(analysis.services).toHaveLength(1);
  return { service: analysis.services[0] as AnalyzedService, analysis };
}

const pkg = (value: Record<string, unknown>): string => JSON.stringify(value, null, 2);
const evidenceOf = (s: AnalyzedService, decision: string): string | undefined => s.evidence.find((e) => e.decision === decision)?.evidence;

describe('port priority', () => {
  const base: Files = {
    'package.json': pkg({ name: 'api', scripts: { start: 'node server.js' }, dependencies: { express: '^4.21.0' } }),
    'package-lock.json': pkg({ name: 'api', lockfileVersion: 3, requires: true, packages: {} }),
    'server.js': "const app = require('express')();\napp.listen(process.env.PORT || 4000);\n",
    Dockerfile: 'FROM node:20\nEXPOSE 22 8080\nCMD ["node", "server.js"]\n',
    'docker-compose.yml': 'services:\n  web:\n    build: .\n    ports:\n      - "9000:5000"\n  db:\n    image: postgres:16\n',
  };

  it('1. Dockerfile EXPOSE wins, and the HTTP port is chosen over SSH', async () => {
    const { service: s } = await service(base);
    expect(s.port).toBe(8080);
    expect(evidenceOf(s, 'port')).toBe('Dockerfile:2 EXPOSE 8080');
    expect(s.dockerfile).toBe('Dockerfile');
  });

  it('2. then compose ports (container side)', async () => {
    const { Dockerfile: _omit, ...files } = base;
    const { service: s } = await service(files);
    expect(s.port).toBe(5000);
    expect(evidenceOf(s, 'port')).toBe('docker-compose.yml: services.web.ports[0] "9000:5000"');
    expect(s.dependencies).toEqual(['postgres']);
  });

  it('3. then the code (PORT fallback)', async () => {
    const { Dockerfile: _d, 'docker-compose.yml': _c, ...files } = base;
    const { service: s } = await service(files);
    expect(s.port).toBe(4000);
    expect(evidenceOf(s, 'port')).toBe('server.js:2 PORT with fallback 4000');
  });

  it('4. then the framework default', async () => {
    const { Dockerfile: _d, 'docker-compose.yml': _c, ...files } = base;
    const { service: s } = await service({ ...files, 'server.js': "require('express')().listen(process.env.PORT);\n" });
    expect(s.port).toBe(3000);
    expect(evidenceOf(s, 'port')).toBe('Express-style Node default port 3000');
  });

  it('5. otherwise null with a warning, never a guess', async () => {
    const { service: s, analysis } = await service({
      'package.json': pkg({ name: 'plain', scripts: { start: 'node server.js' } }),
      'server.js': "require('node:http').createServer(() => {}).listen(process.env.PORT);\n",
    });
    expect(s.port).toBeNull();
    expect(analysis.warnings).toContain('no port found (no Dockerfile EXPOSE, compose port, listen call or framework default); set one before deploying');
  });

  it('several ports in code: the entry file wins, with a warning', async () => {
    const { service: s, analysis } = await service({
      'package.json': pkg({ name: 'two', scripts: { start: 'node server.js' } }),
      'server.js': "require('node:http').createServer(() => {}).listen(8081);\n",
      'admin.js': "require('node:http').createServer(() => {}).listen(9090);\n",
    });
    expect(s.port).toBe(8081);
    expect(analysis.warnings).toContain('the code mentions several ports (8081 at server.js:1, 9090 at admin.js:1); 8081 was used');
  });
});

describe('package managers', () => {
  const deps = { dependencies: { express: '^4.21.0' } };

  it('yarn berry (packageManager yarn@4): immutable install', async () => {
    const { service: s } = await service({
      'package.json': pkg({ name: 'y', packageManager: 'yarn@4.5.3', scripts: { build: 'tsc', start: 'node dist/index.js' }, ...deps }),
      'yarn.lock': '__metadata:\n  version: 8\n',
    });
    expect([s.package_manager, s.package_manager_version, s.lockfile, s.dependency_resolution]).toEqual(['yarn', '4.5.3', 'yarn.lock', 'locked']);
    expect(s.scripts_build).toBe('yarn install --immutable && yarn run build');
    expect(s.scripts_start).toBe('yarn start');
    expect(s.entry_point).toBe('dist/index.js');
  });

  it('yarn classic (yarn.lock, no .yarnrc.yml): frozen lockfile', async () => {
    const { service: s } = await service({
      'package.json': pkg({ name: 'y1', scripts: { start: 'node index.js' }, ...deps }),
      'yarn.lock': '# yarn lockfile v1\n',
      'index.js': 'module.exports = {};\n',
    });
    expect(s.scripts_build).toBe('yarn install --frozen-lockfile');
  });

  it('bun (bun.lockb): bun commands', async () => {
    const { service: s } = await service({
      'package.json': pkg({ name: 'b', scripts: { start: 'bun run src/index.ts' }, ...deps }),
      'bun.lockb': Buffer.from([0x23, 0x21, 0x00, 0x01]),
    });
    expect([s.package_manager, s.lockfile, s.scripts_build, s.scripts_start, s.entry_point, s.language]).toEqual([
      'bun',
      'bun.lockb',
      'bun install --frozen-lockfile',
      'bun run start',
      'src/index.ts',
      'typescript',
    ]);
  });

  it('dependencies without a lockfile: unlocked, npm install, and a warning', async () => {
    const { service: s, analysis } = await service({
      'package.json': pkg({ name: 'u', scripts: { start: 'node index.js' }, ...deps }),
      'index.js': "require('express')().listen(3000);\n",
    });
    expect([s.dependency_resolution, s.lockfile, s.scripts_build]).toEqual(['unlocked', '', 'npm install']);
    expect(analysis.warnings).toContain(
      'no lockfile for package.json: clean cloud builds may resolve different dependency versions (run `npm install` and commit the lockfile)',
    );
  });

  it('packageManager disagrees with the lockfile: packageManager wins, with a warning', async () => {
    const { service: s, analysis } = await service({
      'package.json': pkg({ name: 'm', packageManager: 'pnpm@9.7.1+sha512.abc', scripts: { start: 'node index.js' }, ...deps }),
      'package-lock.json': '{}',
      'index.js': '',
    });
    expect([s.package_manager, s.package_manager_version, s.lockfile, s.dependency_resolution]).toEqual(['pnpm', '9.7.1', '', 'unlocked']);
    expect(analysis.warnings).toContain('package.json declares pnpm but package-lock.json is also present; pnpm was used');
  });

  it('unpinned requirements.txt: pip, unlocked, with the unpinned names', async () => {
    const { service: s, analysis } = await service({
      'requirements.txt': 'flask>=3\ngunicorn==23.0.0\n-r extra.txt\n',
      'extra.txt': 'requests\n',
      'app.py': 'from flask import Flask\napp = Flask(__name__)\n',
    });
    expect([s.package_manager, s.dependency_resolution, s.scripts_start]).toEqual(['pip', 'unlocked', 'gunicorn app:app --bind 0.0.0.0:$PORT']);
    expect(analysis.warnings).toContain(
      'requirements.txt has unpinned requirements (flask, requests): clean cloud builds may resolve different dependency versions',
    );
  });

  it('uv.lock: uv sync and commands run through uv', async () => {
    const { service: s } = await service({
      'pyproject.toml': '[project]\nname = "svc"\nrequires-python = ">=3.12"\ndependencies = ["fastapi", "uvicorn"]\n',
      'uv.lock': 'version = 1\n',
      'main.py': 'from fastapi import FastAPI\n\napi = FastAPI()\n',
    });
    expect([s.package_manager, s.lockfile, s.scripts_build, s.scripts_start]).toEqual([
      'uv',
      'uv.lock',
      'uv sync --frozen --no-dev',
      'uv run uvicorn main:api --host 0.0.0.0 --port $PORT',
    ]);
  });

  it('poetry: version from the lock header, poetry run prefix', async () => {
    const { service: s } = await service({
      'pyproject.toml': '[tool.poetry]\nname = "po"\n\n[tool.poetry.dependencies]\npython = "^3.11"\ndjango = "^5.0"\n',
      'poetry.lock': '# This file is automatically @generated by Poetry 1.8.3 and should not be changed by hand.\n',
      'manage.py': 'os.environ.setdefault("DJANGO_SETTINGS_MODULE", "po.settings")\n',
    });
    expect([s.package_manager, s.package_manager_version, s.language_version, s.framework]).toEqual(['poetry', '1.8.3', '^3.11', 'django']);
    expect(s.scripts_start).toBe('poetry run python manage.py migrate && poetry run python manage.py runserver 0.0.0.0:$PORT');
  });
});

describe('precedence', () => {
  it('a server that bundles with Vite is the server; Vite is the build tool', async () => {
    const { service: s } = await service({
      'package.json': pkg({ name: 'ssr', scripts: { build: 'vite build', start: 'node server.js' }, dependencies: { express: '^4' }, devDependencies: { vite: '^6' } }),
      'server.js': "require('express')().listen(process.env.PORT || 3000);\n",
    });
    expect([s.framework, s.build_tool, s.project_type]).toEqual(['express', 'vite', 'web']);
  });

  it('manage.py beats a package.json with Vite in the same folder', async () => {
    const { service: s, analysis } = await service({
      'manage.py': 'os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shop.settings")\n',
      'requirements.txt': 'django==5.1.4\ngunicorn==23.0.0\n',
      'shop/wsgi.py': 'application = None\n',
      'package.json': pkg({ name: 'assets', scripts: { build: 'vite build' }, devDependencies: { vite: '^6' } }),
    });
    expect([s.language, s.framework, s.build_tool, s.scripts_start, s.entry_point]).toEqual([
      'python',
      'django',
      'vite',
      'python manage.py migrate && gunicorn shop.wsgi --bind 0.0.0.0:$PORT',
      'shop/wsgi.py',
    ]);
    expect(analysis.warnings).toContain('the project root also has node manifests; python was chosen (backend evidence wins over front-end tooling)');
  });

  it('index.html next to a package.json with nothing to run is a static site', async () => {
    const { service: s, analysis } = await service({
      'package.json': pkg({ name: 'site', devDependencies: { prettier: '^3' } }),
      'index.html': '<h1>hi</h1>',
    });
    expect([s.language, s.framework, s.project_type]).toEqual(['static', 'static', 'static']);
    expect(analysis.warnings).toEqual([
      'the project root also has node manifests; static was chosen (the other manifests have nothing to run or build)',
    ]);
  });

  it('a Next.js static export is a static site served from out/', async () => {
    const { service: s, analysis } = await service({
      'package.json': pkg({ name: 'docs', scripts: { build: 'next build' }, dependencies: { next: '15.1.3', react: '19.0.0', 'react-dom': '19.0.0' } }),
      'package-lock.json': '{}',
      'next.config.js': "module.exports = { output: 'export' };\n",
    });
    expect([s.framework, s.project_type, s.output_directory, s.scripts_start, s.port]).toEqual(['nextjs', 'static', 'out', '', null]);
    expect(analysis.refusal.refused).toBe(false);
    expect(analysis.warnings).toEqual([]);
  });

  it('vite preview as the start script is a web process on port 4173', async () => {
    const { service: s } = await service({
      'package.json': pkg({ name: 'pv', scripts: { build: 'vite build', start: 'vite preview --host' }, devDependencies: { vite: '^6' } }),
      'package-lock.json': '{}',
    });
    expect([s.framework, s.project_type, s.port, s.scripts_start]).toEqual(['vite', 'web', 4173, 'npm start']);
  });
});

describe('language-only detectors', () => {
  it.each([
    ['go', { 'go.mod': 'module example.com/acme/api\n\ngo 1.22.3\n\nrequire github.com/lib/pq v1.10.9\n', 'go.sum': '' }, 'api', '1.22.3', 'go.sum', ['postgres']],
    ['rust', { 'Cargo.toml': '[package]\nname = "svc"\nrust-version = "1.80"\n\n[dependencies]\ntokio-postgres = "0.7"\n', 'Cargo.lock': '' }, 'svc', '1.80', 'Cargo.lock', ['postgres']],
    ['ruby', { Gemfile: "source 'https://rubygems.org'\nruby '3.3.5'\ngem 'rake'\ngem 'pg'\n", 'Gemfile.lock': '' }, 'project', '3.3.5', 'Gemfile.lock', ['postgres']],
    ['php', { 'composer.json': pkg({ name: 'acme/shop', require: { php: '>=8.2', 'predis/predis': '^2' } }), 'composer.lock': '{}' }, 'shop', '>=8.2', 'composer.lock', ['redis']],
  ] as const)('%s: language, version, lockfile, engines; no framework, refused without a start command', async (language, files, name, version, lockfile, engines) => {
    const { service: s, analysis } = await service(files);
    expect([s.language, s.name, s.language_version, s.framework, s.lockfile, s.dependency_resolution, s.scripts_start]).toEqual([
      language,
      name,
      version,
      '',
      lockfile,
      'locked',
      '',
    ]);
    expect(s.dependencies).toEqual(engines);
    expect(analysis.refusal.refused).toBe(true);
    expect(analysis.refusal.reasons[0]).toMatch(/add a Dockerfile with CMD or a Procfile web entry$/);
  });

  it('a Dockerfile with CMD provides the start: not refused, port from EXPOSE', async () => {
    const { service: s, analysis } = await service({
      'go.mod': 'module example.com/web\n\ngo 1.23\n',
      Dockerfile: 'FROM golang:1.23 AS build\nRUN go build -o /app .\nFROM gcr.io/distroless/base\nCOPY --from=build /app /app\nEXPOSE 8080\nCMD ["/app"]\n',
    });
    expect([s.language, s.dockerfile, s.port]).toEqual(['go', 'Dockerfile', 8080]);
    expect(analysis.refusal).toEqual({ refused: false, reasons: [] });
  });

  it('a Procfile web entry is the start command', async () => {
    const { service: s } = await service({
      'requirements.txt': 'flask==3.1.0\ngunicorn==23.0.0\n',
      'wsgi.py': 'from flask import Flask\napp = Flask(__name__)\n',
      Procfile: 'web: gunicorn wsgi:app --workers 2 --bind 0.0.0.0:$PORT\nrelease: flask db upgrade\n',
    });
    expect([s.scripts_start, s.entry_point]).toEqual(['flask db upgrade && gunicorn wsgi:app --workers 2 --bind 0.0.0.0:$PORT', 'wsgi.py']);
    expect(evidenceOf(s, 'scripts_start')).toBe('Procfile:1 web, after Procfile:2 release (the release phase, run before the app starts)');
  });
});

describe('python frameworks without their production server', () => {
  it('Flask without gunicorn runs the file that calls app.run, with a warning', async () => {
    const { service: s, analysis } = await service({
      'requirements.txt': 'flask==3.1.0\n',
      'app.py': 'from flask import Flask\napp = Flask(__name__)\n\nif __name__ == "__main__":\n    app.run(port=5001)\n',
    });
    expect([s.scripts_start, s.port]).toEqual(['python app.py', 5001]);
    expect(analysis.warnings).toContain("gunicorn is not a dependency: app.py runs Flask's development server in production; add gunicorn");
  });

  it('FastAPI without an ASGI server: entry point known, no start command, a warning, not refused', async () => {
    const { service: s, analysis } = await service({
      'requirements.txt': 'fastapi==0.115.6\n',
      'main.py': 'from fastapi import FastAPI\napp = FastAPI()\n',
    });
    expect([s.entry_point, s.scripts_start]).toEqual(['main.py', '']);
    expect(analysis.warnings).toContain('fastapi is a dependency but no ASGI server (uvicorn, hypercorn) is; add uvicorn so the app can be started');
    expect(analysis.refusal.refused).toBe(false);
  });
});

describe('environment variables', () => {
  it('defaults, fallbacks, secrets, build-time prefixes and Dockerfile ARGs', async () => {
    const { service: s } = await service({
      'package.json': pkg({ name: 'env', scripts: { build: 'next build', start: 'next start' }, dependencies: { next: '15.1.3' } }),
      'package-lock.json': '{}',
      Dockerfile: 'FROM node:20\nARG SENTRY_RELEASE=dev\nCMD ["npm", "start"]\n',
      '.env.example': 'API_BASE=https://api.example.com\nJWT_SECRET=change-me\nFEATURE_X=\n',
      '.env': 'REAL_ONLY_IN_DOTENV=super-secret-value\n',
      'app/page.tsx': [
        "const title = process.env.SITE_TITLE || 'Shop';",
        'const secret = process.env.JWT_SECRET;',
        "if (process.env.FEATURE_X === 'on') console.log(title);",
        'const url = process.env.NEXT_PUBLIC_API_URL;',
        "const { REGION = 'eu', ZONE } = process.env;",
        'const api = process.env.API_BASE;',
      ].join('\n'),
      'tests/page.test.ts': 'process.env.ONLY_IN_TESTS;\n',
    });
    expect(s.runtime_vars).toEqual([
      { name: 'API_BASE', required: false, default: 'https://api.example.com', kind: 'feature_optional' },
      { name: 'FEATURE_X', required: false, default: '', kind: 'feature_optional' },
      { name: 'JWT_SECRET', required: true, default: '', kind: 'generated_app_secret' },
      { name: 'REGION', required: false, default: 'eu', kind: 'feature_optional' },
      { name: 'SITE_TITLE', required: false, default: 'Shop', kind: 'feature_optional' },
      { name: 'ZONE', required: true, default: '', kind: 'startup_critical' },
    ]);
    expect(s.build_time_vars).toEqual([
      { name: 'NEXT_PUBLIC_API_URL', required: true, default: '', kind: 'startup_critical' },
      { name: 'SENTRY_RELEASE', required: false, default: 'dev', kind: 'feature_optional' },
    ]);
    expect(JSON.stringify(s)).not.toContain('super-secret-value');
    expect(JSON.stringify(s)).not.toContain('REAL_ONLY_IN_DOTENV');
    expect(JSON.stringify(s)).not.toContain('change-me');
  });

  it('an insecure code default for a secret is never reported as its default', async () => {
    const { service: s } = await service({
      'requirements.txt': 'flask==3.1.0\ngunicorn==23.0.0\n',
      'app.py': 'import os\nfrom flask import Flask\napp = Flask(__name__)\napp.secret_key = os.getenv("SECRET_KEY", "dev-insecure-key")\n',
    });
    expect(s.runtime_vars).toEqual([{ name: 'SECRET_KEY', required: false, default: '', kind: 'generated_app_secret' }]);
  });
});

describe('databases and AI', () => {
  it('engines from deps, extras and env names, in a fixed order; dev dependencies do not count', async () => {
    const { service: s } = await service({
      'requirements.txt': 'django==5.1.4\ncelery[redis]==5.4.0\nmysqlclient==2.2.6\n',
      'manage.py': '',
      'settings.py': 'import os\nMONGO = os.environ.get("MONGODB_URI")\n',
      'package.json': pkg({ name: 'x', devDependencies: { pg: '^8', vite: '^6' } }),
    });
    expect(s.dependencies).toEqual(['mysql', 'mongodb', 'redis']);
    expect(s.database_type).toBe('mysql');
  });

  it('provider keys and base URLs are AI; generic tokens are not', async () => {
    const { service: s } = await service({
      'package.json': pkg({ name: 'ai', scripts: { start: 'node index.js' } }),
      'index.js': [
        'const a = process.env.ANTHROPIC_API_KEY;',
        'const b = process.env.OPENAI_BASE_URL;',
        'const c = process.env.GITHUB_TOKEN;',
        'const d = process.env.STRIPE_API_KEY;',
      ].join('\n'),
    });
    expect(s.ai_config).toEqual({
      requires_ai_api_key: true,
      detected_providers: ['anthropic'],
      api_key_vars: ['ANTHROPIC_API_KEY'],
      base_url_vars: ['OPENAI_BASE_URL'],
    });
  });
});

describe('refusal markers', () => {
  it('a T-Rex dinosaur game is not a miner', async () => {
    const analysis = await analyzeFiles({
      'index.html': '<title>T-Rex runner</title><script src="t-rex.js"></script><p>Play the t-rex game!</p>',
      't-rex.js': "const trex = { name: 't-rex', jump() {} };\n",
    });
    expect(analysis.refusal).toEqual({ refused: false, reasons: [] });
  });

  it('the t-rex miner binary with its flags is a marker; so is a file named xmrig', async () => {
    const analysis = await analyzeFiles({
      'package.json': pkg({ name: 'm', scripts: { start: 'sh run.sh' } }),
      'run.sh': '#!/bin/sh\n./t-rex -a kawpow -o stratum+ssl://pool.invalid:443\n',
      'bin/xmrig': Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0x00]),
    });
    expect(analysis.refusal.refused).toBe(true);
    expect(analysis.refusal.reasons).toEqual([
      'crypto-mining marker: a file named xmrig (bin/xmrig)',
      'crypto-mining marker "t-rex" at run.sh:2',
      'crypto-mining marker "stratum+ssl://" at run.sh:2',
    ]);
  });

  it('markers inside ignored folders (node_modules, .gitignore) are not the project', async () => {
    const analysis = await analyzeFiles({
      '.gitignore': 'generated/\n*.log\n',
      'package.json': pkg({ name: 'clean', scripts: { start: 'node index.js' } }),
      'index.js': "require('node:http').createServer(() => {}).listen(3000);\n",
      'node_modules/evil/index.js': "spawn('xmrig', ['-o', 'stratum+tcp://x'])\n",
      'generated/miner.js': "spawn('xmrig')\n",
      'debug.log': 'xmrig',
    });
    expect(analysis.refusal).toEqual({ refused: false, reasons: [] });
  });
});
