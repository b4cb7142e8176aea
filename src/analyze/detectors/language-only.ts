/**
 * Shared by the detectors that, in this version, only identify a language (go, rust, ruby, php):
 * they never invent a framework or commands; the warning says what is missing and how to supply it.
 */
import type { DetectContext } from '../types.js';

export function languageOnlyWarning(ctx: DetectContext, language: string): void {
  ctx.warnings.add(
    `${language} project: this version of the analyzer identifies the language only; framework, build and start commands were not derived (add a Dockerfile with CMD or a Procfile web entry)`,
  );
}
