// Loaded with `node --import` to record every module a process loads, ES modules and CommonJS
// alike: the resolve hook (run in the loader thread) and a wrapper around CommonJS resolution
// append each resolved file URL to the file named by OD_MODULE_TRACE.
import { appendFileSync } from 'node:fs';
import Module, { register } from 'node:module';
import { pathToFileURL } from 'node:url';

register(
  'data:text/javascript,' +
    encodeURIComponent(`
import { appendFileSync } from 'node:fs';
export async function resolve(specifier, context, next) {
  const result = await next(specifier, context);
  if (process.env.OD_MODULE_TRACE) appendFileSync(process.env.OD_MODULE_TRACE, result.url + '\\n');
  return result;
}
`),
);

const resolveFilename = Module._resolveFilename;
Module._resolveFilename = function traced(request, ...rest) {
  const filename = resolveFilename.call(this, request, ...rest);
  if (process.env.OD_MODULE_TRACE && filename.startsWith('/')) appendFileSync(process.env.OD_MODULE_TRACE, `${pathToFileURL(filename).href}\n`);
  return filename;
};
