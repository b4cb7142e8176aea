/**
 * Haskell: Stack (`stack.yaml`) or Cabal (`*.cabal`, or hpack's `package.yaml`). The executable is
 * the `executable <name>` stanza of the .cabal file (or `executables:` of package.yaml); the one
 * named like the package wins, else the first. Build it and copy the binary next to the source:
 * `stack build --copy-bins --local-bin-path bin` (nixpacks runs `stack install`, the same thing into
 * ~/.local/bin) or `cabal install exe:<name> --installdir=bin --install-method=copy`, start
 * `./bin/<name>`. Web when it uses Scotty / Warp / Servant / Yesod / Spock / Snap; the port is the
 * literal the code passes (`scotty 3000`, `run 8080`) or the default of its PORT read.
 */
import { parseYaml } from '../yaml.js';
import { TIER, inDir, type Conclusions, type DetectContext, type Detection, type RuntimeDetector } from '../types.js';
import { findInSources, healthFromSources, portFromSources, sourceFiles } from './source-hints.js';

const SERVER_LIBS = ['scotty', 'warp', 'servant-server', 'yesod', 'yesod-core', 'Spock', 'spock', 'snap-server', 'twain', 'ihp'];
const PORT_PATTERNS = [
  /"PORT"[^\n]{0,120}?(?:fromMaybe|maybe)\s+"?(\d{2,5})"?/,
  /\bfromMaybe\s+"?(\d{2,5})"?[^\n]{0,80}"PORT"/,
  /\bscotty\s+(\d{2,5})\b/,
  /\bsetPort\s+(\d{2,5})\b/,
  /\b(?:run|runSettings|warp)\s+(\d{2,5})\b/,
];

interface HsPackage {
  manifest: string;
  name: string | undefined;
  executables: string[];
  deps: string[];
}

