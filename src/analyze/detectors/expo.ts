/**
 * Expo: an `expo` dependency. Its web target (react-native-web) exports a static bundle with
 * `expo export --platform web` into `dist` (`--output-dir` moves it; the webpack-era
 * `expo export:web` wrote `web-build`), which the platform serves as files, the way railpack serves
 * an Expo SPA. `expo start` is the Metro development server and is never a start command. An Expo
 * app without a web target is a mobile app: there is nothing to serve, and the analysis says so.
 */
import { chain } from '../package-manager.js';
import { TIER, inDir, type Conclusion, type DetectContext, type FrameworkDetector } from '../types.js';
import { hasAnyDependency, hasDependency, nodeTools } from './node.js';
import { staticDetection } from './static-builders.js';

/** A script that exports the web bundle (`expo export --platform web`, `expo export:web`). */
const EXPORT_WEB = /\bexpo\s+export(?::web\b|\b[^&|;]*--platform[=\s]+(?:web|all)\b)/;

/** app.json `expo.web.output` ('single', 'static' or 'server'), when app.json sets it. */
async function webOutput(ctx: DetectContext): Promise<{ value: string; evidence: string } | null> {
  const rel = inDir(ctx.dir, 'app.json');
  const text = await ctx.manifests.text(rel);
  if (text === null) return null;
  try {
    const doc = JSON.parse(text) as { expo?: { web?: { output?: unknown } } };
    const output = doc.expo?.web?.output;
    return typeof output === 'string' ? { value: output, evidence: `${rel}: expo.web.output "${output}"` } : null;
  } catch {
    ctx.warnings.add(`${rel} is not valid JSON; the Expo web output mode was not read`);
    return null;
  }
}

export const expo: FrameworkDetector = {
  id: 'expo',
  kind: 'framework',
  runtimes: ['node'],
  publicEnvPrefixes: ['EXPO_PUBLIC_'],
  async detect(ctx) {
    const pkg = await ctx.manifests.packageJson(ctx.dir);
    const evidence = pkg ? hasDependency(pkg, 'expo') : undefined;
    if (!pkg || !evidence) return null;
    const tools = nodeTools(ctx);

    const script = Object.entries(pkg.scripts).find(([name, command]) => name === 'build' && EXPORT_WEB.test(command)) ?? Object.entries(pkg.scripts).find(([, command]) => EXPORT_WEB.test(command));
    const web = hasAnyDependency(pkg, 'react-native-web');
    if (!web && !script) {
      ctx.warnings.add(
        `${pkg.path}: this Expo app has no web target (no react-native-web dependency and no \`expo export --platform web\` script); a mobile app has nothing to serve here, and \`expo start\` is a development server`,
      );
      return {
        id: 'expo',
        tier: TIER.frontend,
        fields: {
          framework: { value: '', evidence: `expo (${evidence}) is not a listed framework` },
          scripts_start: { value: '', evidence: `${evidence}: a mobile app without a web target has no process to run` },
          entry_point: { value: '', evidence: `${evidence}: a mobile app without a web target has no server entry` },
        },
      };
    }

    const command = script?.[1] ?? '';
    const legacy = /\bexpo\s+export:web\b/.test(command);
    const dir = /--output-dir[=\s]+([\w./-]+)/.exec(command)?.[1]?.replace(/^\.\//, '').replace(/\/$/, '');
    const mode = await webOutput(ctx);
    let output: Conclusion<string>;
    if (dir) output = { value: dir, evidence: `${pkg.path}: scripts.${script?.[0]} "${command}" (--output-dir)` };
    else if (legacy) output = { value: 'web-build', evidence: 'expo export:web (webpack) writes web-build/' };
    else if (mode?.value === 'server') {
      // Server output puts the browser files in dist/client and API routes in dist/server, which need a server adapter.
      ctx.warnings.add(`${mode.evidence}: API routes need a server adapter (expo-server with Express or another host); only the static client in dist/client is served here`);
      output = { value: 'dist/client', evidence: `${mode.evidence}: expo export writes the client to dist/client` };
    } else output = { value: 'dist', evidence: 'expo export --platform web writes dist/' };

    const build: Conclusion<string> = script
      ? { value: chain(tools.install, script[0] === 'build' ? tools.build() : tools.run(script[0])), evidence: `${pkg.path}: scripts.${script[0]} "${command}"` }
      : { value: chain(tools.install, tools.exec('expo export --platform web')), evidence: `${web}: the web target is exported with expo export --platform web; ${pkg.path} has no export script` };
    return staticDetection('expo (expo export --platform web)', evidence, output, build);
  },
};
