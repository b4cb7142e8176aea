/**
 * The ordered detector registry and the precedence rules.
 *
 * 1. Every runtime detector looks at the folder (python, go, rust, ruby, php, java, dotnet, elixir,
 *    deno, node, static).
 * 2. For each runtime that matched, its framework detectors run in order and the first match
 *    refines it (its fields override the runtime's; django before fastapi before flask; rails
 *    before sinatra; laravel before symfony; the meta-frameworks (next, nuxt, astro, sveltekit,
 *    react-router, remix) and the SSR frameworks on Vite (TanStack Start, Solid Start, Analog,
 *    Vike) before nestjs before the servers (express, fastify, hono, koa: only when the code
 *    imports them) before Expo and the static builders (CRA, Gatsby, Docusaurus, Vue CLI,
 *    VitePress, Eleventy, Angular) before vite,
 *    so a server that also bundles with Vite is that server; bun last: it names the runtime only
 *    when no framework did).
 * 3. The refined detection with the highest tier wins (backend evidence > runnable entry >
 *    front-end tooling > static HTML > bare manifest); ties go to registry order.
 * 4. A front-end bundler present next to a different winner is reported as `build_tool`.
 *
 * Detectors write warnings into a buffer; only the winner's warnings reach the analysis, so a
 * losing candidate cannot add noise about a runtime that was not chosen.
 *
 * A detector also carries what its framework writes that the one-pass source scan must know (health
 * route syntaxes, Python app-object constructors, env-read syntaxes of code and config files, public
 * env prefixes, build configuration files) and its refusal hint; SCAN_KNOWLEDGE collects them.
 *
 * Adding a framework: write `detectors/<name>.ts`, add it to FRAMEWORKS below, add a fixture.
 */
import { actix } from './detectors/actix.js';
import { aspnet } from './detectors/aspnet.js';
import { axum } from './detectors/axum.js';
import { astro } from './detectors/astro.js';
import { bun } from './detectors/bun.js';
import { caddy } from './detectors/caddy.js';
import { clojure } from './detectors/clojure.js';
import { cpp } from './detectors/cpp.js';
import { crystal } from './detectors/crystal.js';
import { dart } from './detectors/dart.js';
import { deno } from './detectors/deno.js';
import { django } from './detectors/django.js';
import { dotnet } from './detectors/dotnet.js';
import { echo } from './detectors/echo.js';
import { elixir } from './detectors/elixir.js';
import { expo } from './detectors/expo.js';
import { express } from './detectors/express.js';
import { fastapi } from './detectors/fastapi.js';
import { fastify } from './detectors/fastify.js';
import { fiber } from './detectors/fiber.js';
import { flask } from './detectors/flask.js';
import { gin } from './detectors/gin.js';
import { gleam } from './detectors/gleam.js';
import { haskell } from './detectors/haskell.js';
import { hono } from './detectors/hono.js';
import { go } from './detectors/go.js';
import { java } from './detectors/java.js';
import { koa } from './detectors/koa.js';
import { laravel } from './detectors/laravel.js';
import { nestjs } from './detectors/nestjs.js';
import { next } from './detectors/next.js';
import { node } from './detectors/node.js';
import { nuxt } from './detectors/nuxt.js';
import { php } from './detectors/php.js';
import { phoenix } from './detectors/phoenix.js';
import { python } from './detectors/python.js';
import { rails } from './detectors/rails.js';
import { reactRouter } from './detectors/react-router.js';
import { remix } from './detectors/remix.js';
import { rocket } from './detectors/rocket.js';
import { ruby } from './detectors/ruby.js';
import { rust } from './detectors/rust.js';
import { scala } from './detectors/scala.js';
import { shell } from './detectors/shell.js';
import { sinatra } from './detectors/sinatra.js';
import { springBoot } from './detectors/spring-boot.js';
import { staticBuilders } from './detectors/static-builders.js';
import { staticSite } from './detectors/static.js';
import { sveltekit } from './detectors/sveltekit.js';
import { swift } from './detectors/swift.js';
import { symfony } from './detectors/symfony.js';
import { vite } from './detectors/vite.js';
import { viteSsr } from './detectors/vite-ssr.js';
import { zig } from './detectors/zig.js';
import { collectKnowledge, type ScanKnowledge } from './scan-model.js';
import { TIER, inDir, type Conclusions, type DetectContext, type Detection, type FrameworkDetector, type RuntimeDetector } from './types.js';
import { Warnings } from './warnings.js';

// Ecosystems outside the original set follow the backend runtimes; caddy and cpp follow node so a
// Node server wins ties with them; shell (a bare start.sh) is last, as railpack's shell provider.
export const RUNTIMES: readonly RuntimeDetector[] = [python, go, rust, ruby, php, java, dotnet, elixir, clojure, crystal, dart, gleam, haskell, scala, swift, zig, deno, node, caddy, cpp, staticSite, shell];

export const FRAMEWORKS: readonly FrameworkDetector[] = [
  django,
  fastapi,
  flask,
  rails,
  sinatra,
  laravel,
  symfony,
  phoenix,
  springBoot,
  aspnet,
  gin,
  echo,
  fiber,
  actix,
  axum,
  rocket,
  next,
  nuxt,
  astro,
  sveltekit,
  reactRouter,
  remix,
  viteSsr,
  nestjs,
  express,
  fastify,
  hono,
  koa,
  expo,
  staticBuilders,
  vite,
  bun,
];

