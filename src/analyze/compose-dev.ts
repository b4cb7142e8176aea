/**
 * Is a compose file a development environment? Then it is not production evidence: its ports
 * (a Vite dev server, a debugger), databases and environment describe the developer's machine.
 *
 * Only the standard names (compose.yaml, docker-compose.yml, ...) are read at all: an override
 * named for development (`docker-compose.dev.yml`, `compose.local.yaml`) is never evidence. A
 * standard file is a development environment when
 * - every service it builds is a development build: a development Dockerfile (`Dockerfile.dev`,
 *   `dev.Dockerfile`), a development build target, or the source mounted into the container
 *   (`.:/app`, `./src:/app/src`) so that edits reload without a rebuild, or
 * - its header comment (the comment lines before the first key) says so (`# Development
 *   environment ...`, `# For local development only`), unless it points elsewhere (`# for
 *   development use docker-compose.dev.yml`) or also speaks of production. Comments further down
 *   (`# uncomment for development`) describe one line, not the file.
 */
import type { ComposeFile, ComposeService } from './compose-model.js';

const DEV_NAME = /(?:^|[.-])(?:dev|develop|development|local)(?:[.-]|$)/i;
const DEV_TARGET = /^(?:dev|develop|development|local|debug)$/i;
const DEV_COMMENT = /\b(?:development (?:environment|setup|only|stack|use)|(?:for|local) development|dev (?:environment|setup|stack|only)|hot[- ]reload(?:ing)?)\b/i;
const POINTS_ELSEWHERE = /\b(?:compose[\w.-]*\.ya?ml|production|prod)\b/i;
/**
 * Folders that hold source code: mounting one of them (directly below the build context) is
 * mounting the source. `public/`, `storage/`, `data/`, `config/` hold data or settings a
 * production container may well mount, so they are not listed.
 */
const SOURCE_DIRS = new Set(['src', 'app', 'lib', 'server', 'client', 'frontend', 'backend', 'api', 'web', 'pages', 'components', 'routes']);

function baseName(file: string): string {
  return file.split('/').pop() ?? file;
}

/** `Dockerfile.dev`, `dev.Dockerfile`, `Dockerfile-local`; not `Dockerfile` or `devtools.Dockerfile`. */
export function isDevelopmentDockerfile(path: string): boolean {
  return path !== '' && DEV_NAME.test(baseName(path));
}

/** Why one built service is a development build, or `''`. */
function developmentBuild(service: ComposeService, composeDir: string): string {
  const reasons: string[] = [];
  if (isDevelopmentDockerfile(service.dockerfile)) reasons.push(`builds ${service.dockerfile}`);
  if (service.target && DEV_TARGET.test(service.target)) reasons.push(`builds the "${service.target}" target`);
  const context = service.context ?? '';
  const source = service.mounts.find((mount) => {
    if (mount === context || mount === composeDir) return true;
    const inside = context === '' ? mount : mount.startsWith(`${context}/`) ? mount.slice(context.length + 1) : null;
    return inside !== null && !inside.includes('/') && SOURCE_DIRS.has(inside);
  });
  if (source !== undefined) reasons.push(`mounts the source (${source === '' ? '.' : source}) into the container`);
  return reasons.length > 0 ? `services.${service.name} ${reasons.join(' and ')}` : '';
}

/** Why the compose file is a development environment, or `''` when it may describe production. */
export function developmentReason(file: ComposeFile, text: string, composeDir: string): string {
  const built = file.services.filter((service) => service.context !== null && !service.external && service.engine === null);
  const reasons = built.map((service) => developmentBuild(service, composeDir));
  if (built.length > 0 && reasons.every((reason) => reason !== '')) return reasons.join('; ');
  const lines = text.split(/\r?\n/);
  for (const [index, line] of lines.entries()) {
    if (line.trim() === '' || /^\s*---\s*$/.test(line)) continue;
    const comment = /^\s*#(.*)$/.exec(line)?.[1];
    if (comment === undefined) break;
    if (DEV_COMMENT.test(comment) && !POINTS_ELSEWHERE.test(comment)) return `its header comment at ${file.path}:${index + 1} says so`;
  }
  return '';
}
