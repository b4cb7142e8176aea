/**
 * Gin: a direct `github.com/gin-gonic/gin` requirement in go.mod. `r.Run()` with no address listens
 * on $PORT, else 8080; an explicit address in code (`r.Run(":3000")`) wins through the port rules.
 */
import type { FrameworkDetector } from '../types.js';
import { goFramework } from './go.js';

export const gin: FrameworkDetector = {
  id: 'gin',
  kind: 'framework',
  runtimes: ['go'],
  detect: (ctx) => goFramework(ctx, 'gin', 'github.com/gin-gonic/gin', 'Gin Run() without an address listens on $PORT or 8080'),
};
