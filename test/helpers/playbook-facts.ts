import type { PlaybookFacts } from '../../src/diagnose/playbook.js';

/** A deployment that failed after its build, on a bound credential, with a Node service on 3000. */
export function runtime(extra: Partial<PlaybookFacts> = {}): PlaybookFacts {
  return {
    status: 'failed',
    progress: 90,
    lastPhase: 'deploying',
    bound: true,
    service: { port: 3000, memoryLimit: '1Gi', envKeys: ['PORT'], portEnv: '3000', startCommand: 'node server.js', buildCommand: 'npm run build' },
    dependencies: [],
    ...extra,
  };
}
