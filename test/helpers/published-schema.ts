import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import { REPO_ROOT } from './cli.js';

let ajv: Ajv2020 | undefined;

/** The validator of one `$defs` entry of the published schema (schema/opendeploy-json.schema.json), as a consumer would load it. */
function definition(name: string): ValidateFunction {
  if (!ajv) {
    const published = JSON.parse(readFileSync(path.join(REPO_ROOT, 'schema', 'opendeploy-json.schema.json'), 'utf8')) as Record<string, unknown>;
    ajv = new Ajv2020({ strict: true, allErrors: true });
    ajv.addSchema(published, 'opendeploy');
  }
  return ajv.getSchema(`opendeploy#/$defs/${name}`)!;
}

/**
 * Whether a command's result (its fields, with or without the envelope's `type`) is valid against
 * that command's definition in the published schema, e.g. `result.status`; the errors when not.
 */
export function resultErrors(definitionName: string, fields: Record<string, unknown>): string | null {
  const validate = definition(definitionName);
  return validate({ type: 'result', ...fields }) ? null : JSON.stringify(validate.errors);
}