async function cabalPackage(ctx: DetectContext): Promise<HsPackage | null> {
  const cabal = ctx.fs.list(ctx.dir).find((file) => file.endsWith('.cabal'));
  if (cabal) {
    const rel = inDir(ctx.dir, cabal);
    const text = ((await ctx.manifests.text(rel)) ?? '').replace(/--.*$/gm, '');
    const deps = [...text.matchAll(/^\s*build-depends\s*:([^]*?)(?=^\s*[\w-]+\s*:|^\S|(?![^]))/gim)]
      .flatMap((m) => (m[1] as string).split(','))
      .map((dep) => dep.trim().split(/[\s<>=^]/)[0] as string)
      .filter(Boolean);
    return {
      manifest: rel,
      name: /^name\s*:\s*([\w-]+)/im.exec(text)?.[1],
      executables: [...text.matchAll(/^executable\s+([\w-]+)/gim)].map((m) => m[1] as string),
      deps,
    };
  }
  const hpack = inDir(ctx.dir, 'package.yaml');
  const text = await ctx.manifests.text(hpack);
  if (text === null) return null;
  try {
    const doc = (parseYaml(text) as { name?: unknown; executables?: unknown; dependencies?: unknown } | null) ?? {};
    const list = (value: unknown): string[] => (Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string').map((v) => v.split(/[\s<>=^]/)[0] as string) : []);
    const executables = doc.executables && typeof doc.executables === 'object' ? (doc.executables as Record<string, { dependencies?: unknown } | null>) : {};
    return {
      manifest: hpack,
      name: typeof doc.name === 'string' ? doc.name : undefined,
      executables: Object.keys(executables),
      deps: [...list(doc.dependencies), ...Object.values(executables).flatMap((exe) => list(exe?.dependencies))],
    };
  } catch {
    ctx.warnings.add(`${hpack} is not valid YAML; its executables were not read`);
    return { manifest: hpack, name: undefined, executables: [], deps: [] };
  }
}

export const haskell: RuntimeDetector = {
  id: 'haskell',
  kind: 'runtime',
  refusalHint: {
    languages: ['haskell'],
    missingStart: 'the .cabal file (or package.yaml) declares no executable; add a Dockerfile with CMD or a Procfile web entry',
  },
  async detect(ctx) {
    const stackYaml = inDir(ctx.dir, 'stack.yaml');
    const stack = ctx.fs.has(stackYaml);
    const pkg = await cabalPackage(ctx);
    if (!pkg && !stack) return null;
    const manifest = pkg?.manifest ?? stackYaml;
    const fields: Conclusions = {
      language: { value: 'haskell', evidence: `${manifest} exists` },
      package_manager: stack ? { value: 'stack', evidence: `${stackYaml} exists` } : { value: 'cabal', evidence: `${manifest} exists` },
    };
    if (pkg?.name) fields.name = { value: pkg.name, evidence: `${pkg.manifest}: name` };
    const lock = stack ? 'stack.yaml.lock' : 'cabal.project.freeze';
    if (ctx.fs.has(inDir(ctx.dir, lock))) {
      fields.lockfile = { value: lock, evidence: `${inDir(ctx.dir, lock)} exists` };
      fields.dependency_resolution = stack
        ? { value: 'locked', evidence: `${inDir(ctx.dir, lock)} pins the snapshot` }
        : { value: 'locked', evidence: inDir(ctx.dir, lock) };
    } else if (stack) {
      // A Stack snapshot (resolver) fixes every package version by itself.
      fields.dependency_resolution = { value: 'locked', evidence: `${stackYaml}: the resolver snapshot fixes package versions` };
    } else {
      fields.dependency_resolution = { value: 'unlocked', evidence: `${manifest} without cabal.project.freeze` };
      ctx.warnings.add('cabal.project.freeze is missing: clean cloud builds may resolve different package versions (run `cabal freeze` and commit it)');
    }
    const detection: Detection = { id: 'haskell', tier: TIER.bare, fields, toolchain: { install: '', runPrefix: '' } };
    const exes = pkg?.executables ?? [];
    const exe = exes.find((name) => name === pkg?.name) ?? exes[0];
    if (!exe) {
      ctx.warnings.add(`${manifest} declares no executable: a library, nothing to run`);
      return detection;
    }
    if (exes.length > 1) ctx.warnings.add(`${manifest} declares several executables (${exes.join(', ')}); ${exe} was chosen, the others are not deployed`);
    fields.scripts_build = stack
      ? { value: 'stack build --copy-bins --local-bin-path bin', evidence: `${pkg?.manifest}: executable ${exe}; ${stackYaml}` }
      : { value: `cabal update && cabal install exe:${exe} --installdir=bin --install-method=copy --overwrite-policy=always`, evidence: `${pkg?.manifest}: executable ${exe}` };
    fields.scripts_start = { value: `./bin/${exe}`, evidence: `the executable ${exe} copied to bin/` };
    detection.tier = TIER.backend;

    const files = sourceFiles(ctx, ['.hs']);
    const lib = SERVER_LIBS.find((name) => pkg?.deps.includes(name));
    const server = await findInSources(ctx, files, /^\s*(?:main\s*=\s*)?scotty\s|\bscottyT?\s+\w|\bWarp\.run|\brunSettings\b|\bwarp\s+\d|\bserve\s+\w+Api\b|\brunSpock\b|\bquickHttpServe\b/m);
    if (lib || server) {
      fields.project_type = { value: 'web', evidence: server ? `${server.file}:${server.line} starts an HTTP server` : `${pkg?.manifest}: build-depends ${lib as string}` };
      const port = await portFromSources(ctx, files, PORT_PATTERNS);
      const health = await healthFromSources(ctx, files);
      if (health) detection.healthCheck = health;
      if (port) detection.portHints = [port];
    } else {
      fields.project_type = { value: 'worker', evidence: `executable ${exe}: no HTTP server in the code` };
    }
    return detection;
  },
};
