/**
 * The refusal checklist: crypto-mining markers in the source or a wallet-address env read, or no
 * service with an entry point or start command. Every reason
 * names the file and line (or the file, when the marker is the file name). Why a service has no
 * start command is said by the runtime detector of its language (its `refusalHint`).
 */
import { SCAN_KNOWLEDGE } from './registry.js';
import type { MiningHit } from './scan-model.js';
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

/** The runtime detector's explanation for the service's language (`refusalHint`), else a generic one. */
function describeMissingStart(service: AnalyzedService): string {
  if (service.language === '') return 'no language could be identified';
  return SCAN_KNOWLEDGE.missingStart.get(service.language) ?? `start commands for ${service.language} are not derived; add a Dockerfile with CMD or a Procfile web entry`;
}
