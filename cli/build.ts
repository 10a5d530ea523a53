// `bodycam build` and `bodycam flash`: compile the firmware for one board with the Moddable SDK
// (mcconfig), wrap it into a signed image (`build --sign-key`), and write a signed image to a
// camera over USB with ESP-IDF's esptool.py (`flash --image`: checked first exactly as the
// camera's update session would check it); an unsigned build goes only onto a board declared a
// development board. `bodycam build --sync-manifest` rewrites the `modules` list of
// manifest.json from the source tree (toolchain/module-graph.ts).

import { spawn as nodeSpawn, type SpawnOptions } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join, posix, resolve } from 'node:path';
import { BodycamError } from '../firmware/errors.js';
import { cannotRecord } from '../firmware/device/board.js';
import { softDigest } from '../firmware/platform/soft-digest.js';
import { toHex } from '../firmware/codec/cbor.js';
import { firmwareKeyHash, firmwareKeyId, parseHeader, parseVersion } from '../firmware/update/image.js';
import { verifyImage, type ImageInfo } from '../firmware/update/session.js';
import { MemoryTrust } from '../firmware/update/trust.js';
import { parseArgs, secretOption, stringOption, type Parsed } from './args.js';
import { EXIT } from './exit.js';
import { describeSigned, firmwarePassphrase, readPublicKey, readSecretKey, signFirmware } from './firmware.js';
import { PARTITION_TABLE_OFFSET, partitionTableBinary, readPartitions, updateLayout, type PartitionTable, type UpdateLayout } from './partitions.js';

export { repoRoot } from '../toolchain/root.js';
import { repoRoot } from '../toolchain/root.js';

export const SDK_HELP = 'install the Moddable SDK once with `npx xs-dev setup --device esp32`, open a new terminal (so MODDABLE and the ESP-IDF are set), then run this again';

import { findBoard, listBoards, type Board } from '../toolchain/boards.js';
import { moduleGraph, syncManifest } from '../toolchain/module-graph.js';
export { findBoard, listBoards, type Board } from '../toolchain/boards.js';
export { isSdkModule, moduleGraph, syncManifest, type ModuleGraph } from '../toolchain/module-graph.js';

// --------------------------------------------------------------------------- mcconfig

export type Spawner = (command: string, args: string[], options: SpawnOptions) => Promise<number>;

const spawnWith =
  (stdio: SpawnOptions['stdio']): Spawner =>
  (command, args, options) =>
    new Promise((done, fail) => {
      const child = nodeSpawn(command, args, { ...options, stdio });
      child.on('error', fail);
      child.on('exit', (code) => done(code ?? 1));
    });
const spawnInherit = spawnWith('inherit');
/** With --json, the tools' own output goes to stderr: stdout holds only the JSON. */
const spawnToStderr = spawnWith(['inherit', 2, 2]);

export interface McconfigOptions {
  board: Board;
  deploy: boolean;
  release: boolean;
  port?: string;
  ssid?: string;
  /** The manifest to build (default manifest.json; a private wrapper when a Wi-Fi password is built in). */
  manifest?: string;
}

/** The mcconfig command line for a build (deploy: also write it to the camera). */
export function mcconfigArgs(o: McconfigOptions): string[] {
  const args = [...(o.release ? [] : ['-d']), '-m', '-p', o.board.config.target, ...(o.deploy ? ['-t', 'deploy'] : ['-t', 'build']), o.manifest ?? 'manifest.json'];
  if (o.ssid) args.push(`ssid=${o.ssid}`);
  return args;
}

export const WIFI_PASSWORD_ENV = 'BODYCAM_WIFI_PASSWORD';

/** The docks' Wi-Fi password: --wifi-password-file FILE or BODYCAM_WIFI_PASSWORD; never a command-line value (other users see those in ps). */
function wifiPassword(p: Parsed, env: NodeJS.ProcessEnv): string | undefined {
  if (p.options.password !== undefined) {
    throw new BodycamError('E_SECRET_ON_COMMAND_LINE', `a password on the command line is visible to every user of this computer (ps): put it in a file only you can read and give --wifi-password-file FILE, or set ${WIFI_PASSWORD_ENV}`);
  }
  return secretOption(p, env, 'wifi-password-file', WIFI_PASSWORD_ENV);
}

