/**
 * NestJS: an `@nestjs/core` dependency. `nest build` compiles to `dist/`, and the production start is
 * `node dist/main` (the scaffold's `start:prod`); `nest start` compiles on every start and needs the
 * CLI, so it is not used. The port comes from `app.listen(process.env.PORT ?? 3000)` in the code;
 * 3000 is the scaffold's default.
 */
import { healthRank } from '../scan-model.js';
import { TIER, inDir, type Conclusion, type DetectContext, type FrameworkDetector } from '../types.js';
import { entryOfStartScript, frameworkBuild, hasDependency, nodeTools } from './node.js';

/** `node dist/main` -> `dist/main.js` (Node resolves the extension). */
function entryOfNodeScript(script: string): string {
  const direct = entryOfStartScript(script);
  if (direct) return direct;
  const bare = /\bnode\s+(?:-\S+\s+)*([\w./-]+)\s*$/.exec(script.trim())?.[1];
  return bare && !/\.\w+$/.test(bare) ? `${bare.replace(/^\.\//, '')}.js` : '';
}

/** `@Get('health')` in a controller (with its `@Controller('prefix')` and the global prefix). */
async function healthRoute(ctx: DetectContext): Promise<Conclusion<string> | undefined> {
  const files = ctx.fs.filesUnder(inDir(ctx.dir, 'src')).filter((file) => /\.controller\.[jt]s$/.test(file) || /\/main\.[jt]s$/.test(file)).slice(0, 200);
  let globalPrefix = '';
  const found: Array<{ path: string; evidence: string }> = [];
  for (const file of files) {
    const text = (await ctx.fs.read(file))?.text ?? '';
    const prefix = /\.setGlobalPrefix\(\s*['"]\/?([^'"]*?)\/?['"]/.exec(text);
    if (prefix) globalPrefix = prefix[1] as string;
    const controller = /@Controller\(\s*(?:['"]\/?([^'"]*?)\/?['"])?\s*\)/.exec(text);
    if (!controller) continue;
    const get = /@Get\(\s*['"]\/?(health|healthz|ready|readyz|livez)['"]\s*\)/.exec(text);
    if (!get) continue;
    const line = text.slice(0, get.index).split('\n').length;
    found.push({ path: [controller[1] ?? '', get[1] as string].filter((part) => part !== '').join('/'), evidence: `${file}:${line}` });
  }
  const best = found.map((hit) => ({ ...hit, path: `/${[globalPrefix, hit.path].filter((part) => part !== '').join('/')}` })).sort((a, b) => healthRank(a.path) - healthRank(b.path))[0];
  return best ? { value: best.path, evidence: `${best.evidence} @Get route` } : undefined;
}

export const nestjs: FrameworkDetector = {
  id: 'nestjs',
  kind: 'framework',
  runtimes: ['node'],
  async detect(ctx) {
    const pkg = await ctx.manifests.packageJson(ctx.dir);
    const evidence = pkg ? hasDependency(pkg, '@nestjs/core') : undefined;
    if (!pkg || !evidence) return null;
    const tools = nodeTools(ctx);

    // nest-cli.json: `entryFile` (default main) and monorepo mode (dist/apps/<app>/main).
    let entryFile = 'main';
    const cliRel = inDir(ctx.dir, 'nest-cli.json');
    const cli = (await ctx.fs.read(cliRel))?.text;
    if (cli !== undefined) {
      const entryMatch = /"entryFile"\s*:\s*"([^"]+)"/.exec(cli);
      if (entryMatch) entryFile = entryMatch[1] as string;
      if (/"monorepo"\s*:\s*true/.test(cli)) ctx.warnings.add(`${cliRel}: Nest monorepo mode builds each app to dist/apps/<app>/; check the start command of the app to deploy`);
    }

    const prod = pkg.scripts['start:prod'];
    const start = pkg.scripts.start;
    let scriptsStart: Conclusion<string>;
    let entry = '';
    if (prod !== undefined) {
      scriptsStart = { value: tools.run('start:prod'), evidence: `${pkg.path}: scripts["start:prod"] "${prod}"` };
      entry = entryOfNodeScript(prod);
    } else if (start !== undefined && !/\bnest\s+start\b/.test(start)) {
      scriptsStart = { value: tools.start(), evidence: `${pkg.path}: scripts.start "${start}"` };
      entry = entryOfNodeScript(start);
    } else {
      scriptsStart = { value: tools.here(`node dist/${entryFile}`), evidence: `${evidence}: nest build writes dist/${entryFile}.js${start ? ` (scripts.start "${start}" recompiles on every start)` : ''}` };
      entry = `dist/${entryFile}.js`;
    }
    const healthCheck = await healthRoute(ctx);
    return {
      id: 'nestjs',
      tier: TIER.backend,
      ...(healthCheck ? { healthCheck } : {}),
      fields: {
        framework: { value: 'nestjs', evidence },
        project_type: { value: 'web', evidence },
        output_directory: { value: 'dist', evidence: 'nest build output' },
        scripts_build: frameworkBuild(ctx, pkg, 'nest build', evidence),
        scripts_start: scriptsStart,
        entry_point: { value: entry, evidence: scriptsStart.evidence },
      },
      portDefault: { value: 3000, evidence: 'NestJS scaffold default port 3000' },
    };
  },
};
