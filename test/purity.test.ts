// firmware/ is pure ECMAScript: no Node.js built-ins, no Buffer or process, no DOM, and no
// imports from host-sim/ or dock-station/. (The firmware tsconfig with "types": [] proves the
// types side; esbuild's neutral-platform bundle for XS proves the module graph.)

import test from 'ava';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join, relative, resolve } from 'node:path';
import { repoRoot } from '../host-sim/xs/bundle.js';

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? walk(p) : p.endsWith('.ts') ? [p] : [];
  });
}

const BUILTINS = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));

export function impurities(file: string, source: string): string[] {
  const problems: string[] = [];
  const code = source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"])\/\/.*$/gm, '$1');
  const specifiers = [...code.matchAll(/(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|import\s*\(\s*['"]([^'"]+)['"]\s*\)|import\s+['"]([^'"]+)['"]|require\s*\(/g)];
  for (const m of specifiers) {
    if (m[0].startsWith('require')) {
      problems.push('uses require()');
      continue;
    }
    const spec = m[1] ?? m[2] ?? m[3];
    if (BUILTINS.has(spec) || spec.startsWith('node:')) problems.push(`imports Node built-in ${spec}`);
    if (spec.startsWith('.')) {
      const target = relative(repoRoot, resolve(file, '..', spec));
      if (/^(host-sim|dock-station|cli|test|bench)\b/.test(target)) problems.push(`imports ${target}`);
    }
  }
  for (const [re, what] of [
    [/\bBuffer\s*\./, 'Buffer'],
    [/\bnew\s+Buffer\b/, 'Buffer'],
    [/\bprocess\s*\./, 'process'],
    [/\b(window|document|navigator)\s*\./, 'DOM globals'],
    [/\b__dirname\b|\b__filename\b/, 'CommonJS globals'],
  ] as const) {
    if (re.test(code)) problems.push(`uses ${what}`);
  }
  return problems;
}

test('nothing under firmware/ reaches Node.js, the DOM, host-sim/ or dock-station/', (t) => {
  const files = walk(join(repoRoot, 'firmware')).filter((f) => !f.endsWith('.d.ts') || true);
  t.true(files.length > 5);
  const found = files.flatMap((f) => impurities(f, readFileSync(f, 'utf8')).map((p) => `${relative(repoRoot, f)}: ${p}`));
  t.deepEqual(found, []);
});

test('the purity check itself catches each kind of leak', (t) => {
  const f = join(repoRoot, 'firmware', 'storage', 'x.ts');
  t.deepEqual(impurities(f, "import { readFileSync } from 'node:fs';"), ['imports Node built-in node:fs']);
  t.deepEqual(impurities(f, "import fs from 'fs';"), ['imports Node built-in fs']);
  t.deepEqual(impurities(f, "import { x } from '../../host-sim/node/hardware.js';"), ['imports host-sim/node/hardware.js']);
  t.deepEqual(impurities(f, "export { y } from '../../dock-station/store.js';"), ['imports dock-station/store.js']);
  t.deepEqual(impurities(f, 'const b = Buffer.from([1]);'), ['uses Buffer']);
  t.deepEqual(impurities(f, 'const e = process.env.X;'), ['uses process']);
  t.deepEqual(impurities(f, "const m = await import('node:crypto');"), ['imports Node built-in node:crypto']);
  t.deepEqual(impurities(f, "import { decode } from '../codec/cbor.js'; // Buffer.from is not used"), []);
  t.deepEqual(impurities(f, "// the npm package's require(\"crypto\") can't be bundled\nexport const x = 1;"), []);
  t.deepEqual(impurities(f, "const c = require('crypto');"), ['uses require()']);
});

test('the station and the evidence library never import the simulator or the CLI; the host layer imports only firmware', (t) => {
  const rooms: [string, RegExp][] = [
    ['dock-station', /^(host-sim|cli|test|bench)\b/],
    ['evidence', /^(host-sim|dock-station|cli|test|bench)\b/],
    ['host', /^(host-sim|dock-station|evidence|cli|test|bench)\b/],
  ];
  const found: string[] = [];
  for (const [room, banned] of rooms) {
    for (const f of walk(join(repoRoot, room))) {
      const code = readFileSync(f, 'utf8').replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"])\/\/.*$/gm, '$1');
      for (const m of code.matchAll(/(?:import|export)\s[^'"]*?from\s*['"](\.[^'"]+)['"]/g)) {
        const target = relative(repoRoot, resolve(f, '..', m[1]));
        if (banned.test(target)) found.push(`${relative(repoRoot, f)} imports ${target}`);
      }
    }
  }
  t.deepEqual(found, []);
});