/**
 * The manifest mcconfig builds: manifest.json itself, or — when a Wi-Fi password goes into the
 * image — a wrapper in a private folder (0700, file 0600) that includes it and sets config.password,
 * so the password never appears on mcconfig's command line. Removed with cleanup().
 */
function buildManifest(root: string, password: string | undefined): { manifest: string; cleanup: () => void } {
  if (password === undefined) return { manifest: 'manifest.json', cleanup: () => {} };
  const dir = mkdtempSync(join(tmpdir(), 'bodycam-build-'));
  const manifest = join(dir, 'manifest.json');
  writeFileSync(manifest, JSON.stringify({ include: [join(root, 'manifest.json')], config: { password } }), { mode: 0o600, flag: 'wx' });
  return { manifest, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export interface BuildDeps {
  env: NodeJS.ProcessEnv;
  spawn: Spawner;
  root: string;
  /** Where `build --sign-key` writes its image by default. */
  cwd: string;
}

const OPTIONS = {
  board: { value: true }, port: { value: true }, ssid: { value: true }, password: { value: true }, 'wifi-password-file': { value: true }, release: {}, 'sync-manifest': {}, 'list-boards': {}, 'development-board': {}, help: {},
  'sign-key': { value: true }, 'passphrase-file': { value: true }, version: { value: true }, 'security-counter': { value: true }, out: { value: true },
  image: { value: true }, 'firmware-key': { value: true, many: true }, json: {},
};

function help(deploy: boolean, out: (line: string) => void, root: string): void {
  if (deploy) {
    out('usage: bodycam flash --board NAME --port PORT --image SIGNED.img --firmware-key PUBLIC.pem');
    out('  checks the signed image exactly as a camera would (board, key, signature) and writes it to the camera');
    out('  on PORT (e.g. /dev/ttyACM0, COM3) with esptool.py; refuses an image the camera would refuse');
    out('  --firmware-key   the agency firmware PUBLIC key (firmware-signing.pub.pem); may be given more than once');
    out('  --security-counter N  refuse images below this security counter (default 0)');
    out('or, developers only: bodycam flash --board NAME --port PORT --development-board [--release] [--ssid NAME --wifi-password-file FILE]');
    out('  builds from source and writes the UNSIGNED build: for a board that will never hold evidence');
  } else {
    out('usage: bodycam build --board NAME [--release] [--ssid NAME --wifi-password-file FILE]');
    out('  builds the firmware for the board with the Moddable SDK (mcconfig)');
    out('       bodycam build --board NAME --sign-key firmware-signing.pem --version X.Y.Z [--out FILE] [--security-counter N] [--passphrase-file FILE]');
    out('  (the signing key\'s passphrase: --passphrase-file FILE or BODYCAM_FIRMWARE_PASSPHRASE)');
    out('  a release build, wrapped into a signed image (as `bodycam firmware sign`) for `bodycam flash --image` and the docks');
    out('  --sync-manifest rewrite the module list of manifest.json from firmware/ (developers)');
  }
  out('  --release       a release build (no debugger); the default is a debug build');
  out('  --json          stdout holds one JSON object at the end (ok, exit code, the signed image, the lines); the SDK\'s output goes to stderr');
  out(`  --ssid NAME, --wifi-password-file FILE (or ${WIFI_PASSWORD_ENV})  the Wi-Fi network of the docks, built into the image; the password never goes on a command line`);
  out('  --list-boards   the boards this firmware supports');
  out('boards:');
  for (const b of listBoards(root)) out(`  ${b.name.padEnd(26)} ${b.config.title}${cannotRecord(b.config) ? ' — CANNOT RECORD' : ''}`);
}

// ------------------------------------------------------------------------- signed images

/** Every supported board is an ESP32-S3 (boards/*.json). */
export const ESP_CHIP = 'esp32s3';
/** First byte of an ESP-IDF application image (esp_image_header_t.magic). */
export const ESP_IMAGE_MAGIC = 0xe9;
export const ESPTOOL = 'esptool.py';
export const ESPTOOL_HELP = `esptool.py (ESP-IDF's flashing tool) was not found on PATH. It comes with the ESP-IDF that the Moddable SDK set-up installs: ${SDK_HELP}. If the SDK is installed, open a new terminal (or run \`source $IDF_PATH/export.sh\`; on Windows use the "ESP-IDF" command prompt)`;

/** The board's partition table file (its manifest fragment's build.PARTITIONS_FILE). */
export function partitionsOf(board: Board, root = repoRoot): PartitionTable {
  const json = JSON.parse(readFileSync(join(root, board.file), 'utf8')) as { build?: { PARTITIONS_FILE?: unknown } };
  const f = json.build?.PARTITIONS_FILE;
  if (typeof f !== 'string') throw new BodycamError('E_BOARD_INVALID', `${board.file} has no build.PARTITIONS_FILE`);
  return readPartitions(posix.join('boards', f), root);
}

/** The application binary mcconfig leaves for a build: $MODDABLE/build/bin/<platform>/<debug|release>/<NAME>/xs_esp32.bin. */
export function appBinaryPath(moddable: string, board: Board, release: boolean, root = repoRoot): string {
  const manifest = JSON.parse(readFileSync(join(root, 'manifest.json'), 'utf8')) as { build?: { NAME?: unknown } };
  const name = typeof manifest.build?.NAME === 'string' ? manifest.build.NAME : 'bodycam';
  return join(moddable, 'build', 'bin', ...board.config.target.split('/'), release ? 'release' : 'debug', name, 'xs_esp32.bin');
}

export interface FlashWrite {
  offset: number;
  file: string;
}

export interface EsptoolOptions {
  port: string;
  chip?: string;
  baud?: number;
  writes: FlashWrite[];
}

/** The esptool.py command line that writes files at offsets, then resets the camera into them. */
export function esptoolArgs(o: EsptoolOptions): string[] {
  const args = ['--chip', o.chip ?? ESP_CHIP, '--port', o.port, '--baud', String(o.baud ?? 460800), '--before', 'default_reset', '--after', 'hard_reset', 'write_flash'];
  for (const w of o.writes) args.push(`0x${w.offset.toString(16)}`, w.file);
  return args;
}

export interface FlashPlan {
  /** What the camera would report for this image. */
  info: ImageInfo;
  /** Key id of the firmware key that signed it, as `bodycam firmware keygen` prints it. */
  keyId: string;
  payload: Uint8Array;
  table: Uint8Array;
  layout: UpdateLayout;
}

export interface PlanFlashOptions {
  board: Board;
  image: Uint8Array;
  /** The firmware public keys the camera trusts. */
  keys: Uint8Array[];
  securityCounter?: number;
  root?: string;
}

/**
 * Check a signed image as a camera would (UpdateSession through verifyImage: hash, key, signature,
 * board, security counter), then that its payload is an ESP32 application that fits the board's
 * app slot; returns what to write. Throws a BodycamError with the camera's E_FW_* code otherwise.
 */
export function planFlash(o: PlanFlashOptions): FlashPlan {
  const r = verifyImage(o.image, { trust: new MemoryTrust({ keys: o.keys, counter: o.securityCounter ?? 0 }), digest: softDigest, board: o.board.name });
  if (r.code !== 'OK') throw new BodycamError(r.code, `${r.message.replace(/^E_[A-Z_]+: /, '')}; a camera would refuse this image, so it is not written`);
  const info = r.image!;
  const h = parseHeader(o.image);
  const payload = o.image.subarray(h.headerSize, h.headerSize + h.imageSize);
  if (payload[0] !== ESP_IMAGE_MAGIC) throw new BodycamError('E_FW_FORMAT', 'the signed payload is not an ESP32 application image (it must start with 0xE9): sign the xs_esp32.bin that `bodycam build` makes');
  const table = partitionsOf(o.board, o.root);
  const layout = updateLayout(table, o.board.config.flashBytes);
  if (payload.length > layout.slotBytes) throw new BodycamError('E_FW_TOO_LARGE', `the payload is ${payload.length} bytes; the board's app slot (${layout.ota0.name}) holds ${layout.slotBytes}`);
  const key = o.keys.find((k) => toHex(firmwareKeyHash(k, softDigest)).startsWith(info.keyId))!;
  return { info, keyId: toHex(firmwareKeyId(key, softDigest)), payload, table: partitionTableBinary(table), layout };
}

async function runTool(spawn: Spawner, command: string, args: string[], options: SpawnOptions, missing: string): Promise<number | undefined> {
  try {
    return await spawn(command, args, options);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
      console.error(`E_SDK_MISSING: ${missing}`);
      return undefined;
    }
    throw e;
  }
}

async function flashSigned(p: Parsed, board: Board, port: string, out: (line: string) => void, deps: BuildDeps): Promise<number> {
  for (const o of ['development-board', 'release', 'ssid', 'password', 'wifi-password-file', 'sign-key', 'version', 'out']) {
    if (p.options[o] !== undefined) throw new BodycamError('E_USAGE', `--${o} is for building; --image writes an image that is already built and signed`);
  }
  const keyFiles = (p.options['firmware-key'] as string[] | undefined) ?? [];
  if (keyFiles.length === 0) throw new BodycamError('E_USAGE', '--firmware-key PUBLIC.pem is required: the agency firmware public key the camera trusts (firmware-signing.pub.pem)');
  const file = stringOption(p, 'image')!;
  const counterText = stringOption(p, 'security-counter');
  const securityCounter = counterText === undefined ? 0 : Number(counterText);
  if (!Number.isInteger(securityCounter) || securityCounter < 0 || securityCounter > 0xffffffff) throw new BodycamError('E_USAGE', '--security-counter must be an integer 0..4294967295');
  if (!existsSync(file)) throw new BodycamError('E_NOT_FOUND', `--image ${file} does not exist: give the signed image \`bodycam build --sign-key\` made (bodycam-BOARD-VERSION.img)`);
  let plan: FlashPlan;
  try {
    plan = planFlash({ board, image: new Uint8Array(readFileSync(file)), keys: keyFiles.map(readPublicKey), securityCounter, root: deps.root });
  } catch (e) {
    if (e instanceof BodycamError && e.code.startsWith('E_FW_')) {
      console.error(`${e.message} (${file})`);
      return EXIT.finding;
    }
    throw e;
  }
  out(`${file}: firmware ${plan.info.version} for ${plan.info.board}, signed by key ${plan.keyId}: OK, a camera would install it`);
  const dir = mkdtempSync(join(tmpdir(), 'bodycam-flash-'));
  try {
    const write = (name: string, bytes: Uint8Array) => {
      const f = join(dir, name);
      writeFileSync(f, bytes);
      return f;
    };
    const { layout } = plan;
    const args = esptoolArgs({
      port,
      writes: [
        { offset: PARTITION_TABLE_OFFSET, file: write('partition-table.bin', plan.table) },
        // Blank otadata: the bootloader boots ota_0, where the payload goes (ESP-IDF's ota_data_initial.bin).
        { offset: layout.otadata.offset, file: write('ota_data_initial.bin', new Uint8Array(layout.otadata.size).fill(0xff)) },
        { offset: layout.ota0.offset, file: write('firmware.bin', plan.payload) },
      ],
    });
    out(`writing it to ${board.config.title} on ${port} (app slot ${layout.ota0.name} at 0x${layout.ota0.offset.toString(16)})`);
    const code = await runTool(deps.spawn, ESPTOOL, args, { cwd: deps.root, env: deps.env }, ESPTOOL_HELP);
    if (code === undefined) return EXIT.environment;
    if (code !== 0) {
      console.error(`E_FLASH_FAILED: esptool.py exited with ${code}; the lines above say why. Check the cable and the port, or put the board in programming mode and try again`);
      return EXIT.environment;
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  out(`done: the camera restarts with firmware ${plan.info.version}`);
  return 0;
}

async function buildSigned(p: Parsed, board: Board, out: (line: string) => void, deps: BuildDeps): Promise<number> {
  const keyFile = stringOption(p, 'sign-key')!;
  const version = stringOption(p, 'version');
  if (!version) throw new BodycamError('E_USAGE', '--version X.Y.Z is required with --sign-key (the version cameras report; newer versions replace older ones)');
  parseVersion(version);
  const counterText = stringOption(p, 'security-counter');
  const securityCounter = counterText === undefined ? undefined : Number(counterText);
  const outFile = resolve(deps.cwd, stringOption(p, 'out') ?? `bodycam-${board.name}-${version}.img`);
  if (!existsSync(keyFile)) throw new BodycamError('E_KEY', `${keyFile} does not exist: give the firmware signing key (firmware-signing.pem, made by \`bodycam firmware keygen\`)`);
  // A wrong key file or passphrase stops here, before a build of several minutes.
  const passphrase = firmwarePassphrase(p, deps.env);
  readSecretKey(keyFile, passphrase);
  const moddable = deps.env.MODDABLE!;
  // Cameras in service run release builds: a debug build waits for a debugger.
  const built = buildManifest(deps.root, wifiPassword(p, deps.env));
  const args = mcconfigArgs({ board, deploy: false, release: true, ssid: stringOption(p, 'ssid'), manifest: built.manifest });
  out(`building signed bodycam ${version} for ${board.config.title} (${board.config.target}), a release build`);
  let code: number | undefined;
  try {
    code = await runTool(deps.spawn, 'mcconfig', args, { cwd: deps.root, env: deps.env }, `mcconfig was not found on PATH: ${SDK_HELP}`);
  } finally {
    built.cleanup();
  }
  if (code === undefined) return EXIT.environment;
  if (code !== 0) {
    console.error(`E_BUILD_FAILED: mcconfig exited with ${code}; the lines above say why`);
    return EXIT.environment;
  }
  const app = appBinaryPath(moddable, board, true, deps.root);
  if (!existsSync(app)) {
    console.error(`E_BUILD_OUTPUT: mcconfig finished but ${app} is not there; sign the application binary it made with \`bodycam firmware sign\``);
    return EXIT.environment;
  }
  const payload = new Uint8Array(readFileSync(app));
  const { slotBytes } = updateLayout(partitionsOf(board, deps.root), board.config.flashBytes);
  if (payload.length > slotBytes) {
    console.error(`E_FW_TOO_LARGE: the firmware is ${payload.length} bytes; the board's app slot holds ${slotBytes}. It can't be installed: make it smaller (fewer preloaded modules) or change boards/partitions-*.csv`);
    return EXIT.finding;
  }
  const signed = signFirmware({ keyFile, passphrase, version, board: board.name, securityCounter, payload, warn: out });
  writeFileSync(outFile, signed.image);
  out(describeSigned(outFile, signed));
  out(`signed image: ${outFile}`);
  out(`put it on a camera with: npx bodycam flash --board ${board.name} --port PORT --image ${outFile} --firmware-key firmware-signing.pub.pem`);
  return 0;
}

/**
 * `bodycam build` / `bodycam flash`. With --json, stdout holds one JSON object at the end (ok, the
 * exit code, the signed image when one was made, and the lines a person would have read); the
 * SDK's and esptool's output goes to stderr.
 */
export async function buildCommand(argv: string[], print: (line: string) => void, deploy: boolean, deps: Partial<BuildDeps> = {}): Promise<number> {
  if (!argv.includes('--json')) return buildCommandLines(argv, print, deploy, deps);
  const lines: string[] = [];
  const code = await buildCommandLines(argv, (l) => void lines.push(l), deploy, { ...deps, spawn: deps.spawn ?? spawnToStderr });
  const image = lines.map((l) => /^signed image: (.+)$/.exec(l)?.[1]).find((x) => x !== undefined);
  print(JSON.stringify({ ok: code === 0, exitCode: code, command: deploy ? 'flash' : 'build', ...(image ? { image } : {}), lines }));
  return code;
}

async function buildCommandLines(argv: string[], out: (line: string) => void, deploy: boolean, deps: Partial<BuildDeps> = {}): Promise<number> {
  const root = deps.root ?? repoRoot;
  // mcconfig's makefile runs `tsc` from PATH: the repository's pinned TypeScript comes first.
  const given = deps.env ?? process.env;
  const env: NodeJS.ProcessEnv = { ...given, PATH: [join(root, 'node_modules', '.bin'), given.PATH ?? ''].join(delimiter) };
  const spawn = deps.spawn ?? spawnInherit;
  const full: BuildDeps = { env, spawn, root, cwd: deps.cwd ?? process.cwd() };
  const p = parseArgs(argv, OPTIONS);
  if (p.options.help) {
    help(deploy, out, root);
    return 0;
  }
  if (p.options['list-boards']) {
    for (const b of listBoards(root)) {
      const why = cannotRecord(b.config);
      out(`${b.name.padEnd(26)} ${b.config.title} (${b.config.target})${why ? ` — CANNOT RECORD: ${why}` : ''}`);
    }
    return 0;
  }
  if (p.options['sync-manifest']) {
    const { added, removed } = syncManifest(root);
    const { problems } = moduleGraph(root);
    out(`manifest.json: ${added.length} module(s) added, ${removed.length} removed`);
    for (const a of added) out(`  + ${a}`);
    for (const r of removed) out(`  - ${r}`);
    for (const x of problems) out(`  ! ${x}`);
    return problems.length ? 1 : 0;
  }
  if (p.positionals.length) throw new BodycamError('E_USAGE', `unexpected argument "${p.positionals[0]}"`);
  const onlyFor = (names: string[], what: string) => {
    for (const n of names) if (p.options[n] !== undefined) throw new BodycamError('E_USAGE', `--${n} is only for ${what}`);
  };
  if (deploy) onlyFor(['sign-key', 'version', 'out'], '`bodycam build --sign-key`; flash a signed image with --image');
  else onlyFor(['image', 'firmware-key', 'port', 'development-board'], '`bodycam flash`');
  let board: Board;
  try {
    board = findBoard(stringOption(p, 'board'), root);
  } catch (e) {
    if (e instanceof BodycamError && e.code === 'E_BOARD_UNKNOWN') {
      console.error(e.message);
      return EXIT.usage;
    }
    throw e;
  }
  const port = stringOption(p, 'port');
  if (deploy && !port) throw new BodycamError('E_USAGE', '--port is required: the USB serial port of the camera (e.g. /dev/ttyACM0 on Linux, /dev/cu.usbmodem* on a Mac, COM3 on Windows)');
  if (deploy && stringOption(p, 'image') !== undefined) return flashSigned(p, board, port!, out, full);
  if (deploy && p.options['development-board'] !== true) {
    // Signed firmware (issue 10): a build from source is unsigned; only a development board takes one.
    console.error('E_FW_UNSIGNED: without --image, bodycam flash writes a build straight from the source tree, which no firmware key has signed. A camera in service runs only signed images: make one with `bodycam build --board NAME --sign-key KEY --version X.Y.Z` and write it with `bodycam flash --board NAME --port PORT --image FILE --firmware-key PUBLIC.pem`. If this is a development board that will never hold evidence, say so with --development-board.');
    return EXIT.usage;
  }
  if (deploy && (p.options['firmware-key'] !== undefined || p.options['security-counter'] !== undefined)) throw new BodycamError('E_USAGE', '--firmware-key and --security-counter check a signed image: give it with --image');
  if (!env.MODDABLE) {
    console.error(`E_SDK_MISSING: the Moddable SDK is not installed (MODDABLE is not set): ${SDK_HELP}`);
    return EXIT.environment;
  }
  if (!deploy && stringOption(p, 'sign-key') !== undefined) return buildSigned(p, board, out, full);
  if (!deploy && (p.options.version !== undefined || p.options.out !== undefined || p.options['security-counter'] !== undefined)) throw new BodycamError('E_USAGE', '--version, --out and --security-counter go with --sign-key');
  const built = buildManifest(root, wifiPassword(p, env));
  const args = mcconfigArgs({ board, deploy, release: p.options.release === true, port, ssid: stringOption(p, 'ssid'), manifest: built.manifest });
  out(`${deploy ? 'flashing' : 'building'} bodycam for ${board.config.title} (${board.config.target})${port ? ` on ${port}` : ''}`);
  let code: number | undefined;
  try {
    code = await runTool(spawn, 'mcconfig', args, { cwd: root, env: port ? { ...env, UPLOAD_PORT: port } : env }, `mcconfig was not found on PATH: ${SDK_HELP}`);
  } finally {
    built.cleanup();
  }
  if (code === undefined) return EXIT.environment;
  if (code !== 0) {
    console.error(`E_BUILD_FAILED: mcconfig exited with ${code}; the lines above say why`);
    return EXIT.environment;
  }
  out(deploy ? 'done: the camera restarts with the new firmware' : 'done');
  return 0;
}
