/**
 * Fiber: a direct `github.com/gofiber/fiber` (/v2, /v3) requirement in go.mod. The address comes
 * from `app.Listen(":3000")` in code; without one, Go's conventional 8080 is used.
 */
import type { FrameworkDetector } from '../types.js';
import { goFramework } from './go.js';

export const fiber: FrameworkDetector = {
  id: 'fiber',
  kind: 'framework',
  runtimes: ['go'],
  detect: (ctx) => goFramework(ctx, 'fiber', 'github.com/gofiber/fiber', 'Go HTTP server: conventional default port 8080 (no app.Listen address found)'),
};
