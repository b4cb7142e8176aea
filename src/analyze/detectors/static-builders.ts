/**
 * Front-end tools whose production build is a folder of static files, each with its documented
 * output folder: Create React App (`build`), Gatsby (`public`), Docusaurus (`build`), Vue CLI
 * (`dist`), VitePress (`.vitepress/dist`, or `<docs>/.vitepress/dist` from the build script),
 * Eleventy (`_site`), Angular (`outputPath` from angular.json; `/browser` under the application
 * builder or when a `browser` entry is set). The platform serves the files; no process is started.
 *
 * These builders are outside the framework vocabulary, so the framework is
 * `static` and the builder is named in the evidence (`create-react-app (react-scripts build): ...`).
 * An Angular app with `@angular/ssr` runs its server instead (`node dist/<app>/server/server.mjs`,
 * port 4000) and is reported as `angular`: a server is not `static`, and an empty framework would
 * make clients re-derive it (a client never accepts an empty framework from the analyzer).
 */
import { TIER, inDir, type Conclusion, type DetectContext, type Detection, type FrameworkDetector } from '../types.js';
import { frameworkBuild, hasAnyDependency, nodeTools } from './node.js';

interface Builder {
  /** The builder's own name, reported in the evidence. */
  name: string;
  dependency: string;
  command: string;
  output: (ctx: DetectContext, buildScript: string) => Promise<Conclusion<string> | null>;
}

const fixed =
  (dir: string, why: string) =>
  async (): Promise<Conclusion<string>> => ({ value: dir, evidence: why });

