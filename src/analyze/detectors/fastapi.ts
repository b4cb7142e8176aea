/**
 * FastAPI: a `fastapi` dependency. The ASGI target `module:object` comes from parsing
 * `X = FastAPI(`, or an app factory (`app = get_application()`, or uvicorn `--factory` when only the
 * factory exists); started with uvicorn (a dependency, or `fastapi[standard]` which ships it) or
 * hypercorn on $PORT. Default port 8000 (uvicorn).
 */
import { TIER, type Conclusions, type FrameworkDetector } from '../types.js';
import { findFactoryApp, importTarget, pickAppObject, pythonDependency, runtimePrefix } from './python.js';

const PREFERRED = ['main.py', 'app.py', 'app/main.py', 'src/main.py', 'api/main.py', 'server.py', 'asgi.py', 'application.py', 'src/app/main.py'];

export const fastapi: FrameworkDetector = {
  id: 'fastapi',
  kind: 'framework',
  runtimes: ['python'],
  appObjects: ['FastAPI'],
  async detect(ctx) {
    const dep = await pythonDependency(ctx, 'fastapi');
    if (!dep) return null;
    const prefix = runtimePrefix(ctx.runtime);
    const fields: Conclusions = {
      framework: { value: 'fastapi', evidence: dep.evidence },
      project_type: { value: 'web', evidence: dep.evidence },
    };
    const portDefault = { value: 8000, evidence: 'FastAPI (uvicorn) default port 8000' };

    let app: { file: string; line: number; variable: string } | undefined = pickAppObject(ctx.scan.pyApps, 'FastAPI', ctx.dir, PREFERRED);
    let where = app ? `${app.file}:${app.line} ${app.variable} = FastAPI(...)` : '';
    // `app = get_application()`: the object comes from a factory; with no module-level object,
    // uvicorn calls the factory itself (`--factory`).
    let factoryFlag = '';
    if (!app) {
      const built = await findFactoryApp(ctx, 'FastAPI', PREFERRED);
      if (built) {
        app = { file: built.file, line: built.line, variable: built.variable || built.factory };
        where = built.variable ? `${built.file}:${built.line} ${built.variable} = ${built.factory}() (factory at ${built.defined})` : `${built.defined} def ${built.factory}() builds the app`;
        if (!built.variable) factoryFlag = ' --factory';
      }
    }
    if (!app) {
      ctx.warnings.add('fastapi is a dependency but no `app = FastAPI(...)` or app factory was found; the start command is unknown');
      return { id: 'fastapi', tier: TIER.backend, fields, portDefault };
    }
    const { module, root } = importTarget(ctx, app.file);
    const local = ctx.dir === '' ? app.file : app.file.slice(ctx.dir.length + 1);
    fields.entry_point = { value: local, evidence: where };

    const uvicorn = (await pythonDependency(ctx, 'uvicorn')) ?? (dep.extras.some((e) => e === 'standard' || e === 'all') ? dep : undefined);
    const hypercorn = uvicorn ? undefined : await pythonDependency(ctx, 'hypercorn');
    if (uvicorn) {
      fields.scripts_start = {
        value: `${prefix}uvicorn ${module}:${app.variable}${factoryFlag}${root ? ` --app-dir ${root}` : ''} --host 0.0.0.0 --port $PORT`,
        evidence: `${uvicorn.evidence}; ASGI app at ${where}`,
      };
    } else if (hypercorn) {
      const target = `${root ? `${root}.` : ''}${module}:${app.variable}${factoryFlag ? '()' : ''}`;
      fields.scripts_start = {
        value: `${prefix}hypercorn ${factoryFlag ? `'${target}'` : target} --bind 0.0.0.0:$PORT`,
        evidence: `${hypercorn.evidence}; ASGI app at ${where}`,
      };
    } else {
      ctx.warnings.add('fastapi is a dependency but no ASGI server (uvicorn, hypercorn) is; add uvicorn so the app can be started');
    }
    return { id: 'fastapi', tier: TIER.backend, fields, portDefault };
  },
};
