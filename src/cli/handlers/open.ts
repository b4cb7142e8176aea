import { spawn } from 'node:child_process';
import { resolveOpsTarget, type OpsOptions } from '../../ops/target.js';
import { unservedLocalUrl, urlToOpen } from '../../ops/open.js';
import { mayPrompt, type ExecutionContext } from '../../core/session.js';
import { runHandler } from '../run.js';
import type { Invocation } from '../lazy.js';

interface OpenOptions extends OpsOptions {
  dashboard?: boolean;
  print?: boolean;
}

/** The platform's "open this URL" command, or undefined where no browser can be shown. */
function opener(env: NodeJS.ProcessEnv): { command: string; args: string[] } | undefined {
  if (env.BROWSER) return { command: env.BROWSER, args: [] };
  if (process.platform === 'darwin') return { command: 'open', args: [] };
  if (process.platform === 'win32') return { command: 'cmd', args: ['/c', 'start', '""'] };
  // Elsewhere a browser needs a display: over SSH or in a container there is none.
  return env.DISPLAY || env.WAYLAND_DISPLAY ? { command: 'xdg-open', args: [] } : undefined;
}

/** Starts the browser detached; false when it could not be started (the URL is printed instead). */
function startBrowser(url: string, exec: ExecutionContext): Promise<boolean> {
  const how = opener(exec.env);
  if (!how) return Promise.resolve(false);
  return new Promise((resolve) => {
    try {
      const child = spawn(how.command, [...how.args, url], { detached: true, stdio: 'ignore', env: exec.env });
      child.once('error', () => resolve(false));
      child.once('spawn', () => {
        child.unref();
        resolve(true);
      });
    } catch {
      resolve(false);
    }
  });
}

export default async function openCommand({ options, io }: Invocation<OpenOptions>): Promise<number> {
  return runHandler(options, io, async ({ exec, reporter, session }) => {
    const target = await resolveOpsTarget({ session, options, needService: options.dashboard !== true });
    try {
      const unserved = unservedLocalUrl(target, options.dashboard === true, options.dataDir);
      if (unserved) throw unserved;
      const found = await urlToOpen(target, options.dashboard === true);
      // Only a person at a terminal gets a browser; CI, agents and --json get the URL on stdout.
      const opened = options.print !== true && mayPrompt(exec) ? await startBrowser(found.url, exec) : false;
      if (opened) reporter.info(`Opened ${found.url}`);
      reporter.result({ ...found, opened }, opened ? [] : [found.url], [found.url]);
      return 0;
    } finally {
      await target.close();
    }
  });
}
