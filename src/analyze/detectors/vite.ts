/**
 * Vite: a `vite` dependency with no server framework of its own (those are ordered before this
 * detector, and then Vite is reported as `build_tool`). A Vite app builds to static files (`dist`,
 * or `build.outDir` from vite.config) that the platform serves; no process is started. When the
 * start script runs `vite preview`, it is a web process on Vite's preview port (4173). When it runs a
 * server of the project's own (`node server.js`, `node dist/server/index.js`: Vite's SSR setup), the
 * service is that web process, on the port its code listens on; railpack likewise serves a Vite app
 * as static files only when there is no custom start command.
 */
import { TIER, inDir, type FrameworkDetector } from '../types.js';
import { entryOfStartScript, frameworkBuild, hasAnyDependency, isDevCommand, nodeTools } from './node.js';
import { NAME, jsFallback, type EnvReadSyntax } from '../scan-model.js';

/** A start script that runs a server file with node (possibly after env assignments or cross-env). */
const RUNS_NODE = /^\s*(?:\w+=\S*\s+)*(?:cross-env\s+(?:\w+=\S*\s+)*)?node\s/;

const CONFIG_FILES = ['vite.config.ts', 'vite.config.js', 'vite.config.mjs', 'vite.config.mts', 'vite.config.cjs', 'vite.config.cts'];

/** `import.meta.env.X`, inlined at build time; MODE, DEV, PROD, SSR and BASE_URL are Vite's own. */
const IMPORT_META_ENV: EnvReadSyntax = {
  language: 'js',
  prefilter: /import\.meta\.env/,
  patterns: [
    {
      regex: new RegExp(`\\bimport\\.meta\\.env\\.(${NAME})`, 'g'),
      nameGroup: 1,
      fallback: (_m, b, a) => jsFallback(b, a),
      builtins: new Set(['MODE', 'DEV', 'PROD', 'SSR', 'BASE_URL']),
    },
  ],
};

export const vite: FrameworkDetector = {
  id: 'vite',
  kind: 'framework',
  runtimes: ['node'],
  envReadSyntaxes: [IMPORT_META_ENV],
  publicEnvPrefixes: ['VITE_'],
  buildConfigFiles: ['vite'],
  async detect(ctx) {
    const pkg = await ctx.manifests.packageJson(ctx.dir);
    const evidence = pkg ? hasAnyDependency(pkg, 'vite') : undefined;
    if (!pkg || !evidence) return null;
    const tools = nodeTools(ctx);

    let outDir = 'dist';
    let outEvidence = 'Vite default build.outDir';
    for (const file of CONFIG_FILES) {
      const rel = inDir(ctx.dir, file);
      const text = (await ctx.fs.read(rel))?.text;
      if (text === undefined) continue;
      const match = /\boutDir\s*:\s*['"]([^'"]+)['"]/.exec(text);
      if (match) {
        outDir = (match[1] as string).replace(/^\.\//, '');
        outEvidence = `${rel}: build.outDir`;
      }
      break;
    }

    const build = frameworkBuild(ctx, pkg, 'vite build', evidence);

    const start = pkg.scripts.start;
    if (start !== undefined && /\bvite\s+preview\b/.test(start)) {
      const port = /--port[=\s]+(\d{2,5})\b/.exec(start);
      return {
        id: 'vite',
        tier: TIER.runnable,
        fields: {
          framework: { value: 'vite', evidence },
          project_type: { value: 'web', evidence: `${pkg.path}: scripts.start "${start}"` },
          output_directory: { value: outDir, evidence: outEvidence },
          scripts_build: build,
          scripts_start: { value: tools.start(), evidence: `${pkg.path}: scripts.start "${start}"` },
          entry_point: { value: '', evidence: 'vite preview has no entry file' },
        },
        portHints: port ? [{ value: Number(port[1]), evidence: `${pkg.path}: scripts.start "${start}"` }] : [],
        portDefault: { value: 4173, evidence: 'vite preview default port 4173' },
      };
    }

    if (start !== undefined && !isDevCommand(start) && (entryOfStartScript(start) !== '' || RUNS_NODE.test(start))) {
      const why = `${pkg.path}: scripts.start "${start}"`;
      return {
        id: 'vite',
        tier: TIER.runnable,
        fields: {
          framework: { value: 'vite', evidence: `${evidence}; ${why} runs a server of the project's own` },
          project_type: { value: 'web', evidence: `${why} runs a server bundle, not a static site` },
          output_directory: { value: outDir, evidence: outEvidence },
          scripts_build: build,
          scripts_start: { value: tools.start(), evidence: why },
          entry_point: { value: entryOfStartScript(start), evidence: why },
        },
      };
    }

    return {
      id: 'vite',
      tier: TIER.frontend,
      servesStatically: true,
      fields: {
        framework: { value: 'vite', evidence },
        project_type: { value: 'static', evidence: `${evidence} with no server framework: the build output is served as files` },
        output_directory: { value: outDir, evidence: outEvidence },
        scripts_build: build,
        scripts_start: { value: '', evidence: 'a Vite build is served as static files; no process to start' },
        entry_point: { value: '', evidence: 'a Vite build has no server entry' },
      },
    };
  },
};
