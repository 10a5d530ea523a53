// What the Moddable manifest must list: every firmware module under its path-mirroring name (our
// imports end in `.js`; XS drops the extension and resolves `./` and `../` against the
// importing module's name), plus the npm modules they import. `bodycam build --sync-manifest`
// rewrites manifest.json's `modules` from this; test/manifest.test.ts checks it.

import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, posix, relative, resolve, sep } from 'node:path';
import { repoRoot } from './root.js';

/** Modules the Moddable SDK provides (the manifest includes their manifests, never lists them). */
export function isSdkModule(specifier: string): boolean {
  return specifier.startsWith('embedded:') || ['crypt', 'timer', 'time', 'mc/config', 'crc', 'modules', 'Resource', 'instrumentation'].includes(specifier);
}

const IMPORT = /(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|import\s*['"]([^'"]+)['"]|import\s*\(\s*['"]([^'"]+)['"]\s*\)/g;

function specifiers(source: string): string[] {
  const code = source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
  // `import type` / `export type` vanish at compile time: they are not module dependencies.
  return [...code.matchAll(IMPORT)].filter((m) => !/^(?:import|export)\s+type\s/.test(m[0])).map((m) => m[1] ?? m[2] ?? m[3]);
}

/** The firmware's native modules (a .js with @ natives beside its .c), by import specifier. */
export const NATIVE_MODULES: Readonly<Record<string, string>> = Object.freeze({
  'bodycam/native': './firmware/device/native/bodycam-native',
  'bodycam/poly1305': './firmware/device/native/poly1305',
});

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    if (n.startsWith('_')) return []; // private probes and scratch files never ship
    const p = join(dir, n);
    if (statSync(p).isDirectory()) return walk(p);
    if (n.endsWith('.d.ts')) return [];
    return n.endsWith('.ts') || n.endsWith('.js') ? [p] : [];
  });
}

const stripExt = (p: string) => p.replace(/\.(?:[cm]?js|ts)$/, '');
const toPosix = (p: string) => p.split(sep).join('/');

export interface ModuleGraph {
  /** Module name → manifest path ("./firmware/errors"), sorted by name. */
  modules: Record<string, string>;
  /** "importer: specifier" for imports that won't resolve on a device. */
  problems: string[];
  /** Module name → the names it imports. */
  imports: Record<string, string[]>;
}

/**
 * Every firmware module (and each of `entries`) and everything it imports, named as XS will look
 * it up: a module's name is its path without extension; `../x.js` from `a/b/c` is `a/x`, and
 * `../../x.js` is `x` (SDK 8.2.3's fxFindModule climbs one folder per leading `../`; a `./` or
 * `../` inside a path is not resolved); a bare `pkg/sub.js` is `pkg/sub`, found in node_modules.
 */
