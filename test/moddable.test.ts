// The firmware as the real Moddable SDK 8.2.3 builds it. Every board compiles (TypeScript against
// the SDK's own typings), links and preloads with mcconfig, xsc and xsl, with no error and no
// xsl warning; a type error or a table left writable in a preloaded module fails the build. The
// `moddable` engine (x-cli-lin, the board's preload and creation) answers the shared tables as
// node does, records a scaled shift whose evidence is byte-identical to node's inside each
// board's declared machine, stops with E_XS_OUT_OF_MEMORY in a machine too small, and throws
// "read-only buffer" when a preloaded module writes a buffer it made at load time — as a camera
// would.
//
// Needs make, gcc, pkg-config and libglib2.0-dev (.ci/run installs them); the SDK comes from
// $MODDABLE or ../shared/moddable-sdk (npm test's pretest builds its tools once).

import test, { type ExecutionContext } from 'ava';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { MAX_DEPTH, type CborValue } from '../firmware/codec/cbor.js';
import { isBodycamError } from '../firmware/errors.js';
import { startEngine, type Engine } from '../host-sim/engine.js';
import { buildDir, startModdableEngine, type ModdableEngine } from '../host-sim/moddable/engine.js';
import { SimHardware } from '../host-sim/node/hardware.js';
import { runScenario } from '../host-sim/scenario/runner.js';
import { parseScenario } from '../host-sim/scenario/format.js';
import { loadScenario } from '../cli/sim.js';
import { listBoards, findBoard } from '../toolchain/boards.js';
import { unlistedLoadTimeBuffers } from '../toolchain/load-time-buffers.js';
import { buildBoardImage, buildEngine, readRootManifest, type Creation } from '../toolchain/mcconfig.js';
import { repoRoot } from '../toolchain/root.js';
import { ensureSdk } from '../toolchain/sdk.js';
import { bytesToHex, hexToBytes } from './helpers/vectors.js';
import { APPENDIX_A, CRC32_CASES, MALFORMED_CBOR, SHA256_CASES } from './helpers/tables.js';

const sdk = ensureSdk();

/** A copy of the sources a build reads, with one file changed (node_modules shared). */
function fixtureRoot(t: ExecutionContext, file: string, edit: (source: string) => string): string {
  const root = mkdtempSync(join(tmpdir(), 'bodycam-fixture-'));
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  for (const d of ['firmware', 'host-sim', 'boards']) cpSync(join(repoRoot, d), join(root, d), { recursive: true });
  cpSync(join(repoRoot, 'manifest.json'), join(root, 'manifest.json'));
  symlinkSync(join(repoRoot, 'node_modules'), join(root, 'node_modules'));
  const path = join(root, file);
  const before = readFileSync(path, 'utf8');
  const after = edit(before);
  if (after === before) throw new Error(`the fixture edit changed nothing in ${file}`);
  writeFileSync(path, after);
  return root;
}

async function outcome(engine: Engine | ModdableEngine, entry: string, ...args: CborValue[]): Promise<string> {
  try {
    const r = await engine.call(entry, ...args);
    return `ok ${JSON.stringify(r.value, (_k, v: unknown) => (v instanceof Uint8Array ? bytesToHex(v) : typeof v === 'bigint' ? `${v}n` : v))}`;
  } catch (e) {
    return `error ${(e as { code?: string }).code ?? String(e)}`;
  }
}

