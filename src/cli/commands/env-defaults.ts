/** Where `env pull` writes by default: matched by `.env.*`, so it is never uploaded with the source. */
export const DEFAULT_PULL_FILE = '.env.opendeploy';
