/**
 * Actix Web: an `actix-web` dependency. The address comes from `HttpServer::bind(("0.0.0.0", 8080))`
 * in code through the port rules; Actix's conventional port 8080 otherwise.
 */
import type { FrameworkDetector } from '../types.js';
import { rustFramework } from './rust.js';

export const actix: FrameworkDetector = {
  id: 'actix',
  kind: 'framework',
  runtimes: ['rust'],
  serverStarts: [{ language: 'rs', pattern: /\bHttpServer::new\b/ }],
  async detect(ctx) {
    const found = await rustFramework(ctx, 'actix', 'actix-web');
    if (!found) return null;
    return { ...found.detection, portDefault: { value: 8080, evidence: 'Actix Web conventional port 8080' } };
  },
};
