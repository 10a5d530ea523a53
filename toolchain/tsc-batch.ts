// A faster stand-in for the `tsc` that mcconfig runs once per TypeScript module (its makefile
// calls `<compiler> -p MODULES_DIR/<module>-tsconfig.json` for each). Wired in as the manifest's
// `typescript.compiler` by host-sim/moddable/build.ts; a user's own mcconfig build keeps `tsc`.
//
// What it does: the first call of a build type-checks and emits every module mcconfig listed in
// ONE TypeScript program (same `typescript` package, same tsconfig-base.json that mcconfig wrote,
// same per-module rootDir and outDir), then each call — the first included — finds its module's
// output already written. About 90 modules take ~10 s instead of ~10 minutes.
//
// Why it stays faithful:
// - The options are mcconfig's own: TypeScript parses tsconfig-base.json (paths to the SDK's
//   typings/, module "preserve", lib/target es2025, the manifest's tsconfig) exactly as for `tsc -p`.
// - A module's diagnostics can differ between one program and many only through declarations
//   that reach every file: a root that is a script (no import/export) or holds `declare global`.
//   If any root does, this falls back to running the real `tsc -p` for each module.
// - Emit is per file and does not depend on the other roots; the only thing that depends on the
//   output folder, the source map's `sources`, is computed for the module's own outDir.
//   test/moddable.test.ts compiles modules both ways and compares the bytes.
// Any diagnostic fails the call (exit 1), which mcconfig's makefile reports as
// "# typescript compile failure".

import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import type * as TS from 'typescript';
import { withLock } from './lock.js';

// Loaded only by the call that compiles: the other ~100 calls of a build just find their output.
let ts: typeof TS;

type BatchResult = { kind: 'ok' } | { kind: 'fallback' } | { kind: 'diagnostics'; text: string };

interface PerModule {
  config: string;
  source: string;
  outDir: string;
}

function readPerModule(config: string): PerModule & { base: string } {
  const json = JSON.parse(readFileSync(config, 'utf8')) as { extends: string; compilerOptions: { outDir: string }; files: string[] };
  return { config, base: json.extends, source: json.files[0], outDir: json.compilerOptions.outDir };
}

function listConfigs(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    if (statSync(p).isDirectory()) return listConfigs(p);
    return n.endsWith('-tsconfig.json') ? [p] : [];
  });
}

/** True when a root could change another root's diagnostics (globals). */
function leaksGlobals(file: TS.SourceFile): boolean {
  if (!ts.isExternalModule(file)) return true;
  return file.statements.some((s) => ts.isModuleDeclaration(s) && (s.flags & ts.NodeFlags.GlobalAugmentation) !== 0);
}

function tscBinary(): string {
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve('typescript/package.json')), 'bin', 'tsc');
}

function compileAll(base: string, modules: PerModule[]): BatchResult {
  const parsed = ts.getParsedCommandLineOfConfigFile(base, {}, {
    ...ts.sys,
    onUnRecoverableConfigFileDiagnostic: (d) => {
      throw new Error(ts.flattenDiagnosticMessageText(d.messageText, '\n'));
    },
  });
  if (!parsed) throw new Error(`cannot read ${base}`);
  const bySource = new Map(modules.map((m) => [resolve(m.source), m]));
  const scratch = '/__bodycam_tsc_batch__';
  const options: TS.CompilerOptions = { ...parsed.options, rootDir: '/', outDir: scratch };
  const host = ts.createCompilerHost(options);
  const program = ts.createProgram({ rootNames: [...bySource.keys()], options, host });
  const roots = program.getRootFileNames().map((f) => program.getSourceFile(f)!);
  if (roots.some(leaksGlobals)) return { kind: 'fallback' };
  const diagnostics = ts.getPreEmitDiagnostics(program);
  const format: TS.FormatDiagnosticsHost = { getCanonicalFileName: (f) => f, getCurrentDirectory: () => process.cwd(), getNewLine: () => '\n' };
  if (diagnostics.length) return { kind: 'diagnostics', text: ts.formatDiagnostics(diagnostics, format) };
  const emitted = program.emit(undefined, (fileName, text) => {
    const rel = fileName.slice(scratch.length); // the source's absolute path, with .js or .js.map
    const source = rel.replace(/\.js(\.map)?$/, '.ts');
    const m = bySource.get(source);
    if (!m) return; // a file that is not one of mcconfig's modules (none expected)
    const target = join(m.outDir, rel);
    mkdirSync(dirname(target), { recursive: true });
    if (fileName.endsWith('.map')) {
      const map = JSON.parse(text) as { sources: string[] };
      map.sources = [relative(dirname(target), source)];
      text = JSON.stringify(map);
    }
    writeFileSync(target, text);
  });
  if (emitted.diagnostics.length) return { kind: 'diagnostics', text: ts.formatDiagnostics(emitted.diagnostics, format) };
  return { kind: 'ok' };
}

function realTsc(config: string): number {
  return spawnSync(process.execPath, [tscBinary(), '-p', config], { stdio: 'inherit' }).status ?? 1;
}

function main(argv: string[], again = false): number {
  const p = argv.indexOf('-p');
  if (p < 0 || !argv[p + 1]) {
    console.error('usage: tsc-batch -p MODULE-tsconfig.json (called by mcconfig)');
    return 2;
  }
  const mine = readPerModule(resolve(argv[p + 1]));
  const modulesDir = dirname(mine.base);
  const stateDir = join(dirname(modulesDir), 'tsc-batch');
  mkdirSync(stateDir, { recursive: true });
  const done = join(stateDir, 'done');
  const failed = join(stateDir, 'failed');
  const lock = join(stateDir, 'lock');
  // The first call of a build compiles everything; make may run several calls at once.
  const stale = (f: string) => existsSync(f) && statSync(f).mtimeMs < statSync(mine.base).mtimeMs;
  for (const f of [done, failed]) if (stale(f)) rmSync(f);
  if (!existsSync(done) && !existsSync(failed)) {
    withLock(lock, () => {
      if (existsSync(done) || existsSync(failed)) return; // another call compiled while this one waited
      // mcconfig never cleans its modules folder: a module the manifest dropped since the last build
      // leaves its tsconfig behind, naming a source that no longer exists. It is not part of this build.
      const modules = listConfigs(modulesDir).map(readPerModule).filter((m) => existsSync(resolve(dirname(m.config), m.source)));
      ts ??= createRequire(import.meta.url)('typescript') as typeof TS;
      const result = compileAll(mine.base, modules);
      if (result.kind === 'ok') writeFileSync(done, String(modules.length));
      else {
        if (result.kind === 'diagnostics') process.stderr.write(result.text);
        writeFileSync(failed, result.kind);
      }
    });
  }
  if (existsSync(failed)) {
    if (readFileSync(failed, 'utf8') === 'fallback') return realTsc(mine.config);
    return 1; // the call that compiled printed the diagnostics
  }
  // Make asked for this module because its output was older than its source: if the source
  // changed since the batch, compile the batch again.
  const out = join(mine.outDir, mine.source.replace(/\.ts$/, '.js')); // rootDir is "/"
  if (!existsSync(out) || statSync(out).mtimeMs < statSync(mine.source).mtimeMs) {
    if (again) {
      console.error(`tsc-batch: ${mine.source} was not compiled`);
      return 1;
    }
    rmSync(done, { force: true });
    return main(argv, true);
  }
  return 0;
}

process.exitCode = main(process.argv.slice(2));