test.serial('every board compiles, links and preloads with the real mcconfig: no error, no xsl warning', (t) => {
  // A fresh folder: a full build, not make's "nothing to do" (and no clash with another run).
  mkdirSync(buildDir(), { recursive: true });
  const out = mkdtempSync(join(buildDir(), 'test-boards-'));
  t.teardown(() => rmSync(out, { recursive: true, force: true }));
  for (const board of listBoards()) {
    const r = buildBoardImage(sdk, board, { out });
    t.deepEqual(r.problems, [], `${board.name}:\n${r.problems.join('\n')}`);
    t.true(r.ok, board.name);
    // xsl ran and preloaded the firmware: its summary counts the instances it moved to flash.
    t.regex(r.summary, /^### \d+ instances, \d+ keys/, board.name);
    t.true(Number(/(\d+) instances/.exec(r.summary)?.[1]) > 1000, r.summary);
    t.true(r.output.includes('# xsl modules'), `${board.name}: xsl ran`);
  }
});

test.serial('tsc-batch emits what the real per-module tsc emits, byte for byte', (t) => {
  mkdirSync(buildDir(), { recursive: true });
  const out = mkdtempSync(join(buildDir(), 'test-tsc-'));
  t.teardown(() => rmSync(out, { recursive: true, force: true }));
  const board = findBoard('xiao_esp32s3_sense');
  const r = buildBoardImage(sdk, board, { out });
  t.true(r.ok, r.problems.join('\n'));
  const tsc = join(repoRoot, 'node_modules', 'typescript', 'bin', 'tsc');
  // A module with type-only imports, one with classes and private fields, one with a re-export.
  for (const target of ['firmware/codec/cbor', 'firmware/storage/segment-store', 'firmware/signing/index']) {
    const config = join(r.tmpDir, 'modules', `${target}-tsconfig.json`);
    const json = JSON.parse(readFileSync(config, 'utf8')) as { compilerOptions: { outDir: string }; files: string[] };
    const source = json.files[0];
    const scratch = mkdtempSync(join(tmpdir(), 'bodycam-tsc-'));
    t.teardown(() => rmSync(scratch, { recursive: true, force: true }));
    const mine = join(scratch, 'tsconfig.json');
    writeFileSync(mine, JSON.stringify({ ...json, compilerOptions: { ...json.compilerOptions, outDir: join(scratch, 'out') } }));
    const run = spawnSync(process.execPath, [tsc, '-p', mine], { encoding: 'utf8' });
    t.is(run.status, 0, run.stdout + run.stderr);
    const batchJs = join(json.compilerOptions.outDir, source.replace(/\.ts$/, '.js'));
    const realJs = join(scratch, 'out', source.replace(/\.ts$/, '.js'));
    t.is(readFileSync(batchJs, 'utf8'), readFileSync(realJs, 'utf8'), target);
    // Source maps: the same mappings, each naming the same source file from where it lies.
    const map = (f: string) => {
      const m = JSON.parse(readFileSync(`${f}.map`, 'utf8')) as { sources: string[]; mappings: string };
      return { mappings: m.mappings, sources: m.sources.map((x) => resolve(dirname(f), x)) };
    };
    t.deepEqual(map(batchJs), map(realJs), `${target} source map`);
  }
});

test.serial('a type error in firmware fails the board build with the TypeScript diagnostic', (t) => {
  const root = fixtureRoot(t, 'firmware/codec/utf8.ts', (s) => `${s}\nexport const broken: number = 'not a number';\n`);
  const r = buildBoardImage(sdk, findBoard('xiao_esp32s3_sense', root), { out: join(root, '.bodycam', 'build'), root });
  t.false(r.ok);
  t.true(r.problems.some((p) => /utf8\.ts\(\d+,\d+\): error TS2322/.test(p)), r.problems.join('\n'));
});

test.serial('a writable table in a preloaded module fails the build (xsl: not frozen)', (t) => {
  const root = fixtureRoot(t, 'firmware/platform/soft-checksum.ts', (s) => `${s}\nconst SEEN: number[] = [];\nexport function remember(n: number): number {\n  SEEN.push(n);\n  return SEEN.length;\n}\n`);
  const r = buildBoardImage(sdk, findBoard('xiao_esp32s3_sense', root), { out: join(root, '.bodycam', 'build'), root });
  t.false(r.ok);
  t.true(r.problems.some((p) => /^xsl: firmware\/platform\/soft-checksum: .*SEEN: not frozen/.test(p)), r.problems.join('\n'));
});

test.serial('a buffer a preloaded module makes at load time is found before any run, unless it is a listed read-only table', async (t) => {
  const manifest = readRootManifest();
  t.deepEqual(await unlistedLoadTimeBuffers(manifest.modules, manifest.preload), [], 'the firmware as it is');
  const root = fixtureRoot(t, 'firmware/platform/soft-checksum.ts', (s) => `${s}\nconst SCRATCH = new Uint8Array(4);\nexport function scratchLength(): number {\n  SCRATCH[0] = 1;\n  return SCRATCH.length;\n}\n`);
  const found = await unlistedLoadTimeBuffers(manifest.modules, manifest.preload, root);
  t.deepEqual(found.map((b) => `${b.module}: ${b.name}`), ['firmware/platform/soft-checksum: SCRATCH']);
});

test.serial('a preloaded module that writes a buffer it made at load time throws "read-only buffer" on the moddable engine, as on a camera', async (t) => {
  // The noble case: working arrays at module level, written by every call.
  const root = fixtureRoot(t, 'firmware/platform/soft-checksum.ts', (s) =>
    s.replace(/export const softChecksum/, 'const SCRATCH = new Uint8Array(4);\nexport function scratchCrc(data: Uint8Array): number {\n  SCRATCH[0] = data.length & 255;\n  return softChecksum.crc32(data) ^ SCRATCH[0];\n}\n\nexport const softChecksum'),
  );
  const foundation = join(root, 'host-sim', 'guest', 'foundation.ts');
  writeFileSync(
    foundation,
    readFileSync(foundation, 'utf8')
      .replace("'noop': () => null,", "'noop': () => null,\n  'crc32.scratch': (_e, data) => scratchCrc(bytes(data, 'data')),")
      .replace(/import \{ softChecksum \} from '(.+?)';/, "import { scratchCrc, softChecksum } from '$1';"),
  );
  const board = findBoard('xiao_esp32s3_sense', root);
  const r = buildEngine(sdk, board, { out: buildDir(), root, name: 'bodycam-moddable-fixture-scratch' });
  t.true(r.ok, r.problems.join('\n'));
  const engine = await startModdableEngine(new SimHardware().platform(), { board: board.name, binary: r.binary });
  try {
    t.true((await outcome(engine, 'crc32.soft', new Uint8Array([1, 2, 3]))).startsWith('ok'), 'the module itself loads and runs');
    // The guest reports an exception that is not one of ours as E_INTERNAL, with XS's message.
    const e = await t.throwsAsync(engine.call('crc32.scratch', new Uint8Array([1, 2, 3])));
    t.true(isBodycamError(e, 'E_INTERNAL'), String(e));
    t.regex(e!.message, /read-only buffer/);
  } finally {
    await engine.close();
  }
});

test.serial('the shared tables on the moddable engine answer exactly as node: SHA-256, CRC-32, CBOR, Ed25519 against tweetnacl', async (t) => {
  const engine = await startModdableEngine(new SimHardware().platform());
  const node = await startEngine('node', new SimHardware().platform());
  try {
    const same = async (entry: string, ...args: CborValue[]) => {
      const [a, b] = [await outcome(engine, entry, ...args), await outcome(node, entry, ...args)];
      t.is(a, b, `${entry} on moddable and node`);
      return a;
    };
    for (const c of SHA256_CASES.filter((x) => x.data.length <= 100_000)) {
      t.is(bytesToHex((await engine.call('sha256.soft', c.data)).value as Uint8Array), c.hex, `soft ${c.name}`);
      t.is(bytesToHex((await engine.call('sha256.port', c.data)).value as Uint8Array), c.hex, `port ${c.name}`);
    }
    for (const [data, crc] of CRC32_CASES) {
      t.is((await engine.call('crc32.soft', data)).value, crc);
      t.is((await engine.call('crc32.port', data)).value, crc);
    }
    // Every Moddable build leaves XS's mxMinusZero off (the SDK defines it nowhere), so the camera
    // has no -0: CBOR's -0.0 decodes as 0 and re-encodes as the integer 0. Node keeps -0. The
    // firmware never writes -0 (times and counts are integers); the difference is asserted, not hidden.
    const minusZero = new Set(['f98000', 'fa80000000', 'fb8000000000000000']);
    for (const v of APPENDIX_A) {
      if (minusZero.has(v.hex)) t.is(await outcome(engine, 'cbor.reencode', hexToBytes(v.hex)), 'ok "00"', v.hex);
      else await same('cbor.reencode', hexToBytes(v.hex));
    }
    for (const [hex, code] of MALFORMED_CBOR) t.is(await same('cbor.reencode', hexToBytes(hex)), `error ${code}`, hex);
    // Ed25519: tweetnacl (its own SHA-512, preloaded) and the camera's (@noble/curves, not preloaded), same keys and signatures.
    for (let i = 0; i < 4; i++) {
      const seed = new Uint8Array(32).map((_, j) => (i * 31 + j * 7) & 255);
      const message = new Uint8Array(i * 50).map((_, j) => j & 255);
      const pair = await same('ed25519.keyPair', 'tweetnacl', seed);
      t.is(await outcome(engine, 'ed25519.keyPair', 'noble', seed), pair);
      const [publicKey, secretKey] = (await engine.call('ed25519.keyPair', 'tweetnacl', seed)).value as [Uint8Array, Uint8Array];
      const sig = await same('ed25519.sign', 'tweetnacl', message, secretKey);
      t.is(await outcome(engine, 'ed25519.sign', 'noble', message, secretKey), sig);
      const signature = (await engine.call('ed25519.sign', 'noble', message, secretKey)).value as Uint8Array;
      t.is(await same('ed25519.verify', 'noble', message, signature, publicKey), 'ok true');
      t.is(await same('ed25519.verify', 'tweetnacl', message, signature, publicKey), 'ok true');
      const bad = signature.slice();
      bad[5] ^= 1;
      t.is(await same('ed25519.verify', 'noble', message, bad, publicKey), 'ok false');
    }
  } finally {
    await engine.close();
    await node.close();
  }
});

test.serial("CBOR nested to the codec's limit decodes and re-encodes inside each board's stack; one level more is E_CBOR_DEPTH, never a stack overflow", async (t) => {
  for (const board of listBoards()) {
    const engine = await startModdableEngine(new SimHardware().platform(), { board: board.name });
    try {
      const deepest = hexToBytes('81'.repeat(MAX_DEPTH) + '00');
      t.is(bytesToHex((await engine.call('cbor.reencode', deepest)).value as Uint8Array), bytesToHex(deepest), board.name);
      t.is(await outcome(engine, 'cbor.reencode', hexToBytes('81'.repeat(MAX_DEPTH + 1) + '00')), 'error E_CBOR_DEPTH', board.name);
      t.is(await outcome(engine, 'noop'), 'ok null', `${board.name}: the machine is still up`);
    } finally {
      await engine.close();
    }
  }
});

const SHIFT_SCALE = 0.05;
const shift = () => parseScenario(loadScenario('default-shift'), { scale: SHIFT_SCALE });

test.serial("a scaled shift (pre-event, recording, rollover, a power cut, docking) inside each board's declared machine: evidence byte-identical to node", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'bodycam-moddable-shift-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const node = await runScenario(shift(), { engine: 'node', seed: 5, out: join(dir, 'node'), export: false });
  t.true(node.ok, JSON.stringify(node.verify));
  t.true(node.footage.segments > 1 && node.powerCuts.happened > 0 && node.upload.segmentsStored > 0, JSON.stringify(node.footage));
  for (const board of listBoards()) {
    const r = await runScenario(shift(), { engine: 'moddable', seed: 5, out: join(dir, board.name), export: false, moddable: { board: board.name } });
    t.true(r.ok, `${board.name}: ${JSON.stringify(r.verify)}`);
    t.is(r.evidenceSha256, node.evidenceSha256, `${board.name}: the same evidence, byte for byte`);
    const m = r.moddable!;
    const declared = board.creation;
    t.is(m.chunksMax, declared.chunk.initial, `${board.name} ran in its declared chunk heap`);
    t.is(m.slotsMax + 1, declared.heap.initial, `${board.name} ran in its declared slot heap`);
    t.true(m.liveChunks > m.loadedChunks && m.liveChunks <= m.chunksMax, JSON.stringify(m));
  }
});

test.serial('a machine too small for the recorder stops it with E_XS_OUT_OF_MEMORY, never a wrong answer', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'bodycam-moddable-small-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const small: Creation = { chunk: { initial: 256 * 1024, incremental: 0 }, heap: { initial: 8192, incremental: 0 }, stack: 768, keys: { initial: 64, incremental: 0 } };
  const e = await t.throwsAsync(runScenario(shift(), { engine: 'moddable', seed: 5, out: dir, export: false, moddable: { creation: small } }));
  t.true(isBodycamError(e, 'E_XS_OUT_OF_MEMORY'), String(e));
  t.regex(e!.message, /of 262144 bytes/);
});
