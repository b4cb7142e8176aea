/**
 * C and C++: CMake (`CMakeLists.txt`) or Meson (`meson.build`), the build systems railpack's cpp
 * provider knows. The executable is `add_executable(<name> ...)` / `executable('<name>', ...)` (the
 * one named like the project first; `${PROJECT_NAME}` resolved). Build out of tree:
 * `cmake -B build -DCMAKE_BUILD_TYPE=Release && cmake --build build` or
 * `meson setup build --buildtype=release && meson compile -C build`; start `./build/<name>`.
 * A build with no executable is a library. Language `cpp` when C++ is enabled or the sources are
 * C++, else `c`. Web when the code serves HTTP (a listening socket, cpp-httplib, Crow, Drogon,
 * Mongoose, Pistache); the port is the default of its PORT read or the literal it binds.
 */
import { TIER, inDir, type Conclusions, type Detection, type RuntimeDetector } from '../types.js';
import { findInSources, healthFromSources, portFromSources, sourceFiles } from './source-hints.js';

const CPP_EXT = ['.cpp', '.cc', '.cxx', '.hpp', '.hh'];
const PORT_PATTERNS = [
  /getenv\(\s*"PORT"\s*\)[^\n]{0,80}?[:?]\s*"?(\d{2,5})"?/,
  /#define\s+(?:DEFAULT_)?PORT\s+"?(\d{2,5})"?/,
  /\bport\s*=\s*[^;\n]*?:\s*(\d{2,5})\s*;/i,
  /\b(?:const\s+)?(?:int|unsigned|uint16_t|short|auto|constexpr\s+int)\s+(?:default_)?port\s*=\s*(\d{2,5})\b/i,
  /\bhtons\(\s*(\d{2,5})\s*\)/,
  /\.(?:listen|bind_to_port)\(\s*"[^"\n]*"\s*,\s*(\d{2,5})\s*\)/,
  /\.port\(\s*(\d{2,5})\s*\)/,
  /\baddListener\(\s*"[^"\n]*"\s*,\s*(\d{2,5})\s*\)/,
];
const SERVER = /\blisten\s*\(\s*\w+\s*,\s*\w+\s*\)|\bhttplib::Server\b|\bcrow::(?:SimpleApp|App)\b|\bdrogon::app\(\)|\bmg_http_listen\(|\bPistache::Http::Endpoint\b|\bboost::beast\b/;

export const cpp: RuntimeDetector = {
  id: 'cpp',
  kind: 'runtime',
  refusalHint: {
    languages: ['c', 'cpp'],
    missingStart: 'CMakeLists.txt / meson.build builds no executable; add a Dockerfile with CMD or a Procfile web entry',
  },
  async detect(ctx) {
    const cmake = inDir(ctx.dir, 'CMakeLists.txt');
    const meson = inDir(ctx.dir, 'meson.build');
    const useCmake = ctx.fs.has(cmake);
    const manifest = useCmake ? cmake : meson;
    const raw = await ctx.manifests.text(manifest);
    if (raw === null) return null;
    const text = raw.replace(/#.*$/gm, '');
    const files = sourceFiles(ctx, ['.c', '.h', ...CPP_EXT]);
    let project: string | undefined;
    let executables: string[];
    let cxx: boolean;
    if (useCmake) {
      const decl = /\bproject\s*\(\s*([\w.-]+)([^)]*)\)/i.exec(text);
      project = decl?.[1];
      cxx = /\bCXX\b/.test(decl?.[2] ?? '');
      executables = [...text.matchAll(/\badd_executable\s*\(\s*([\w.${}-]+)/gi)].map((m) => (m[1] as string).replace(/\$\{PROJECT_NAME\}/g, project ?? '${PROJECT_NAME}'));
    } else {
      const decl = /\bproject\s*\(\s*'([^']+)'\s*,([^)]*)\)/.exec(text);
      project = decl?.[1];
      cxx = /'cpp'/.test(decl?.[2] ?? '');
      executables = [...text.matchAll(/\bexecutable\s*\(\s*'([^']+)'/g)].map((m) => m[1] as string);
    }
    // The sources decide when the build file does not say (CMake enables C and C++ by default).
    const cppSources = files.some((file) => CPP_EXT.some((ext) => file.endsWith(ext)));
    const cSources = files.some((file) => file.endsWith('.c'));
    const language = cppSources || (!cSources && cxx) ? 'cpp' : 'c';
    const fields: Conclusions = {
      language: { value: language, evidence: cppSources ? `${manifest}; C++ sources` : cSources ? `${manifest}; C sources` : `${manifest}: ${cxx ? 'C++ enabled' : 'C'}` },
      package_manager: { value: useCmake ? 'cmake' : 'meson', evidence: `${manifest} exists` },
    };
    if (project) fields.name = { value: project, evidence: `${manifest}: project()` };
    const detection: Detection = { id: 'cpp', tier: TIER.bare, fields, toolchain: { install: '', runPrefix: '' } };
    const exe = executables.find((name) => name === project) ?? executables[0];
    if (!exe || exe.includes('$')) {
      ctx.warnings.add(`${manifest} builds no executable we could name (add_executable / executable()): nothing to run`);
      return detection;
    }
    if (executables.length > 1) ctx.warnings.add(`${manifest} builds several executables (${executables.join(', ')}); ${exe} was chosen, the others are not deployed`);
    fields.scripts_build = useCmake
      ? { value: 'cmake -B build -DCMAKE_BUILD_TYPE=Release && cmake --build build', evidence: `${manifest}: add_executable(${exe})` }
      : { value: 'meson setup build --buildtype=release && meson compile -C build', evidence: `${manifest}: executable('${exe}')` };
    fields.scripts_start = { value: `./build/${exe}`, evidence: `the ${exe} executable built into build/` };
    // Runnable, not backend: a CMakeLists.txt next to another runtime's app is often a native helper.
    detection.tier = TIER.runnable;

    const server = await findInSources(ctx, files, SERVER);
    if (server) {
      fields.project_type = { value: 'web', evidence: `${server.file}:${server.line} listens for connections` };
      fields.entry_point = { value: ctx.dir === '' ? server.file : server.file.slice(ctx.dir.length + 1), evidence: `${server.file}:${server.line} starts the server` };
      const port = await portFromSources(ctx, files, PORT_PATTERNS);
      const health = await healthFromSources(ctx, files, [/\"GET (\/(?:health|healthz|ready|readyz|livez)) /]);
      if (health) detection.healthCheck = health;
      if (port) detection.portHints = [port];
    } else {
      fields.project_type = { value: 'worker', evidence: `${exe}: no listening server in the code` };
    }
    return detection;
  },
};
