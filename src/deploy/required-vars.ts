import path from 'node:path';
import { readFile } from 'node:fs/promises';
import type { AnalyzedService } from '../analyze/index.js';
import { stateDir } from './state.js';
import { dnsSafeName } from './stages/project.js';
import { requiredVarNames } from '../diagnose/required-vars.js';

/**
 * Required runtime variables: the analysis marks a variable `required` when the app cannot start
 * without it. Deploy warns before the build about the ones the service lacks, and both the deploy's
 * failure summary and `opendeploy triage` name them first — so both compute them here, the same way,
 * from the service's stored variables. Names only: values never leave this module.
 */


/**
 * The required names of the analysed service a gateway service was created from, read from the
 * folder's `.opendeploy/analysis.json` (the deploy writes it). `undefined` when the folder has no
 * analysis or no service of that name: then nothing is known, which is not the same as "none".
 */
export async function readRequiredVars(root: string, serviceName: string): Promise<string[] | undefined> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(path.join(stateDir(root), 'analysis.json'), 'utf8'));
  } catch {
    return undefined;
  }
  const services = (parsed as { services?: unknown }).services;
  if (!Array.isArray(services)) return undefined;
  for (const service of services as Partial<AnalyzedService>[]) {
    if (typeof service.name !== 'string' || !Array.isArray(service.runtime_vars)) continue;
    if (dnsSafeName(service.name) !== serviceName) continue;
    const vars = service.runtime_vars.filter(
      (variable): variable is AnalyzedService['runtime_vars'][number] => typeof variable?.name === 'string' && typeof variable.required === 'boolean',
    );
    return requiredVarNames({ runtime_vars: vars });
  }
  return undefined;
}
