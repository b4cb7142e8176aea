import path from 'node:path';
import { stat } from 'node:fs/promises';
import { OdError } from '../../core/errors.js';
import type { Analysis } from '../../analyze/index.js';
// Straight from the module, not analyze/index + archive/index: analyze never loads the zip writer.
import { analyzeFolder } from '../../analyze/folder.js';
import { writeAnalysisFile } from '../../deploy/state-files.js';
import type { GlobalOptions } from '../../core/session.js';
import { runHandler } from '../run.js';
import type { Invocation } from '../lazy.js';

export interface AnalyzeOptions extends GlobalOptions {
  explain?: boolean;
}

export default async function analyzeCommand({ args, options, io }: Invocation<AnalyzeOptions>): Promise<number> {
  const target = args[0] as string | undefined;
  return runHandler(options, io, async ({ exec, reporter }) => {
    const root = path.resolve(exec.cwd, target ?? '.');
    const info = await stat(root).catch(() => undefined);
    if (!info?.isDirectory()) {
      throw new OdError('invalid_input', `${root} is not a folder.`, { nextAction: 'Pass the path of the project folder to analyze.' });
    }
    const { analysis } = await analyzeFolder(root);
    await saveAnalysis(root, analysis);
    reporter.document(analysis, humanAnalysis(analysis, options.explain === true));
    return 0;
  });
}

/**
 * Writes `.opendeploy/analysis.json`. A folder we cannot write to (read-only mount, `.opendeploy`
 * that is a file) must not cost the user the analysis itself: the failure becomes a warning of the
 * printed analysis instead of an `internal` error.
 */
async function saveAnalysis(root: string, analysis: Analysis): Promise<void> {
  try {
    await writeAnalysisFile(root, analysis);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException | undefined)?.code ?? 'error';
    analysis.warnings.push(`.opendeploy/analysis.json could not be written (${code}); the analysis is printed only`);
  }
}

export function humanAnalysis(analysis: Analysis, explain: boolean): string[] {
  const lines: string[] = [];
  for (const service of analysis.services) {
    lines.push(`${service.name}  (${service.source_path})`);
    const rows: [string, string][] = [
      ['language', [service.language, service.language_version].filter(Boolean).join(' ')],
      ['framework', service.framework],
      ['type', service.project_type],
      ['package manager', [service.package_manager, service.lockfile ? `(${service.lockfile})` : ''].filter(Boolean).join(' ')],
      ['port', service.port === null ? '' : String(service.port)],
      ['build', service.scripts_build],
      ['start', service.scripts_start],
      ['output', service.output_directory],
      ['databases', service.dependencies.join(', ')],
      ['runtime vars', service.runtime_vars.map((v) => (v.required ? `${v.name}*` : v.name)).join(', ')],
      ['build vars', service.build_time_vars.map((v) => v.name).join(', ')],
      ['health check', service.health_check_path],
    ];
    for (const [label, value] of rows) if (value) lines.push(`  ${label.padEnd(16)}${value}`);
    if (explain) {
      lines.push('  evidence:');
      for (const item of service.evidence) lines.push(`    ${item.decision} = ${String(item.value)}  ← ${item.evidence}`);
    }
  }
  const archive = analysis.archive;
  lines.push(`archive: ${archive.files} files, ${archive.bytes} bytes${archive.excluded_secrets.length ? `; secret-like files left out: ${archive.excluded_secrets.join(', ')}` : ''}`);
  for (const warning of analysis.warnings) lines.push(`warning: ${warning}`);
  if (analysis.refusal.refused) lines.push(`refused: ${analysis.refusal.reasons.join('; ')}`);
  return lines;
}
