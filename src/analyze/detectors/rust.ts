/**
 * Rust: `Cargo.toml` with a [package]. Decides the toolchain (rust-toolchain(.toml), then
 * package.rust-version), Cargo.lock locking, the binary to run and the commands:
 * `cargo build --release [--bin <name>]` and `./target/release/<name>`.
 *
 * Binary discovery follows Cargo's target rules: `[[bin]]` entries, `src/main.rs` (named after the
 * package), `src/bin/*.rs` and `src/bin/<name>/main.rs` (unless `autobins = false`); among several,
 * `default-run`, then the one that starts an HTTP server, then the package-named one. A crate with
 * only a library has nothing to run. Framework detectors (actix, axum, rocket) refine it.
 */
import { parseToml } from '../toml.js';
import type { CargoToml, Dependency } from '../manifests.js';
import { TIER, inDir, type Conclusions, type DetectContext, type Detection, type RuntimeDetector } from '../types.js';

export interface RustBin {
  name: string;
  /** Source file relative to the service folder. */
  path: string;
}

/** Binary targets of a package, per Cargo's target auto-discovery rules. */
export function rustBins(ctx: DetectContext, cargo: CargoToml, autobins: boolean): RustBin[] {
  const bins: RustBin[] = [];
  const seen = new Set<string>();
  const add = (name: string, path: string): void => {
    if (seen.has(name)) return;
    seen.add(name);
    bins.push({ name, path });
  };
  for (const bin of cargo.bins) {
    const path = bin.path ?? (bin.name === cargo.name && ctx.fs.has(inDir(ctx.dir, 'src/main.rs')) ? 'src/main.rs' : ctx.fs.has(inDir(ctx.dir, `src/bin/${bin.name}.rs`)) ? `src/bin/${bin.name}.rs` : `src/bin/${bin.name}/main.rs`);
    add(bin.name, path);
  }
  if (autobins) {
    const declaredPaths = new Set(bins.map((bin) => bin.path));
    if (cargo.name && ctx.fs.has(inDir(ctx.dir, 'src/main.rs')) && !declaredPaths.has('src/main.rs')) add(cargo.name, 'src/main.rs');
    for (const entry of ctx.fs.list(inDir(ctx.dir, 'src/bin'))) {
      if (entry.endsWith('.rs')) {
        if (!declaredPaths.has(`src/bin/${entry}`)) add(entry.slice(0, -3), `src/bin/${entry}`);
      } else if (entry.endsWith('/') && ctx.fs.has(inDir(ctx.dir, `src/bin/${entry}main.rs`))) {
        if (!declaredPaths.has(`src/bin/${entry}main.rs`)) add(entry.slice(0, -1), `src/bin/${entry}main.rs`);
      }
    }
  }
  return bins;
}

/**
 * A runtime (non-dev) crate dependency of the service, or undefined: its own, else one of the local
 * library crates it depends on (a workspace's `server` crate that brings axum along).
 */
export async function crate(ctx: DetectContext, name: string): Promise<Dependency | undefined> {
  for (const dir of [ctx.dir, ...(await ctx.manifests.cargoLocalCrates(ctx.dir))]) {
    const found = (await ctx.manifests.cargoToml(dir))?.dependencies.find((dep) => dep.name === name && !dep.dev);
    if (found) return found;
  }
  return undefined;
}

async function toolchainVersion(ctx: DetectContext, cargo: CargoToml): Promise<Conclusions['language_version']> {
  // rust-toolchain.toml (or a TOML rust-toolchain file) is TOML; the legacy rust-toolchain file is one line.
  const candidates = [inDir(ctx.dir, 'rust-toolchain.toml'), inDir(ctx.dir, 'rust-toolchain')];
  if (ctx.workspace) candidates.push(inDir(ctx.workspace.root, 'rust-toolchain.toml'), inDir(ctx.workspace.root, 'rust-toolchain'));
  for (const rel of candidates) {
    const text = await ctx.manifests.text(rel);
    if (text === null) continue;
    if (/^\s*\[toolchain\]/m.test(text)) {
      try {
        const doc = parseToml(text) as { toolchain?: { channel?: unknown } };
        const channel = doc.toolchain?.channel;
        if (typeof channel === 'string' && channel !== '') return { value: channel, evidence: `${rel}: toolchain.channel` };
      } catch {
        ctx.warnings.add(`${rel} is not valid TOML; the toolchain channel was not read`);
      }
      continue;
    }
    const line = text.split(/\r?\n/)[0]?.trim();
    if (line) return { value: line, evidence: rel };
  }
  if (cargo.rustVersion) return { value: cargo.rustVersion, evidence: `${cargo.path}: package.rust-version` };
  return undefined;
}

