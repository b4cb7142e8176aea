// Loaded with `node --import` to record every module a process loads: the resolve hook runs in
// the loader thread and appends each resolved URL to the file named by OD_MODULE_TRACE.
import { register } from 'node:module';

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
