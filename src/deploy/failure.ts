import type { ErrorCode } from '../errors.js';

/** What a failed deployment most likely died of, with the log lines that show it. */
export interface FailureDiagnosis {
  code: Extract<ErrorCode, 'build_failed' | 'runtime_crash' | 'deploy_failed' | 'cancelled'>;
  cause: string;
  nextAction: string;
  evidence: string[];
  /** True when the source must be uploaded and bound again before a retry can work. */
  rebindSource: boolean;
}

export interface FailedDeploymentFacts {
  status: string;
  progress?: number | null;
  error_msg?: string | null;
  /** The last non-terminal status seen while watching (building, deploying, ...). */
  lastPhase?: string;
  /** Seconds between creation and failure, when known. */
  durationSeconds?: number;
}

interface Rule {
  code: FailureDiagnosis['code'];
  pattern: RegExp;
  cause: string;
  nextAction: string;
}

/** Ordered: the most specific signatures first. Patterns match log lines, not JSON. */
const RULES: Rule[] = [
  {
    code: 'runtime_crash',
    pattern: /OOMKilled|JavaScript heap out of memory|out of memory|MemoryError|Killed\s*$/i,
    cause: 'the app ran out of memory',
    nextAction: 'Give it more memory (a claimed account can raise memory_limit) or reduce its memory use, then redeploy.',
  },
  {
    code: 'runtime_crash',
    pattern: /EADDRINUSE|readiness probe failed|liveness probe failed|connection refused|no process listening|port mismatch|did not (?:start )?listen/i,
    cause: 'the app did not answer on the port the service expects',
    nextAction: 'Make the app listen on 0.0.0.0 and process.env.PORT (the service port), then redeploy.',
  },
  {
    code: 'build_failed',
    pattern: /npm ERR!|ERR_PNPM|yarn error|error TS\d+|Build failed|build command failed|failed to solve|Could not find a version that satisfies|No matching distribution|error\[E\d+\]|compilation failed|exit code: [1-9]/i,
    cause: 'the build command failed',
    nextAction: 'Run the same build locally (see the log lines above), fix it, then run `opendeploy` again.',
  },
  {
    code: 'runtime_crash',
    pattern: /Traceback \(most recent call last\)|Cannot find module|ModuleNotFoundError|ImportError|Unhandled(?:Promise)?Rejection|CrashLoopBackOff|exited with code [1-9]|panic:|Segmentation fault/i,
    cause: 'the app crashed while starting',
    nextAction: 'Start it locally with the same start command and environment, fix the error shown above, then redeploy.',
  },
  {
    code: 'runtime_crash',
    pattern: /(?:missing|undefined|not set|required).{0,40}(?:env|environment variable)|KeyError: '[A-Z0-9_]+'|environment variable .{0,40}(?:missing|not set|required)/i,
    cause: 'a required environment variable is missing',
    nextAction: 'Set it with `opendeploy env set KEY=VALUE` (or --env-file on deploy), then redeploy.',
  },
];

const SOURCE_NOT_BOUND = /Service failed(?: to deploy)?/i;

export function diagnoseFailure(facts: FailedDeploymentFacts, logLines: string[]): FailureDiagnosis {
  if (facts.status === 'cancelled') {
    return { code: 'cancelled', cause: 'the deployment was cancelled', nextAction: 'Run `opendeploy` again to deploy.', evidence: [], rebindSource: false };
  }
  // The progress-10 signature: the workflow started with no bound source and logged nothing.
  if ((facts.progress ?? 0) <= 10 && logLines.length === 0 && SOURCE_NOT_BOUND.test(facts.error_msg ?? '')) {
    return {
      code: 'deploy_failed',
      cause: 'the source was never bound to the project (update-source was skipped, failed, or its upload expired)',
      nextAction: 'Run `opendeploy` again: it uploads and binds the source before deploying.',
      evidence: [`progress=${facts.progress ?? 0}, error_msg="${facts.error_msg ?? ''}", no log lines`],
      rebindSource: true,
    };
  }
  // Log lines are the evidence; the gateway's own error_msg is only consulted when they name nothing.
  const errorMessage = facts.error_msg ? [facts.error_msg] : [];
  for (const haystack of [logLines, errorMessage]) {
    for (const rule of RULES) {
      const evidence = haystack.filter((line) => rule.pattern.test(line)).slice(-5);
      if (evidence.length === 0) continue;
      // A build error pattern seen after the build finished is not a build failure.
      if (rule.code === 'build_failed' && facts.lastPhase && facts.lastPhase !== 'building' && facts.lastPhase !== 'pending') continue;
      return { code: rule.code, cause: rule.cause, nextAction: rule.nextAction, evidence, rebindSource: false };
    }
  }
  const inBuild = facts.lastPhase === 'building' || facts.lastPhase === 'pending' || facts.lastPhase === 'analyzing';
  return {
    code: inBuild ? 'build_failed' : 'deploy_failed',
    cause: inBuild ? 'the build failed for a reason the logs do not name' : 'the deployment failed for a reason the logs do not name',
    nextAction: 'Read the last log lines above; `opendeploy logs --tail 300` shows more.',
    evidence: logLines.slice(-5),
    rebindSource: false,
  };
}
