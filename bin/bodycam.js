#!/usr/bin/env node
// The `bodycam` command: the compiled CLI lives in dist/ (npm ci runs the build).
import { existsSync } from 'node:fs';
const main = new URL('../dist/cli/bodycam.js', import.meta.url);
if (!existsSync(main)) {
  console.error('E_NOT_BUILT: run `npm run build` first (npm ci does it for you)');
  process.exit(2);
}
const { run } = await import(main.href);
process.exitCode = await run(process.argv.slice(2));
