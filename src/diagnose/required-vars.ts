/** Which runtime variables the analysis marks required, and which of them a service lacks. */
import type { AnalyzedService } from '../analyze/index.js';

/** The names the analysis marks required for one service, sorted. */
export function requiredVarNames(service: Pick<AnalyzedService, 'runtime_vars'>): string[] {
  return [...new Set(service.runtime_vars.filter((variable) => variable.required).map((variable) => variable.name))].sort();
}

/**
 * Which of `required` the service does not have. An empty value counts as missing: the app sees
 * an empty string, which is what a required check rejects.
 */
export function missingRequiredVars(required: readonly string[], serviceEnv: Record<string, string>): string[] {
  return required.filter((name) => (serviceEnv[name] ?? '') === '');
}