export function moduleGraph(root = repoRoot, entries: string[] = []): ModuleGraph {
  const modules = new Map<string, string>();
  const problems: string[] = [];
  const queue: { name: string; file: string }[] = [];
  const imports: Record<string, string[]> = {};
  const edge = (from: string, to: string) => (imports[from] ??= []).push(to);
  const add = (name: string, file: string) => {
    if (modules.has(name)) return;
    modules.set(name, './' + toPosix(relative(root, stripExt(file))));
    queue.push({ name, file });
  };
  for (const file of walk(join(root, 'firmware'))) {
    if (file.includes(`${sep}device-types${sep}`)) continue; // compile-time proofs only
    add(toPosix(relative(root, stripExt(file))), file);
  }
  // More starting points (the moddable engine's guest), as repository paths of .ts files.
  for (const entry of entries) add(stripExt(entry), join(root, entry));
  // Declarations of SDK modules that the SDK's typings lack: mcconfig's type check sees only the
  // .d.ts files the manifest lists, under the specifier they declare.
  const declarations = new Map<string, string>();
  const typesDir = join(root, 'firmware', 'device-types');
  for (const n of existsSync(typesDir) ? readdirSync(typesDir).filter((f) => f.endsWith('.d.ts')).sort() : []) {
    for (const m of readFileSync(join(typesDir, n), 'utf8').matchAll(/^declare module ['"]([^'"]+)['"]/gm)) {
      declarations.set(m[1], './' + toPosix(relative(root, join(typesDir, n.slice(0, -'.d.ts'.length)))));
    }
  }
  for (let item = queue.shift(); item; item = queue.shift()) {
    for (const spec of specifiers(readFileSync(item.file, 'utf8'))) {
      if (isSdkModule(spec) || spec in NATIVE_MODULES) continue;
      if (spec.startsWith('.')) {
        if (/\/\.\.?\//.test(spec.replace(/^(?:\.\/|(?:\.\.\/)+)/, ''))) {
          problems.push(`${item.name}: "${spec}" has ./ or ../ after its start; XS resolves only leading ones`);
          continue;
        }
        const target = resolve(dirname(item.file), spec);
        const candidates = [target, target.replace(/\.js$/, '.ts')];
        const file = candidates.find((c) => existsSync(c) && statSync(c).isFile());
        if (!file) {
          problems.push(`${item.name}: "${spec}" not found`);
          continue;
        }
        const name = posix.normalize(posix.join(posix.dirname(item.name), stripExt(spec)));
        edge(item.name, name);
        add(name, file);
      } else {
        const file = join(root, 'node_modules', spec);
        if (!/\.m?js$/.test(spec) || !existsSync(file)) {
          problems.push(`${item.name}: "${spec}" must name an ES module file in node_modules (e.g. pkg/file.js)`);
          continue;
        }
        edge(item.name, stripExt(spec));
        add(stripExt(spec), file);
      }
    }
  }
  const sorted = Object.fromEntries([...modules.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  // The native modules are .js + .c pairs, named for their import specifiers.
  for (const [specifier, path] of Object.entries(NATIVE_MODULES)) {
    sorted[specifier] = path;
    delete sorted[path.slice(2)];
  }
  for (const [specifier, path] of declarations) sorted[specifier] = path;
  return { modules: sorted, problems, imports };
}

/**
 * Modules kept out of the preload, with why. Everything else is preloaded: xsl runs it at build
 * time and moves what it made to flash, so the camera's RAM holds only what the firmware makes
 * while it runs. A preloaded module's load-time ArrayBuffers become read-only, so a module that
 * keeps working buffers at module level must stay out (it is loaded into RAM at first import).
 */
export const NOT_PRELOADED: readonly { pattern: RegExp; why: string }[] = Object.freeze([
  { pattern: /^firmware\/device\/main$/, why: 'the entry point (creation.main): run at boot, never preloaded' },
  { pattern: /^@noble\/hashes\//, why: 'keeps working buffers at module level (sha2 SHA256_W, _u64 tables): read-only in flash' },
  { pattern: /^firmware\/platform\/soft-digest$/, why: 'the software Digest for hosts: it imports @noble/hashes; a camera hashes natively' },
  {
    pattern: /^@noble\/curves\//,
    why: "its closures hold state written at run time (wNAF window sizes and tables in module-level WeakMaps, a ScalarMultiplier, a reassigned CURVE): xsl warns `not frozen` / `no const`, and preloaded, the SDK's XS fails its first multiplication (`invalid wnaf`); it also imports @noble/hashes/utils",
  },
  { pattern: /^firmware\/signing\/ed25519-noble$/, why: 'imports @noble/curves; only the entries import it (firmware/device/main, and the engine guest main) and hand it down, so everything else stays preloaded' },
  { pattern: /^embedded:/, why: 'a declaration (.d.ts), not a module' },
]);

/**
 * Every module of the graph but those NOT_PRELOADED and those that import one, directly or not:
 * xsl preloads a preloaded module's imports with it, so one of those would be preloaded anyway.
 */
export function preloadList(graph: ModuleGraph): string[] {
  const excluded = new Set(Object.keys(graph.modules).filter((name) => NOT_PRELOADED.some((n) => n.pattern.test(name))));
  for (let changed = true; changed; ) {
    changed = false;
    for (const [name, deps] of Object.entries(graph.imports)) {
      if (!excluded.has(name) && deps.some((d) => excluded.has(d))) {
        excluded.add(name);
        changed = true;
      }
    }
  }
  return Object.keys(graph.modules).filter((name) => !excluded.has(name));
}

/** Rewrites manifest.json's top-level `modules` and `preload` from the source tree; returns what changed. */
export function syncManifest(root = repoRoot): { added: string[]; removed: string[] } {
  const path = join(root, 'manifest.json');
  const manifest = JSON.parse(readFileSync(path, 'utf8')) as { modules: Record<string, string>; preload: string[] };
  const graph = moduleGraph(root);
  const want = graph.modules;
  const added = Object.keys(want).filter((k) => !(k in manifest.modules));
  const removed = Object.keys(manifest.modules).filter((k) => !(k in want));
  manifest.modules = want;
  manifest.preload = preloadList(graph);
  writeFileSync(path, JSON.stringify(manifest, null, '\t') + '\n');
  return { added, removed };
}
