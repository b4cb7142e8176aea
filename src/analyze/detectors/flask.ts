/**
 * Flask: a `flask` dependency. The WSGI target comes from parsing `X = Flask(`, or an app factory
 * (`app = create_app(...)` in any module, else the factory call `'pkg:create_app()'`). With gunicorn installed the start command is gunicorn bound to $PORT;
 * without it, `python app.py` when the file calls `.run(`, else `flask --app <module> run`.
 * Default port 5000.
 */
import { TIER, type Conclusions, type FrameworkDetector } from '../types.js';
import { findFactoryApp, importTarget, pickAppObject, pythonDependency, runtimePrefix, type FactoryApp } from './python.js';

const PREFERRED = ['app.py', 'wsgi.py', 'main.py', 'application.py', 'server.py', 'app/__init__.py', 'src/app.py'];

export const flask: FrameworkDetector = {
  id: 'flask',
  kind: 'framework',
  runtimes: ['python'],
  appObjects: ['Flask'],
  async detect(ctx) {
    const dep = await pythonDependency(ctx, 'flask');
    if (!dep) return null;
    const prefix = runtimePrefix(ctx.runtime);
    const fields: Conclusions = {
      framework: { value: 'flask', evidence: dep.evidence },
      project_type: { value: 'web', evidence: dep.evidence },
    };

    const app = pickAppObject(ctx.scan.pyApps, 'Flask', ctx.dir, PREFERRED);
    // An app factory (`def create_app(): app = Flask(__name__)`): the module-level object that
    // calls it (`app = create_app("production")` in wsgi.py), else the factory call itself.
    const built = app ? undefined : await findFactoryApp(ctx, 'Flask', PREFERRED);
    if (!app && !built) {
      ctx.warnings.add('flask is a dependency but no `app = Flask(...)` or `create_app()` was found; the start command is unknown');
      return { id: 'flask', tier: TIER.backend, fields, portDefault: { value: 5000, evidence: 'Flask default port 5000' } };
    }
    const target = app ?? (built as FactoryApp);
    const { module, root } = importTarget(ctx, target.file);
    const object = app ? app.variable : built?.variable || `${built?.factory}()`;
    // A factory call target needs quoting in a shell command: gunicorn 'app:create_app()'.
    const quote = (spec: string): string => (spec.includes('(') ? `'${spec}'` : spec);
    const where = `${target.file}:${target.line}`;
    const local = ctx.dir === '' ? target.file : target.file.slice(ctx.dir.length + 1);
    fields.entry_point = {
      value: local,
      evidence: app ? `${where} ${app.variable} = Flask(...)` : built?.variable ? `${where} ${built.variable} = ${built.factory}() (factory at ${built.defined})` : `${where} def ${built?.factory}()`,
    };

    const gunicorn = await pythonDependency(ctx, 'gunicorn');
    if (gunicorn) {
      fields.scripts_start = {
        value: `${prefix}gunicorn ${quote(`${module}:${object}`)}${root ? ` --chdir ${root}` : ''} --bind 0.0.0.0:$PORT`,
        evidence: `${gunicorn.evidence}; WSGI app ${module}:${object} at ${where}`,
      };
    } else {
      const text = (await ctx.fs.read(target.file))?.text ?? '';
      if (/\.run\(/.test(text) && /__name__\s*==\s*['"]__main__['"]/.test(text)) {
        fields.scripts_start = { value: `${prefix}python ${local}`, evidence: `${target.file} runs the app itself; gunicorn is not a dependency` };
        ctx.warnings.add(`gunicorn is not a dependency: ${local} runs Flask's development server in production; add gunicorn`);
      } else {
        // `flask --app pkg` finds `app`, `create_app` and `make_app` itself; other names are spelled out.
        const found = object === 'app' || object === 'application' || object === 'create_app()' || object === 'make_app()';
        const spec = `${root ? `${root}.` : ''}${module}${found ? '' : `:${object}`}`;
        fields.scripts_start = {
          value: `${prefix}flask --app ${quote(spec)} run --host 0.0.0.0 --port $PORT`,
          evidence: `Flask app at ${where}; gunicorn is not a dependency`,
        };
        ctx.warnings.add("gunicorn is not a dependency: the app is started with Flask's development server; add gunicorn");
      }
    }
    return { id: 'flask', tier: TIER.backend, fields, portDefault: { value: 5000, evidence: 'Flask default port 5000' } };
  },
};
