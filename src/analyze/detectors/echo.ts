/**
 * Echo: a direct `github.com/labstack/echo` (/v4) requirement in go.mod. Echo has no default
 * address (`e.Start(":1323")` in code decides); without one, Go's conventional 8080 is used.
 */
import type { FrameworkDetector } from '../types.js';
import { goFramework } from './go.js';

export const echo: FrameworkDetector = {
  id: 'echo',
  kind: 'framework',
  runtimes: ['go'],
  detect: (ctx) => goFramework(ctx, 'echo', 'github.com/labstack/echo', 'Go HTTP server: conventional default port 8080 (no e.Start address found)'),
};
