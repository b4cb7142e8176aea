#!/usr/bin/env node
// Tiny shim: the real CLI is compiled to dist/ by `npm run build` (run automatically by `npm install`).
import { main } from '../dist/cli/main.js';
import { exitQuietlyOnClosedPipe } from '../dist/cli/pipe.js';

exitQuietlyOnClosedPipe();
main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
