/**
 * The refusal checklist (spec/analysis.md, client-rules §10): crypto-mining markers in the source
 * or a wallet-address env read, or no service with an entry point or start command. Every reason
 * names the file and line (or the file, when the marker is the file name).
 */
import type { MiningHit } from './scan.js';
import type { AnalyzedService, Refusal } from './schema.js';

const WALLET_ENV = /WALLET_?ADDR(?:ESS)?/i;
const MAX_MARKER_REASONS = 10;

export interface RefusalInput {
  services: AnalyzedService[];
  miningHits: MiningHit[];
  /** Env names with where they were first seen. */
  envNames: Map<string, string>;
  /** Per service: a Dockerfile with CMD/ENTRYPOINT provides the start command. */
  dockerStart: Map<string, string>;
  /** Why no service could be formed (no manifest at all), when that is the case. */
  noServiceReason: string;
}

export function decideRefusal(input: RefusalInput): Refusal {
  const reasons: string[] = [];
  const markers = input.miningHits.map((hit) =>
    hit.line === 0 ? `crypto-mining marker: a file named ${hit.marker} (${hit.file})` : `crypto-mining marker "${hit.marker}" at ${hit.file}:${hit.line}`,
  );
  reasons.push(...markers.slice(0, MAX_MARKER_REASONS));
  if (markers.length > MAX_MARKER_REASONS) reasons.push(`... and ${markers.length - MAX_MARKER_REASONS} more crypto-mining markers`);

  for (const [name, source] of input.envNames) {
    if (WALLET_ENV.test(name)) reasons.push(`reads a wallet-address variable ${name} at ${source} (crypto-mining marker)`);
  }

  if (input.services.length === 0) {
    reasons.push(input.noServiceReason);
  } else {
    const runnable = input.services.some(
      (service) =>
        service.scripts_start !== '' || service.entry_point !== '' || service.project_type === 'static' || input.dockerStart.has(service.source_path),
    );
    if (!runnable) {
      for (const service of input.services) {
        reasons.push(
          `no entry point or start command found for service "${service.name}" (${service.source_path}): ${describeMissingStart(service)}`,
        );
      }
    }
  }
  return { refused: reasons.length > 0, reasons };
}

function describeMissingStart(service: AnalyzedService): string {
  switch (service.language) {
    case 'javascript':
    case 'typescript':
      return 'package.json has no scripts.start or usable main, and no server.js, index.js, app.js or main.js exists';
    case 'python':
      return 'no framework app object and no server.py, app.py or main.py with a server or __main__ block';
    case '':
      return 'no language could be identified';
    case 'go':
      return 'no main package (package main with func main) at the module root, in cmd/* or a top-level folder; add a Dockerfile with CMD or a Procfile web entry';
    case 'rust':
      return 'Cargo.toml builds no binary (no src/main.rs, src/bin/ or [[bin]]); add a Dockerfile with CMD or a Procfile web entry';
    case 'ruby':
      return 'no Rails app, config.ru or Sinatra file that runs; add a Dockerfile with CMD or a Procfile web entry';
    case 'php':
      return 'no front controller (public/index.php or index.php); add a Dockerfile with CMD or a Procfile web entry';
    case 'java':
    case 'kotlin':
      return 'no Spring Boot application or Gradle application plugin; add a Dockerfile with CMD or a Procfile web entry';
    case 'csharp':
    case 'fsharp':
    case 'vbnet':
      return 'no web, worker or executable project; add a Dockerfile with CMD or a Procfile web entry';
    case 'elixir':
      return 'no Phoenix dependency and no application module (application: [mod: ...]); add a Dockerfile with CMD or a Procfile web entry';
    case 'clojure':
      return 'project.clj has no :main (deps.edn: no build.clj or -m alias); add a Dockerfile with CMD or a Procfile web entry';
    case 'crystal':
      return 'shard.yml declares no targets; add a Dockerfile with CMD or a Procfile web entry';
    case 'dart':
      return 'no bin/server.dart or bin/<name>.dart entry (or a Flutter app without web/); add a Dockerfile with CMD or a Procfile web entry';
    case 'gleam':
      return 'no src/<name>.gleam main module; add a Dockerfile with CMD or a Procfile web entry';
    case 'haskell':
      return 'the .cabal file (or package.yaml) declares no executable; add a Dockerfile with CMD or a Procfile web entry';
    case 'scala':
      return 'build.sbt enables neither sbt-native-packager (JavaAppPackaging) nor sbt-assembly; add a Dockerfile with CMD or a Procfile web entry';
    case 'swift':
      return 'Package.swift declares no executable product or target; add a Dockerfile with CMD or a Procfile web entry';
    case 'zig':
      return 'build.zig builds no executable (addExecutable); add a Dockerfile with CMD or a Procfile web entry';
    case 'c':
    case 'cpp':
      return 'CMakeLists.txt / meson.build builds no executable; add a Dockerfile with CMD or a Procfile web entry';
    default:
      return `start commands for ${service.language} are not derived; add a Dockerfile with CMD or a Procfile web entry`;
  }
}
