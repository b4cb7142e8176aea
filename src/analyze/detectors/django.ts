/**
 * Django: `manage.py` (even without a declared dependency, client-rules §12) or a `django`
 * dependency. The project package comes from manage.py's DJANGO_SETTINGS_MODULE; the start command
 * is gunicorn on `<project>.wsgi` when gunicorn is a dependency, else `manage.py runserver`.
 * Default port 8000.
 */
import { TIER, inDir, type Conclusions, type FrameworkDetector } from '../types.js';
import { pythonDependency, runtimePrefix } from './python.js';

export const django: FrameworkDetector = {
  id: 'django',
  kind: 'framework',
  runtimes: ['python'],
  async detect(ctx) {
    const managePy = inDir(ctx.dir, 'manage.py');
    const hasManage = ctx.fs.has(managePy);
    const dep = await pythonDependency(ctx, 'django');
    if (!hasManage && !dep) return null;
    const evidence = hasManage ? `${managePy} exists` : (dep?.evidence as string);
    const prefix = runtimePrefix(ctx.runtime);
    const fields: Conclusions = {
      framework: { value: 'django', evidence: dep ? `${evidence}; ${dep.evidence}` : evidence },
      project_type: { value: 'web', evidence },
    };
    const portDefault = { value: 8000, evidence: 'Django default port 8000' };
    if (!dep) ctx.warnings.add('manage.py exists but django is not a declared dependency; add it to requirements.txt or pyproject.toml');

    let settings: { module: string; line: number } | undefined;
    if (hasManage) {
      const text = (await ctx.fs.read(managePy))?.text ?? '';
      const match = /DJANGO_SETTINGS_MODULE['"]\s*,\s*['"]([\w.]+)['"]/.exec(text);
      if (match) settings = { module: match[1] as string, line: text.slice(0, match.index).split('\n').length };
    }
    const project = settings?.module.split('.')[0];
    const wsgi = project ? `${project}/wsgi.py` : undefined;
    const gunicorn = await pythonDependency(ctx, 'gunicorn');

    if (gunicorn && project && wsgi && ctx.fs.has(inDir(ctx.dir, wsgi))) {
      const why = `${managePy}:${settings?.line} DJANGO_SETTINGS_MODULE ${settings?.module}; ${gunicorn.evidence}`;
      fields.entry_point = { value: wsgi, evidence: why };
      fields.scripts_start = { value: `${prefix}gunicorn ${project}.wsgi --bind 0.0.0.0:$PORT`, evidence: why };
    } else if (hasManage) {
      if (gunicorn) ctx.warnings.add(`gunicorn is a dependency but the project's wsgi.py was not found from manage.py; using runserver`);
      else ctx.warnings.add("gunicorn is not a dependency: the app is started with Django's development server; add gunicorn");
      fields.entry_point = { value: 'manage.py', evidence: `${managePy} exists` };
      fields.scripts_start = { value: `${prefix}python manage.py runserver 0.0.0.0:$PORT`, evidence: `${managePy} exists; gunicorn is not usable` };
    } else {
      ctx.warnings.add('django is a dependency but manage.py was not found; the start command is unknown');
    }
    return { id: 'django', tier: TIER.backend, fields, portDefault };
  },
};
