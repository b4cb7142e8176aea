#!/usr/bin/env node
// Writes schema/opendeploy-json.schema.json: the JSON Schema of every `--json` output line, generated
// from the zod schemas in src/cli/output/contract.ts (through the build in dist/). Run it with
// `npm run schema` after changing any output shape; test/cli/json-contract.test.ts fails while the
// committed file differs from what this writes.
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { renderJsonSchema } = await import(path.join(root, 'dist', 'cli', 'output', 'contract.js'));
const file = path.join(root, 'schema', 'opendeploy-json.schema.json');
await writeFile(file, renderJsonSchema());
console.log(`wrote ${path.relative(process.cwd(), file) || file}`);
