import { readdir } from 'node:fs/promises';
import { OdError } from '../../core/errors.js';
import { analyzeProject } from '../../analyze/index.js';
import { manifestOf, selectFiles, walkProject } from '../../archive/index.js';
import { writeAnalysisFile } from '../state.js';
import type { DeployContext } from '../context.js';

/**
 * Stage 1: analyze the folder locally (no network), save analysis.json, and apply the refusal
 * checklist before any credential is resolved or anything is created on the gateway. The file
 * selection made here is reused by the archive stage, so the tree is walked once.
 */
export async function analyzeStage(ctx: DeployContext): Promise<void> {
  ctx.reporter.stageStart('analyze', 'Analyzing project');
  // One walk for both: the listing (with the small files' contents the secret checks read) is
  // dropped after this stage; only the selection is kept for the archive.
  const listing = await walkProject(ctx.inputs.root);
  const selection = await selectFiles(ctx.inputs.root, { listing });
  ctx.selection = selection;
  await refuseEmptyFolder(ctx.inputs.root);
  const analysis = await analyzeProject(ctx.inputs.root, { archive: manifestOf(selection), listing });
  ctx.analysis = analysis;
  await writeAnalysisFile(ctx.inputs.root, analysis);

  for (const warning of analysis.warnings) ctx.reporter.warn(warning);
  const first = analysis.services[0];
  const summary = analysis.services
    .map((service) => {
      const kind = service.framework || service.language || 'unknown';
      return `${service.name} (${kind}${service.port ? `, port ${service.port}` : ''})`;
    })
    .join(', ');
  ctx.audit.info('analyze', {
    services: analysis.services.map((service) => service.name),
    framework: first?.framework ?? '',
    language: first?.language ?? '',
    port: first?.port ?? null,
    refused: analysis.refusal.refused,
  });
  ctx.reporter.stageDone('analyze', `Analyzed: ${summary || 'no deployable service found'}`, {
    services: analysis.services.map((service) => ({
      name: service.name,
      language: service.language,
      framework: service.framework,
      port: service.port,
      start: service.scripts_start,
    })),
  });

  refusalStage(ctx);
}

/**
 * A folder with nothing in it (only opendeploy's own `.opendeploy/` at most) gets its own message:
 * the refusal checklist's "remove what the reason names" would send the user looking for a marker.
 */
async function refuseEmptyFolder(root: string): Promise<void> {
  const entries = await readdir(root).catch(() => undefined);
  if (entries === undefined || entries.some((name) => name !== '.opendeploy')) return;
  throw new OdError('analysis_incomplete', `Nothing to deploy in ${root}: the folder is empty.`, {
    nextAction: 'Add the project files (or pass the path of the project folder), then run again.',
    details: { reason: 'empty_folder' },
  });
}

/** The refusal checklist: mining markers or nothing to run stop the deploy before any mutation. */
function refusalStage(ctx: DeployContext): void {
  const analysis = ctx.analysis;
  if (!analysis) return;
  if (analysis.refusal.refused) {
    const reasons = analysis.refusal.reasons;
    ctx.audit.warn('refusal', { reasons });
    throw new OdError('refused', `Refusing to deploy: ${reasons[0] ?? 'the refusal checklist matched'}`, {
      nextAction:
        reasons.length > 1
          ? `Other reasons: ${reasons.slice(1).join('; ')}.`
          : 'Remove what the reason names (or add a start command / entry point), then re-run.',
      details: { reasons },
    });
  }
  if (analysis.services.length === 0) {
    throw new OdError('analysis_incomplete', 'Local analysis found nothing to deploy in this folder.', {
      nextAction: 'Run `opendeploy analyze --explain` to see what was found, then add a start script or entry point.',
    });
  }
  const portless = analysis.services.filter((service) => service.project_type === 'web' && service.port === null);
  if (portless.length > 0) {
    throw new OdError(
      'analysis_incomplete',
      `Could not tell which port ${portless.map((service) => service.name).join(', ')} listens on, and opendeploy never guesses.`,
      {
        nextAction: 'Make the app listen on process.env.PORT (or add EXPOSE to its Dockerfile), then re-run.',
      },
    );
  }
}
