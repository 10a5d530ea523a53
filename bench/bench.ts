// `npm run bench`: every figure the issues ask for, each against a baseline measured in the same
// run. XS figures are compute units (deterministic); host figures are wall-time ratios.
// Each file in bench/sections/ is one section (default export: (report) => Promise<void>);
// `npm run bench -- storage signing` runs only those.

import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Report } from './report.js';

const dir = join(dirname(fileURLToPath(import.meta.url)), 'sections');
const only = process.argv.slice(2);
const report = new Report();
for (const file of readdirSync(dir).filter((f) => f.endsWith('.js')).sort()) {
  const name = file.replace(/\.js$/, '');
  if (only.length && !only.includes(name)) continue;
  const section = (await import(pathToFileURL(join(dir, file)).href)) as { default: (r: Report) => Promise<void> };
  await section.default(report);
}
