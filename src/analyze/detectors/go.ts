/**
 * Go: `go.mod` (or a lone `main.go` without one, see loneMain). Decides the Go version (go directive), go.sum locking, the main package to build
 * and the commands: `go build -o app <pkg>` and `./app`.
 *
 * Main package discovery: the module root when it holds `package main`, else `cmd/<name>/`, else a
 * top-level folder with a main package (`server/`). Among several, the one that starts an HTTP
 * server wins, then a conventional name (the module's own name, server, api, web, app). Framework
 * detectors (gin, echo, fiber) refine it; plain `net/http` stays framework "" with Go's usual 8080.
 */
import type { Dependency } from '../manifests.js';
import { TIER, inDir, joinRel, type Conclusions, type DetectContext, type Detection, type RuntimeDetector } from '../types.js';

export interface GoMain {
  /** Folder of the main package relative to the service folder (`''`, `cmd/server`). */
  dir: string;
  /** The file with `func main(` relative to the service folder. */
  file: string;
  /** A file of the package starts an HTTP server or uses a web framework. */
  serves: boolean;
}

/** Folders that hold tooling, not the service's own binary. */
const NOT_SERVICES = new Set(['internal', 'pkg', 'vendor', 'test', 'tests', 'testdata', 'docs', 'doc', 'scripts', 'script', 'tools', 'tool', 'hack', 'examples', 'example', 'migrations', 'third_party', 'build', 'deploy', 'bench', 'benchmarks']);
const PREFERRED = ['server', 'api', 'web', 'app', 'http', 'httpserver', 'service', 'main'];
const WEB_USE = /\bhttp\.ListenAndServe|\.ListenAndServe\(|\bgin\.(?:Default|New)\(|\becho\.New\(|\bfiber\.New\(|\bchi\.NewRouter\(|\bmux\.NewRouter\(|\bhttp\.NewServeMux\(/;

/** A module the code requires directly (not `// indirect`), by path or with a `/vN` suffix. */
export async function goRequire(ctx: DetectContext, modulePath: string): Promise<Dependency | undefined> {
  const mod = await ctx.manifests.goMod(ctx.dir);
  return mod?.requires.find((dep) => !dep.extras.includes('indirect') && (dep.name === modulePath || new RegExp(`^${modulePath.replace(/[.]/g, '\\.')}/v\\d+$`).test(dep.name)));
}

async function mainIn(ctx: DetectContext, dir: string): Promise<GoMain | null> {
  const folder = joinRel(ctx.dir, dir);
  const files = ctx.fs
    .list(folder)
    .filter((name) => name.endsWith('.go') && !name.endsWith('_test.go'))
    .sort((a, b) => (a === 'main.go' ? -1 : b === 'main.go' ? 1 : a < b ? -1 : a > b ? 1 : 0));
  let isMain = false;
  let mainFile = '';
  let serves = false;
  for (const name of files.slice(0, 50)) {
    const text = (await ctx.fs.read(joinRel(folder, name)))?.text ?? '';
    if (!/^package\s+main\b/m.test(text)) return null;
    isMain = true;
    if (!mainFile && /^func\s+main\s*\(\s*\)/m.test(text)) mainFile = inDir(dir, name);
    if (WEB_USE.test(text) || ctx.scan.httpHits.some((hit) => hit.file === joinRel(folder, name))) serves = true;
  }
  return isMain && mainFile ? { dir, file: mainFile, serves } : null;
}

/** Every main package of the module, in a stable order (root, cmd/*, other top-level folders). */
export async function goMains(ctx: DetectContext): Promise<GoMain[]> {
  const out: GoMain[] = [];
  const root = await mainIn(ctx, '');
  if (root) out.push(root);
  const folders = ctx.fs.list(ctx.dir).filter((name) => name.endsWith('/')).map((name) => name.slice(0, -1));
  if (folders.includes('cmd')) {
    for (const sub of ctx.fs.list(inDir(ctx.dir, 'cmd')).filter((name) => name.endsWith('/'))) {
      const found = await mainIn(ctx, `cmd/${sub.slice(0, -1)}`);
      if (found) out.push(found);
    }
  }
  if (out.length === 0) {
    for (const folder of folders) {
      if (folder === 'cmd' || folder.startsWith('.') || NOT_SERVICES.has(folder)) continue;
      if (ctx.fs.has(inDir(ctx.dir, `${folder}/go.mod`))) continue; // a nested module is its own service
      const found = await mainIn(ctx, folder);
      if (found) out.push(found);
    }
  }
  return out;
}

/** Picks the service's main package: one that serves HTTP, then a conventional name, then the first. */
export function pickGoMain(mains: GoMain[], moduleName: string | undefined): GoMain | undefined {
  if (mains.length <= 1) return mains[0];
  const root = mains.find((m) => m.dir === '');
  if (root) return root;
  const serving = mains.filter((m) => m.serves);
  const pool = serving.length > 0 ? serving : mains;
  const names = [...(moduleName ? [moduleName] : []), ...PREFERRED];
  for (const name of names) {
    const hit = pool.find((m) => m.dir.split('/').pop() === name);
    if (hit) return hit;
  }
  return pool[0];
}

/** `go build -o app ./cmd/server`: the output name avoids a folder or file already called `app`. */
export function goOutputName(ctx: DetectContext): string {
  for (const name of ['app', 'server', 'out']) {
    if (!ctx.fs.has(inDir(ctx.dir, name)) && !ctx.fs.hasDir(inDir(ctx.dir, name))) return name;
  }
  return 'bin/app';
}

export const go: RuntimeDetector = {
  id: 'go',
  kind: 'runtime',
  refusalHint: {
    languages: ['go'],
    missingStart: 'no main package (package main with func main) at the module root, in cmd/* or a top-level folder; add a Dockerfile with CMD or a Procfile web entry',
  },
  async detect(ctx) {
    const mod = await ctx.manifests.goMod(ctx.dir);
    if (!mod) return loneMain(ctx);
    const fields: Conclusions = {
      language: { value: 'go', evidence: `${mod.path} exists` },
      package_manager: { value: 'go', evidence: `${mod.path}: Go modules` },
    };
    const name = mod.module?.split('/').filter((part) => !/^v\d+$/.test(part)).pop();
    if (name) fields.name = { value: name, evidence: `${mod.path}: module ${mod.module}` };
    if (mod.goVersion) fields.language_version = { value: mod.goVersion, evidence: `${mod.path}: go directive` };
    const sum = inDir(ctx.dir, 'go.sum');
    if (ctx.fs.has(sum)) {
      fields.lockfile = { value: 'go.sum', evidence: `${sum} exists` };
      fields.dependency_resolution = { value: 'locked', evidence: sum };
    } else if (mod.requires.length === 0) {
      fields.dependency_resolution = { value: 'locked', evidence: `${mod.path} requires no modules: nothing to resolve` };
    } else {
      fields.dependency_resolution = { value: 'unlocked', evidence: `${mod.path} requires modules but go.sum is missing` };
      ctx.warnings.add('go.sum is missing: run `go mod tidy` and commit it so cloud builds verify module checksums');
    }

    const mains = await goMains(ctx);
    // A service split on main packages (workspaces-backend.ts) names the one this service builds.
    const targeted = ctx.target !== undefined ? mains.find((m) => m.dir === ctx.target) : undefined;
    const main = targeted ?? pickGoMain(mains, name);
    if (!main) {
      ctx.warnings.add(`no main package found in ${ctx.dir || 'the module root'}, cmd/* or a top-level folder: nothing to build and run`);
      return { id: 'go', tier: TIER.bare, fields };
    }
    if (mains.length > 1 && !targeted) {
      ctx.warnings.add(
        `several main packages (${mains.map((m) => m.dir || '.').join(', ')}); ${main.dir || '.'} was chosen${main.serves ? ' (it serves HTTP)' : ''}; the others are not deployed`,
      );
    }
    const pkg = main.dir === '' ? '.' : `./${main.dir}`;
    const out = goOutputName(ctx);
    const why = `${inDir(ctx.dir, main.file)} is package main with func main()`;
    fields.entry_point = { value: main.file, evidence: why };
    fields.scripts_build = { value: `go build -o ${out} ${pkg}`, evidence: why };
    fields.scripts_start = { value: `./${out}`, evidence: `the binary built from ${pkg}` };
    const detection: Detection = { id: 'go', tier: TIER.backend, fields };
    // The listener often lives in another package (internal/server) that main calls.
    const elsewhere = main.serves || ctx.target !== undefined ? undefined : ctx.scan.httpHits.find((hit) => hit.file.endsWith('.go') && (ctx.dir === '' || hit.file.startsWith(`${ctx.dir}/`)));
    if (main.serves || elsewhere) {
      const why = elsewhere ? `${elsewhere.file}:${elsewhere.line} starts an HTTP server` : `${joinRel(ctx.dir, main.dir) || 'the main package'} starts an HTTP server`;
      fields.project_type = { value: 'web', evidence: why };
      detection.portDefault = { value: 8080, evidence: 'Go HTTP server: conventional default port 8080' };
    } else {
      fields.project_type = { value: 'worker', evidence: 'a main package exists but no HTTP listener was found in it' };
    }
    return detection;
  },
};

/** Import paths of a Go file (`import "x"` and `import ( ... )` blocks). */
function goImports(text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(/^import\s*\(([^)]*)\)|^import\s+(?:\w+\s+)?"([^"]+)"/gm)) {
    if (m[2]) out.push(m[2]);
    else for (const line of (m[1] ?? '').matchAll(/"([^"]+)"/g)) out.push(line[1] as string);
  }
  return out;
}

/**
 * A lone `main.go` with no go.mod (a script-style service): `go build` compiles a single file
 * without a module when it imports only the standard library; with third-party imports a module is
 * created at build time (`go mod init` + `go mod tidy`), unpinned, so it is warned.
 */
async function loneMain(ctx: DetectContext): Promise<Detection | null> {
  const rel = inDir(ctx.dir, 'main.go');
  const text = (await ctx.fs.read(rel))?.text ?? '';
  if (!/^package\s+main\b/m.test(text) || !/^func\s+main\s*\(\s*\)/m.test(text)) return null;
  const why = `${rel} is package main with func main() and there is no go.mod`;
  const external = goImports(text).filter((path) => (path.split('/')[0] ?? '').includes('.'));
  const fields: Conclusions = {
    language: { value: 'go', evidence: why },
    entry_point: { value: 'main.go', evidence: why },
    scripts_start: { value: './app', evidence: `the binary built from ${rel}` },
  };
  if (external.length === 0) {
    fields.dependency_resolution = { value: 'locked', evidence: `${rel} imports only the standard library` };
    fields.scripts_build = { value: 'go build -o app main.go', evidence: `${why}; standard library only` };
  } else {
    fields.dependency_resolution = { value: 'unlocked', evidence: `${rel} imports ${external.slice(0, 3).join(', ')} without a go.mod` };
    fields.scripts_build = { value: 'go mod init app && go mod tidy && go build -o app .', evidence: `${rel} imports ${external.slice(0, 3).join(', ')}: a module is created at build time` };
    ctx.warnings.add(`${rel} imports third-party packages but there is no go.mod: versions are resolved at build time (run \`go mod init\` and \`go mod tidy\`, and commit go.mod and go.sum)`);
  }
  const detection: Detection = { id: 'go', tier: TIER.runnable, fields };
  const listen = WEB_USE.exec(text);
  const hit = ctx.scan.httpHits.find((h) => h.file === rel);
  if (listen || hit) {
    const line = hit?.line ?? text.slice(0, listen?.index ?? 0).split('\n').length;
    fields.project_type = { value: 'web', evidence: `${rel}:${line} starts an HTTP server` };
    detection.portDefault = { value: 8080, evidence: 'Go HTTP server: conventional default port 8080' };
  } else {
    fields.project_type = { value: 'worker', evidence: `${rel}: no HTTP listener` };
  }
  return detection;
}

/** Shared by the Go web framework detectors: a direct go.mod requirement names the framework. */
export async function goFramework(ctx: DetectContext, id: string, modulePath: string, portEvidence: string): Promise<Detection | null> {
  const dep = await goRequire(ctx, modulePath);
  if (!dep) return null;
  const evidence = `${dep.source} ${dep.name}`;
  const runnable = ctx.runtime?.fields.scripts_start !== undefined;
  const detection: Detection = {
    id,
    // A framework in go.mod without a main package (a library) does not make the folder deployable.
    tier: runnable ? TIER.backend : TIER.bare,
    fields: { framework: { value: id, evidence } },
    portDefault: { value: 8080, evidence: portEvidence },
  };
  if (runnable) detection.fields.project_type = { value: 'web', evidence };
  return detection;
}
