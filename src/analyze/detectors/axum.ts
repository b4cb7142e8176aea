/**
 * Axum: an `axum` dependency. Axum has no default address: the port comes from
 * `TcpListener::bind("0.0.0.0:3000")` (or a PORT fallback) in code, else it is unknown.
 */
import type { FrameworkDetector } from '../types.js';
import { rustFramework } from './rust.js';

export const axum: FrameworkDetector = {
  id: 'axum',
  kind: 'framework',
  runtimes: ['rust'],
  serverStarts: [{ language: 'rs', pattern: /\baxum::serve\b/ }],
  async detect(ctx) {
    return (await rustFramework(ctx, 'axum', 'axum'))?.detection ?? null;
  },
};
