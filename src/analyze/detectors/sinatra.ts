/**
 * Sinatra: a `sinatra` gem. With `config.ru` the Ruby runtime's Rack start command stands
 * (`bundle exec rackup config.ru -o 0.0.0.0 -p $PORT`, Rack's default port 9292). Without it, the
 * file that requires sinatra runs itself: `bundle exec ruby app.rb -o 0.0.0.0 -p $PORT` (Sinatra
 * reads -o/-p; its own default port is 4567 and it binds localhost unless told otherwise).
 */
import { TIER, inDir, type Detection, type FrameworkDetector } from '../types.js';
import { gem } from './ruby.js';

const CANDIDATES = ['app.rb', 'main.rb', 'server.rb', 'application.rb', 'web.rb', 'api.rb'];

export const sinatra: FrameworkDetector = {
  id: 'sinatra',
  kind: 'framework',
  runtimes: ['ruby'],
  async detect(ctx) {
    const dep = await gem(ctx, 'sinatra');
    if (!dep) return null;
    const evidence = `${dep.source} ${dep.name}`;
    const detection: Detection = {
      id: 'sinatra',
      tier: TIER.backend,
      fields: { framework: { value: 'sinatra', evidence }, project_type: { value: 'web', evidence } },
    };
    if (ctx.runtime.fields.scripts_start) return detection; // config.ru: rackup (runtime)

    const rootFiles = ctx.fs.list(ctx.dir).filter((name) => name.endsWith('.rb'));
    const ordered = [...CANDIDATES.filter((name) => rootFiles.includes(name)), ...rootFiles.filter((name) => !CANDIDATES.includes(name))];
    for (const name of ordered) {
      const text = (await ctx.fs.read(inDir(ctx.dir, name)))?.text ?? '';
      // `require 'sinatra'`, or `Bundler.require` loading the Gemfile's sinatra next to classic routes.
      const requires = /^\s*require\s+['"]sinatra(?:\/base)?['"]/m.exec(text) ?? (/^\s*(?:get|post)\s+['"]\//m.test(text) ? /^\s*Bundler\.require\b/m.exec(text) : null);
      if (!requires) continue;
      // A modular app (`require 'sinatra/base'`) only serves when it calls run!.
      if (/sinatra\/base/.test(requires[0]) && !/\brun!/.test(text)) continue;
      const line = text.slice(0, requires.index).split('\n').length;
      const why = `${inDir(ctx.dir, name)}:${line} ${requires[0].includes('Bundler') ? 'loads the bundle (sinatra) and defines routes' : 'requires sinatra'} and there is no config.ru`;
      detection.fields.entry_point = { value: name, evidence: why };
      detection.fields.scripts_start = { value: `bundle exec ruby ${name} -o 0.0.0.0 -p $PORT`, evidence: why };
      detection.portDefault = { value: 4567, evidence: 'Sinatra default port 4567 (ruby app.rb)' };
      return detection;
    }
    ctx.warnings.add('sinatra is a dependency but there is no config.ru and no file that requires sinatra and runs; the start command is unknown');
    return detection;
  },
};