/**
 * Every detector's scan knowledge. Frameworks come first so a framework's env-read syntax is tried
 * before a runtime's on the same line (Vite's `import.meta.env` before Deno's `Deno.env.get`).
 */
export const SCAN_KNOWLEDGE: ScanKnowledge = collectKnowledge([...FRAMEWORKS, ...RUNTIMES]);

/** Front-end bundlers reported as `build_tool` when they are not the framework itself. */
const BUNDLERS = ['vite', 'webpack', 'parcel'];

export interface Decision {
  /** The runtime detection, refined by its framework when one matched. */
  detection: Detection;
  runtimeId: string;
  frameworkId: string | null;
  /** Other runtimes that matched the folder but lost (for warnings). */
  losers: string[];
}

function merge(runtime: Detection, framework: Detection | null): Detection {
  if (!framework) return runtime;
  const fields: Conclusions = { ...runtime.fields, ...framework.fields };
  const merged: Detection = {
    id: framework.id,
    tier: Math.max(runtime.tier, framework.tier),
    fields,
    portHints: [...(framework.portHints ?? []), ...(runtime.portHints ?? [])],
  };
  const portDefault = framework.portDefault ?? runtime.portDefault;
  if (portDefault) merged.portDefault = portDefault;
  const servesStatically = framework.servesStatically ?? runtime.servesStatically;
  if (servesStatically !== undefined) merged.servesStatically = servesStatically;
  if (runtime.toolchain) merged.toolchain = runtime.toolchain;
  const healthCheck = framework.healthCheck ?? runtime.healthCheck;
  if (healthCheck) merged.healthCheck = healthCheck;
  const engines = [...(framework.engines ?? []), ...(runtime.engines ?? [])];
  if (engines.length > 0) merged.engines = engines;
  const boilerplateEnv = framework.boilerplateEnv ?? runtime.boilerplateEnv;
  if (boilerplateEnv) merged.boilerplateEnv = boilerplateEnv;
  const optionalEngines = framework.optionalEngines ?? runtime.optionalEngines;
  if (optionalEngines) merged.optionalEngines = optionalEngines;
  const envDefaults = { ...runtime.envDefaults, ...framework.envDefaults };
  if (Object.keys(envDefaults).length > 0) merged.envDefaults = envDefaults;
  const envRequired = { ...runtime.envRequired, ...framework.envRequired };
  if (Object.keys(envRequired).length > 0) merged.envRequired = envRequired;
  return merged;
}

interface Candidate {
  runtimeId: string;
  frameworkId: string | null;
  detection: Detection;
  warnings: Warnings;
}

export async function decide(ctx: DetectContext): Promise<Decision | null> {
  const candidates: Candidate[] = [];
  for (const runtimeDetector of RUNTIMES) {
    const buffer = new Warnings();
    const scoped: DetectContext = { ...ctx, warnings: buffer };
    const runtime = await runtimeDetector.detect(scoped);
    if (!runtime) continue;
    let framework: Detection | null = null;
    for (const frameworkDetector of FRAMEWORKS) {
      if (!frameworkDetector.runtimes.includes(runtimeDetector.id)) continue;
      framework = await frameworkDetector.detect({ ...scoped, runtime });
      if (framework) break;
    }
    candidates.push({ runtimeId: runtimeDetector.id, frameworkId: framework?.id ?? null, detection: merge(runtime, framework), warnings: buffer });
  }
  if (candidates.length === 0) return null;

  let winner = candidates[0] as Candidate;
  for (const candidate of candidates.slice(1)) if (candidate.detection.tier > winner.detection.tier) winner = candidate;
  for (const message of winner.warnings.all()) ctx.warnings.add(message);

  const losers = candidates.filter((c) => c !== winner && c.runtimeId !== 'static' && c.runtimeId !== 'shell').map((c) => c.runtimeId);
  const detection = winner.detection;

  // A bundler next to a different framework (Vite in an Express or Django project) is the build tool.
  const pkg = await ctx.manifests.packageJson(ctx.dir);
  if (pkg) {
    const framework = detection.fields.framework?.value ?? '';
    for (const bundler of BUNDLERS) {
      const declared = pkg.dependencies[bundler] !== undefined ? 'dependencies' : pkg.devDependencies[bundler] !== undefined ? 'devDependencies' : null;
      if (declared && framework !== bundler) {
        detection.fields.build_tool = { value: bundler, evidence: `${pkg.path}: ${declared}.${bundler}` };
        break;
      }
    }
  }
  if (losers.length > 0) {
    const chosen = detection.fields.language?.value ?? winner.runtimeId;
    const why =
      detection.tier >= TIER.backend
        ? 'backend evidence wins over front-end tooling'
        : detection.tier >= TIER.runnable
          ? 'it is the one with something to run'
          : 'the other manifests have nothing to run or build';
    ctx.warnings.add(`${inDir(ctx.dir, '') || 'the project root'} also has ${losers.join(', ')} manifests; ${chosen} was chosen (${why})`);
  }
  return { detection, runtimeId: winner.runtimeId, frameworkId: winner.frameworkId, losers };
}
