/**
 * Scripted outcomes for the next deployments (`POST /__local/next-deployment`) and the plan every
 * new deployment row carries. The plan is decided when the row is created, in both modes: a
 * deployment of a project with no bound source always fails first, whatever is scripted.
 */

import type { DeploymentPlan } from './store.js';

export interface DeploymentScript {
  outcome: 'success' | 'failed';
  phase?: 'build' | 'deploy' | 'runtime';
  error_msg?: string;
  log_lines?: string[];
}

/** The hosted failure string for a deployment whose project has no bound source. */
export const NO_SOURCE_ERROR = 'Service failed to deploy';

export class DeploymentScripts {
  private scripts: DeploymentScript[] = [];

  queue(script: DeploymentScript, count: number): number {
    for (let i = 0; i < count; i++) this.scripts.push(script);
    return this.scripts.length;
  }

  clear(): void {
    this.scripts = [];
  }

  list(): DeploymentScript[] {
    return this.scripts;
  }

  /** The plan of a new deployment: no bound source wins over any script (it fails first). */
  planFor(hasSource: boolean): DeploymentPlan {
    if (!hasSource) return { outcome: 'failed', phase: 'source', error_msg: NO_SOURCE_ERROR };
    const script = this.scripts.shift();
    if (!script) return { outcome: 'success' };
    const plan: DeploymentPlan = { outcome: script.outcome };
    if (script.outcome === 'failed') plan.phase = script.phase ?? 'build';
    if (script.error_msg !== undefined) plan.error_msg = script.error_msg;
    if (script.log_lines !== undefined) plan.log_lines = script.log_lines;
    return plan;
  }
}