const BUILDERS: readonly Builder[] = [
  { name: 'create-react-app', dependency: 'react-scripts', command: 'react-scripts build', output: fixed('build', 'react-scripts build writes build/') },
  { name: 'gatsby', dependency: 'gatsby', command: 'gatsby build', output: fixed('public', 'gatsby build writes public/') },
  {
    name: 'docusaurus',
    dependency: '@docusaurus/core',
    command: 'docusaurus build',
    output: async (_ctx, script) => {
      const out = /\bdocusaurus\s+build\b[^&|;]*?--out-dir[=\s]+([\w./-]+)/.exec(script)?.[1]?.replace(/^\.\//, '').replace(/\/$/, '');
      return out ? { value: out, evidence: `scripts.build "${script}" (--out-dir)` } : { value: 'build', evidence: 'docusaurus build writes build/' };
    },
  },
  { name: 'vue', dependency: '@vue/cli-service', command: 'vue-cli-service build', output: fixed('dist', 'vue-cli-service build writes dist/') },
  {
    name: 'vitepress',
    dependency: 'vitepress',
    command: 'vitepress build',
    output: async (_ctx, script) => {
      const root = /\bvitepress\s+build\s+([\w./-]+)/.exec(script)?.[1]?.replace(/^\.\//, '').replace(/\/$/, '');
      return { value: root && root !== '.' ? `${root}/.vitepress/dist` : '.vitepress/dist', evidence: `vitepress build${root ? ` ${root}` : ''} writes .vitepress/dist` };
    },
  },
  { name: 'eleventy', dependency: '@11ty/eleventy', command: 'eleventy', output: fixed('_site', 'Eleventy writes _site/ by default') },
];

/** angular.json: the default (or first) application's output folder and whether it uses the application builder. */
async function angularOutput(ctx: DetectContext): Promise<{ project: string; output: string; evidence: string } | null> {
  const rel = inDir(ctx.dir, 'angular.json');
  const text = await ctx.manifests.text(rel);
  if (text === null) return null;
  let doc: { defaultProject?: unknown; projects?: Record<string, { projectType?: unknown; architect?: { build?: { builder?: unknown; options?: { outputPath?: unknown; browser?: unknown } } } }> };
  try {
    doc = JSON.parse(text) as typeof doc;
  } catch {
    ctx.warnings.add(`${rel} is not valid JSON; the Angular output folder was not read`);
    return null;
  }
  const projects = Object.entries(doc.projects ?? {}).filter(([, p]) => p?.projectType === 'application');
  const chosen = projects.find(([name]) => name === doc.defaultProject) ?? projects[0];
  if (!chosen) return null;
  const [name, project] = chosen;
  const build = project.architect?.build;
  const raw = build?.options?.outputPath;
  const base = typeof raw === 'string' ? raw : raw && typeof raw === 'object' && typeof (raw as { base?: unknown }).base === 'string' ? (raw as { base: string }).base : `dist/${name}`;
  // The application builder (and the browser-esbuild entry it grew from) writes the browser bundle under /browser.
  const application = (typeof build?.builder === 'string' && /:application$/.test(build.builder)) || typeof build?.options?.browser === 'string';
  // outputPath { base, browser } names the browser folder itself ('' puts the files in base).
  const browser = raw && typeof raw === 'object' && typeof (raw as { browser?: unknown }).browser === 'string' ? (raw as { browser: string }).browser : 'browser';
  const output = application ? (browser === '' ? base : `${base}/${browser}`) : base;
  return { project: name, output, evidence: `${rel}: projects.${name} (${String(build?.builder ?? 'build')})` };
}

export const staticBuilders: FrameworkDetector = {
  id: 'static-builders',
  kind: 'framework',
  runtimes: ['node'],
  // Create React App and Gatsby inline these into the bundle.
  publicEnvPrefixes: ['REACT_APP_', 'GATSBY_'],
  buildConfigFiles: ['gatsby-config', 'gatsby-node'],
  async detect(ctx) {
    const pkg = await ctx.manifests.packageJson(ctx.dir);
    if (!pkg) return null;
    const buildScript = pkg.scripts.build ?? '';

    const angular = hasAnyDependency(pkg, '@angular/core');
    if (angular) {
      const out = await angularOutput(ctx);
      const build = frameworkBuild(ctx, pkg, 'ng build', angular);
      const ssr = hasAnyDependency(pkg, '@angular/ssr');
      if (ssr && out) {
        const base = out.output.replace(/\/browser$/, '');
        const server = `${base}/server/server.mjs`;
        return {
          id: 'angular',
          tier: TIER.runnable,
          fields: {
            framework: { value: 'angular', evidence: angular },
            project_type: { value: 'web', evidence: `${ssr} (server-side rendering)` },
            output_directory: { value: base, evidence: out.evidence },
            scripts_build: build,
            scripts_start: { value: nodeTools(ctx).here(`node ${server}`), evidence: `${ssr}: the SSR server built by ng build` },
            entry_point: { value: server, evidence: out.evidence },
          },
          portDefault: { value: 4000, evidence: 'Angular SSR server default port 4000' },
        };
      }
      return staticDetection('angular (ng build)', angular, out ? { value: out.output, evidence: out.evidence } : null, build);
    }

    for (const builder of BUILDERS) {
      const evidence = hasAnyDependency(pkg, builder.dependency);
      if (!evidence) continue;
      const output = await builder.output(ctx, buildScript);
      return staticDetection(`${builder.name} (${builder.command})`, evidence, output, frameworkBuild(ctx, pkg, builder.command, evidence));
    }
    return null;
  },
};

/** A static build by `builder` (named with its command: `gatsby (gatsby build)`). */
export function staticDetection(builder: string, evidence: string, output: Conclusion<string> | null, build: Conclusion<string>): Detection {
  const name = builder.replace(/\s.*$/, '');
  const fields: Detection['fields'] = {
    framework: { value: 'static', evidence: `${builder}: ${evidence}` },
    project_type: { value: 'static', evidence: `${evidence}: the production ${name} build is static files` },
    scripts_build: build,
    scripts_start: { value: '', evidence: `the ${name} build is served as files; no process to start` },
    entry_point: { value: '', evidence: `the ${name} build has no server entry` },
  };
  if (output) fields.output_directory = output;
  return { id: name, tier: TIER.frontend, servesStatically: true, fields };
}
