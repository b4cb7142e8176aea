import { OdError } from '../../core/errors.js';
import { mayPrompt } from '../../core/session.js';
import { apiKeysUrl, dashboardBase, DEFAULT_GATEWAY, displayPath, effectiveGateway } from '../../auth/index.js';
import { login as loginOp, logout as logoutOp, type LoginOptions } from '../../ops/login.js';
import type { GlobalOptions } from '../../core/session.js';
import { runHandler } from '../run.js';
import type { Invocation } from '../lazy.js';

interface LoginFlags extends GlobalOptions, LoginOptions {
  tokenStdin?: boolean;
}

/** A token is at most a few hundred bytes; anything much larger on stdin is not one. */
const MAX_TOKEN_BYTES = 4096;

async function readTokenFromStdin(stdin: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stdin) {
    const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
    size += buffer.length;
    if (size > MAX_TOKEN_BYTES) throw new OdError('invalid_input', 'stdin holds more than a token (over 4 KiB).', { nextAction: 'Pipe only the token.' });
    chunks.push(buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

export async function login({ options, io }: Invocation<LoginFlags>): Promise<number> {
  return runHandler(options, io, async ({ reporter, session, exec }) => {
    let token: string;
    if (options.tokenStdin) {
      token = await readTokenFromStdin(io.stdin ?? process.stdin);
    } else if (mayPrompt(exec)) {
      // Only the hosted dashboard has an API-keys page; no URL is invented for another gateway.
      let where = '';
      try {
        const gateway = effectiveGateway({ flagGateway: options.gateway, env: exec.env });
        if (dashboardBase(gateway) === dashboardBase(DEFAULT_GATEWAY)) where = ` (create one at ${apiKeysUrl(gateway)})`;
      } catch {
        where = '';
      }
      token = await session.prompter.askHidden(`Paste a dashboard token${where}: `);
    } else {
      throw new OdError('invalid_input', 'This run cannot ask for a token.', {
        nextAction: 'Pipe it instead: `printenv OPENDEPLOY_TOKEN | opendeploy login --token-stdin` (or set OPENDEPLOY_TOKEN for one run).',
      });
    }
    const resume = ['opendeploy', 'login', '--token-stdin'];
    if (options.gateway) resume.push('--gateway', options.gateway);
    if (options.authFile) resume.push('--auth-file', JSON.stringify(options.authFile));
    resume.push('--yes');
    const result = await loginOp({ session, options, token, resumeCommand: resume.join(' ') });
    if ((exec.env.OPENDEPLOY_TOKEN ?? '').trim() !== '') {
      reporter.warn('OPENDEPLOY_TOKEN is set in this environment: it is used instead of the saved credential until you unset it.');
    }
    const who = result.profile?.email ? ` as ${result.profile.email}` : '';
    reporter.result(
      { logged_in: true, token: result.token, kind: result.kind, auth_file: result.auth_file, gateway: result.gateway, profile: result.profile, replaced: result.replaced },
      [`Logged in${who} to ${result.gateway} with ${result.token}; saved in ${displayPath(result.auth_file)} (0600).`],
    );
    return 0;
  });
}

export async function logout({ options, io }: Invocation<LoginFlags>): Promise<number> {
  return runHandler(options, io, async ({ reporter, session }) => {
    const result = await logoutOp({ session, options });
    const lines = result.removed
      ? [`Forgot ${result.token ?? 'the credential'}: removed ${displayPath(result.auth_file)}. The token itself stays valid on the gateway until you revoke it in the dashboard.`]
      : [`No credential file at ${displayPath(result.auth_file)}: nothing to forget.`];
    if (result.env_token_set) lines.push('OPENDEPLOY_TOKEN is still set in this environment and is used instead: unset it to be logged out.');
    reporter.result({ logged_out: result.removed, auth_file: result.auth_file, token: result.token, env_token_set: result.env_token_set }, lines);
    return 0;
  });
}