export const rust: RuntimeDetector = {
  id: 'rust',
  kind: 'runtime',
  refusalHint: {
    languages: ['rust'],
    missingStart: 'Cargo.toml builds no binary (no src/main.rs, src/bin/ or [[bin]]); add a Dockerfile with CMD or a Procfile web entry',
  },
  async detect(ctx) {
    const cargo = await ctx.manifests.cargoToml(ctx.dir);
    if (!cargo) return null;
    const fields: Conclusions = {
      language: { value: 'rust', evidence: `${cargo.path} exists` },
      package_manager: { value: 'cargo', evidence: `${cargo.path} exists` },
    };
    if (cargo.name) fields.name = { value: cargo.name, evidence: `${cargo.path}: package.name` };
    const version = await toolchainVersion(ctx, cargo);
    if (version) fields.language_version = version;

    // A workspace member shares the workspace root's Cargo.lock and target/ folder, and builds from there.
    const member = ctx.workspace !== undefined && ctx.workspace.marker.endsWith('Cargo.toml');
    const lock = inDir(member && ctx.workspace ? ctx.workspace.root : ctx.dir, 'Cargo.lock');
    if (ctx.fs.has(lock)) {
      fields.lockfile = { value: 'Cargo.lock', evidence: `${lock} exists` };
      fields.dependency_resolution = { value: 'locked', evidence: lock };
    } else if (cargo.dependencies.length === 0) {
      fields.dependency_resolution = { value: 'locked', evidence: `${cargo.path} declares no dependencies: nothing to resolve` };
    } else {
      fields.dependency_resolution = { value: 'unlocked', evidence: `${cargo.path} declares dependencies but Cargo.lock is missing` };
      ctx.warnings.add('Cargo.lock is missing: clean cloud builds may resolve different crate versions (commit Cargo.lock)');
    }

    if (!cargo.hasPackage) {
      ctx.warnings.add(`${cargo.path} is a workspace root with no [package]: its members are the services`);
      return { id: 'rust', tier: TIER.bare, fields };
    }
    const text = (await ctx.manifests.text(cargo.path)) ?? '';
    const autobins = !/^\s*autobins\s*=\s*false/m.test(text);
    const bins = rustBins(ctx, cargo, autobins);
    if (bins.length === 0) {
      ctx.warnings.add(`${cargo.path} builds a library only (no src/main.rs, src/bin/ or [[bin]]): nothing to run`);
      return { id: 'rust', tier: TIER.bare, fields };
    }
    const serving = (bin: RustBin): boolean => ctx.scan.httpHits.some((hit) => hit.file === inDir(ctx.dir, bin.path));
    let bin = bins.find((b) => b.name === cargo.defaultRun);
    let why = bin ? `${cargo.path}: package.default-run "${bin.name}"` : '';
    if (!bin && bins.length === 1) [bin, why] = [bins[0] as RustBin, `${inDir(ctx.dir, (bins[0] as RustBin).path)} is the only binary`];
    if (!bin) {
      bin = bins.find(serving);
      if (bin) why = `${inDir(ctx.dir, bin.path)} starts an HTTP server`;
    }
    if (!bin) {
      bin = bins.find((b) => b.name === cargo.name) ?? (bins[0] as RustBin);
      why = `${inDir(ctx.dir, bin.path)}: binary named after the package`;
    }
    if (bins.length > 1) ctx.warnings.add(`${cargo.path} has several binaries (${bins.map((b) => b.name).join(', ')}); ${bin.name} was chosen`);

    const select = member ? ` -p ${cargo.name}${bins.length > 1 ? ` --bin ${bin.name}` : ''}` : bins.length > 1 ? ` --bin ${bin.name}` : '';
    fields.entry_point = { value: bin.path, evidence: why };
    fields.scripts_build = { value: `cargo build --release${select}`, evidence: `${cargo.path}: binary ${bin.name}` };
    fields.scripts_start = {
      value: `./target/release/${bin.name}`,
      evidence: `${cargo.path}: binary ${bin.name} (${why})${member ? `; built in the workspace's target/ (${ctx.workspace?.marker})` : ''}`,
    };
    // The scan is the service's: its folder plus the library crates it depends on (services.ts scopeScan).
    const http = ctx.scan.httpHits.find((hit) => hit.file.endsWith('.rs'));
    fields.project_type = http
      ? { value: 'web', evidence: `${http.file}:${http.line} starts an HTTP server` }
      : { value: 'worker', evidence: 'a binary exists but no HTTP listener was found in the source' };
    const local = ctx.scan.portHints.find((hint) => hint.file.endsWith('.rs') && /127\.0\.0\.1|localhost/.test(hint.snippet));
    if (local) ctx.warnings.add(`${local.file}:${local.line} binds to ${/localhost/.test(local.snippet) ? 'localhost' : '127.0.0.1'}: the server is unreachable from outside its container; bind 0.0.0.0`);
    return { id: 'rust', tier: TIER.backend, fields } satisfies Detection;
  },
};

/** Shared by the Rust web framework detectors: a runtime crate dependency names the framework. */
export async function rustFramework(ctx: DetectContext, id: string, crateName: string): Promise<{ detection: Detection; dep: Dependency } | null> {
  const dep = await crate(ctx, crateName);
  if (!dep) return null;
  const runnable = ctx.runtime?.fields.scripts_start !== undefined;
  const evidence = dep.source;
  const detection: Detection = {
    id,
    tier: runnable ? TIER.backend : TIER.bare,
    fields: { framework: { value: id, evidence } },
  };
  if (runnable) detection.fields.project_type = { value: 'web', evidence };
  return { detection, dep };
}
