// `npm run bench`: every figure the issues ask for, each against a baseline measured in the same
// run. XS figures are compute units (deterministic); host figures are wall-time ratios.
// Run one section with `npm run bench -- <section>`.

import { foundation } from './foundation.js';
import { Report } from './report.js';

const sections: Record<string, (r: Report) => Promise<void>> = {
  foundation,
};

const only = process.argv.slice(2);
const report = new Report();
for (const [name, run] of Object.entries(sections)) {
  if (only.length && !only.includes(name)) continue;
  await run(report);
}
