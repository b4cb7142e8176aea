/**
 * Rocket: a `rocket` dependency. Rocket listens on 127.0.0.1:8000 unless configured, so the start
 * command sets ROCKET_ADDRESS=0.0.0.0 and ROCKET_PORT=$PORT (env overrides Rocket.toml). The port is
 * Rocket.toml's `port` (release, then global, then default profile), else Rocket's default 8000.
 */
import { parseToml } from '../toml.js';
import { inDir, type Conclusion, type Detection, type FrameworkDetector } from '../types.js';
import { rustFramework } from './rust.js';

export const rocket: FrameworkDetector = {
  id: 'rocket',
  kind: 'framework',
  runtimes: ['rust'],
  serverStarts: [{ language: 'rs', pattern: /#\[(?:rocket::)?launch\]/ }],
  async detect(ctx) {
    const found = await rustFramework(ctx, 'rocket', 'rocket');
    if (!found) return null;
    const detection: Detection = { ...found.detection, portDefault: { value: 8000, evidence: 'Rocket default port 8000' } };
    const rel = inDir(ctx.dir, 'Rocket.toml');
    const text = await ctx.manifests.text(rel);
    if (text !== null) {
      try {
        const doc = parseToml(text) as Record<string, unknown>;
        for (const profile of ['release', 'global', 'default']) {
          const port = (doc[profile] as Record<string, unknown> | undefined)?.port;
          if (typeof port === 'number' && Number.isInteger(port) && port > 0 && port < 65536) {
            detection.portHints = [{ value: port, evidence: `${rel}: ${profile}.port` } satisfies Conclusion<number>];
            break;
          }
        }
      } catch {
        ctx.warnings.add(`${rel} is not valid TOML; its port was not read`);
      }
    }
    const start = ctx.runtime.fields.scripts_start;
    if (start) {
      detection.fields.scripts_start = {
        value: `ROCKET_ADDRESS=0.0.0.0 ROCKET_PORT=$PORT ${start.value}`,
        evidence: `${start.evidence}; Rocket binds 127.0.0.1 unless ROCKET_ADDRESS is set`,
      };
    }
    return detection;
  },
};
