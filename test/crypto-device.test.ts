// The device's Cipher port (firmware/device/cipher.ts) over the real natives of Moddable SDK
// 8.2.3's `crypt` — BlockCipher("AES"), Mode("CTR"), GHASH, compiled from modCrypt.c and KCL's
// C — in the moddable engine: the guest built by mcconfig for x-cli-lin with crypt linked in and
// its platform's cipher replaced by the device adapter (a fixture of the sources; the host's
// cipher is made to throw, so nothing is sealed on Node by mistake). Everything it seals must be
// node:crypto's bytes: the GCM specification's cases, every length across block boundaries and
// the 256-block counter carry, views at odd offsets, RFC 9180 A.1 through HPKE, and STREAM both
// ways with tampering refused, and the recorder's sealer (sealTwo) giving node's records. Then CHACHA20-POLY1305 (crypt's ChaCha20 with the firmware's
// Poly1305, bodycam/poly1305, compiled into the same build): RFC 8439 §2.8.2, node:crypto's bytes
// for every length at odd offsets, refused opens, RFC 9180 A.2 through HPKE, and STREAM both ways.

import test, { type ExecutionContext } from 'ava';
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BodycamError, isBodycamError } from '../firmware/errors.js';
import type { Platform } from '../firmware/platform/index.js';
import { StreamOpener, StreamSealer } from '../firmware/crypto/stream.js';
import { RecordSealer } from '../firmware/encoder/sealed-record.js';
import { nodeCipher } from '../host/ports.js';
import { buildDir, startModdableEngine } from '../host-sim/moddable/engine.js';
import { SimHardware } from '../host-sim/node/hardware.js';
import { findBoard } from '../toolchain/boards.js';
import { buildEngine } from '../toolchain/mcconfig.js';
import { repoRoot } from '../toolchain/root.js';
import { ensureSdk } from '../toolchain/sdk.js';

const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s, 'hex'));
const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

/** The sources with the guest's cipher replaced by the device adapter over crypt, and crypt in the board's build. */
function deviceCipherRoot(t: ExecutionContext): string {
  const root = mkdtempSync(join(tmpdir(), 'bodycam-crypt-'));
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  for (const d of ['firmware', 'host-sim', 'boards']) cpSync(join(repoRoot, d), join(root, d), { recursive: true });
  cpSync(join(repoRoot, 'manifest.json'), join(root, 'manifest.json'));
  symlinkSync(join(repoRoot, 'node_modules'), join(root, 'node_modules'));
  const main = join(root, 'host-sim', 'xs', 'guest', 'main.ts');
  const before = readFileSync(main, 'utf8');
  const after = before
    .replace("import { entries } from '../../guest/entries.js';", "import { entries } from '../../guest/entries.js';\nimport * as crypt from 'crypt';\nimport poly1305 from 'bodycam/poly1305';\nimport { cryptCipher } from '../../../firmware/device/cipher.js';\nimport type { CryptCipherModule } from '../../../firmware/device/moddable.js';")
    .replace('const platform = remotePlatform();', 'const platform: Platform = { ...remotePlatform(), cipher: cryptCipher(crypt as unknown as CryptCipherModule, poly1305) };');
  if (after === before || !after.includes('cryptCipher(crypt')) throw new Error('the guest main changed: update this fixture');
  writeFileSync(main, after);
  const boardFile = join(root, 'boards', 'xiao_esp32s3_sense.json');
  const board = JSON.parse(readFileSync(boardFile, 'utf8')) as { include?: string[] };
  board.include = ['$(MODDABLE)/modules/crypt/digest/manifest.json'];
  writeFileSync(boardFile, JSON.stringify(board, null, '\t'));
  return root;
}

function hostWithoutCipher(): Platform {
  const p = new SimHardware().platform();
  return { ...p, cipher: { create: () => { throw new BodycamError('E_TEST', 'the host cipher was used: the guest must seal with crypt'); } } };
}

const GCM = [
  { alg: 'AES-128-GCM', key: 'feffe9928665731c6d6a8f9467308308', iv: 'cafebabefacedbaddecaf888', aad: 'feedfacedeadbeeffeedfacedeadbeefabaddad2', tag: '5bc94fbc3221a5db94fae95ae7121a47' },
  { alg: 'AES-256-GCM', key: 'feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308', iv: 'cafebabefacedbaddecaf888', aad: 'feedfacedeadbeeffeedfacedeadbeefabaddad2', tag: '76fc6ece0f4e1768cddf8853bb2d551b' },
] as const;
const GCM_PT = 'd9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39';

test.serial("the device adapter over crypt's natives (moddable engine) seals and opens exactly as node:crypto does", async (t) => {
  const root = deviceCipherRoot(t);
  const board = findBoard('xiao_esp32s3_sense', root);
  const r = buildEngine(ensureSdk(), board, { out: buildDir(), root, name: 'bodycam-moddable-fixture-crypt' });
  t.true(r.ok, r.problems.join('\n'));
  const engine = await startModdableEngine(hostWithoutCipher(), { board: board.name, binary: r.binary });
  try {
    for (const c of GCM) {
      const [, tag] = (await engine.call('crypto.aead.seal', c.alg, hex(c.key), hex(c.iv), hex(c.aad), hex(GCM_PT))).value as [Uint8Array, Uint8Array];
      t.is(toHex(tag), c.tag, `${c.alg}: the GCM specification's tag`);
    }
    for (const alg of ['AES-128-GCM', 'AES-256-GCM'] as const) {
      for (const n of [0, 1, 15, 16, 17, 63, 64, 65, 1000, 16 * 256 + 1, 25 * 1024 + 3]) {
        const key = randomBytes(alg === 'AES-128-GCM' ? 16 : 32);
        const nonce = randomBytes(12);
        const aad = randomBytes(n % 29);
        const plain = Uint8Array.from(randomBytes(n));
        const offset = n % 5; // a view at an odd offset when n is odd
        const [ct, tag] = (await engine.call('crypto.aead.seal', alg, key, nonce, aad, plain, offset)).value as [Uint8Array, Uint8Array];
        const want = Uint8Array.from(plain);
        const wantTag = new Uint8Array(nodeCipher.create(alg, key).seal(nonce, aad, want));
        t.true(Buffer.from(ct).equals(want), `${alg}, ${n} bytes at offset ${offset}: node:crypto's ciphertext`);
        t.is(toHex(tag), toHex(wantTag));
        const [ok, pt] = (await engine.call('crypto.aead.open', alg, key, nonce, aad, ct, tag, offset)).value as [boolean, Uint8Array];
        t.true(ok);
        t.true(Buffer.from(pt).equals(plain));
        const bad = Uint8Array.from(tag);
        bad[n % 16] ^= 0x10;
        const [refused, same] = (await engine.call('crypto.aead.open', alg, key, nonce, aad, ct, bad, offset)).value as [boolean, Uint8Array];
        t.false(refused);
        t.true(Buffer.from(same).equals(ct), 'a refused open leaves the bytes');
      }
    }
    // The recorder's sealer (two chunks a record in one sealTwo call) gives node's records.
    {
      const key = Uint8Array.from(randomBytes(32));
      const body = Uint8Array.from(randomBytes(25 * 1024 + 3));
      const [first, sealedBody] = (await engine.call('crypto.sealed.records', key, 3, body)).value as [Uint8Array, Uint8Array];
      const sealer = new RecordSealer({ ...new SimHardware().platform(), recipients: [new Uint8Array(32)], prepared: { key: key.slice(), recipients: [{ kid: new Uint8Array(8), enc: new Uint8Array(32), key: new Uint8Array(48) }] } });
      const header = new Uint8Array(48);
      const wantBody = body.slice();
      let wantFirst = new Uint8Array(0);
      for (let i = 0; i < 3; i++) {
        header[0] = i;
        wantFirst = sealer.seal(header, wantBody).slice();
      }
      sealer.close();
      t.is(toHex(first), toHex(wantFirst), "a sealed record's prefix, header and tags: node's");
      t.true(Buffer.from(sealedBody).equals(wantBody), "its body sealed in place: node's");
    }
    // RFC 9180 A.1 through HPKE with crypt's AES-128-GCM.
    const sealed = (await engine.call(
      'crypto.hpke.seal', 'AES-128-GCM', hex('3948cfe0ad1ddb695d780e59077195da6c56506b027329794ab02bca80815c4d'), hex('7268600d403fce431561aef583ee1613527cff655c1343f29812e66706df3234'),
      hex('4f6465206f6e2061204772656369616e2055726e'), [0], [hex('436f756e742d30')], [hex('4265617574792069732074727574682c20747275746820626561757479')], [], 32,
    )).value as [Uint8Array, Uint8Array[]];
    t.is(toHex(sealed[1][0]), 'f938558b5d72f1a23810b4be2ab4f84331acc02fc97babc53a52ae8218a355a96d8770ac83d07bea87e13c512a');
    // STREAM: crypt seals, node:crypto opens; node:crypto seals, crypt opens; a swap is refused.
    const key = Uint8Array.from(randomBytes(32));
    const chunks = [0, 100, 4096, 25 * 1024].map((n) => Uint8Array.from(randomBytes(n)));
    const aads = chunks.map((_, i) => Uint8Array.of(i));
    const [cts, tags] = (await engine.call('crypto.stream.seal', key, chunks, aads)).value as [Uint8Array[], Uint8Array[]];
    const opener = new StreamOpener(nodeCipher, key);
    cts.forEach((c, i) => {
      const p = Uint8Array.from(c);
      opener.open(i, i === cts.length - 1, aads[i], p, tags[i]);
      t.true(Buffer.from(p).equals(chunks[i]), `chunk ${i}`);
    });
    const sealer = new StreamSealer(nodeCipher, key);
    const ours = chunks.map((c) => Uint8Array.from(c));
    const ourTags = ours.map((c, i) => sealer.seal(c, aads[i], i === ours.length - 1));
    const opened = (await engine.call('crypto.stream.open', key, ours, ourTags, aads)).value as Uint8Array[];
    t.deepEqual(opened.map(toHex), chunks.map(toHex));
    const e = await t.throwsAsync(engine.call('crypto.stream.open', key, [ours[1], ours[0], ...ours.slice(2)], [ourTags[1], ourTags[0], ...ourTags.slice(2)], aads));
    t.true(isBodycamError(e, 'E_STREAM_AUTH'), String(e));

    // CHACHA20-POLY1305: crypt's StreamCipher("ChaCha") with the firmware's Poly1305 in C
    // (bodycam/poly1305). RFC 8439 §2.8.2 first, then node:crypto's bytes for every length.
    const [rfcCt, rfcTag] = (await engine.call(
      'crypto.aead.seal', 'CHACHA20-POLY1305', hex('808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f'), hex('070000004041424344454647'), hex('50515253c0c1c2c3c4c5c6c7'),
      Uint8Array.from(Buffer.from("Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it.", 'latin1')),
    )).value as [Uint8Array, Uint8Array];
    t.is(toHex(rfcCt), 'd31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d63dbea45e8ca9671282fafb69da92728b1a71de0a9e060b2905d6a5b67ecd3b3692ddbd7f2d778b8c9803aee328091b58fab324e4fad675945585808b4831d7bc3ff4def08e4b7a9de576d26586cec64b6116');
    t.is(toHex(rfcTag), '1ae10b594f09e26a7e902ecbd0600691', "RFC 8439 §2.8.2's tag");
    for (const n of [0, 1, 15, 16, 17, 63, 64, 65, 127, 1000, 4097, 25 * 1024 + 3]) {
      const key = Uint8Array.from(randomBytes(32));
      const nonce = Uint8Array.from(randomBytes(12));
      const aad = Uint8Array.from(randomBytes(n % 37));
      const plain = Uint8Array.from(randomBytes(n));
      const offset = n % 7; // odd offsets: Poly1305 reads bytes, not words
      const [ct, tag] = (await engine.call('crypto.aead.seal', 'CHACHA20-POLY1305', key, nonce, aad, plain, offset)).value as [Uint8Array, Uint8Array];
      const want = Uint8Array.from(plain);
      const wantTag = new Uint8Array(nodeCipher.create('CHACHA20-POLY1305', key).seal(nonce, aad, want));
      t.true(Buffer.from(ct).equals(want), `ChaCha20-Poly1305, ${n} bytes at offset ${offset}: node:crypto's ciphertext`);
      t.is(toHex(tag), toHex(wantTag), `ChaCha20-Poly1305, ${n} bytes: node:crypto's tag`);
      const [ok, pt] = (await engine.call('crypto.aead.open', 'CHACHA20-POLY1305', key, nonce, aad, ct, tag, offset)).value as [boolean, Uint8Array];
      t.true(ok);
      t.true(Buffer.from(pt).equals(plain));
      const bad = Uint8Array.from(tag);
      bad[n % 16] ^= 0x04;
      const [refused, same] = (await engine.call('crypto.aead.open', 'CHACHA20-POLY1305', key, nonce, aad, ct, bad, offset)).value as [boolean, Uint8Array];
      t.false(refused);
      t.true(Buffer.from(same).equals(ct), 'a refused open leaves the bytes');
    }
    // RFC 9180 A.2 through HPKE with the device's ChaCha20-Poly1305: two sequence numbers (two nonces on one context).
    const a2 = (await engine.call(
      'crypto.hpke.seal', 'CHACHA20-POLY1305', hex('4310ee97d88cc1f088a5576c77ab0cf5c3ac797f3d95139c6c84b5429c59662a'), hex('909a9b35d3dc4713a5e72a4da274b55d3d3821a37e5d099e74a647db583a904b'),
      hex('4f6465206f6e2061204772656369616e2055726e'), [0, 1], [hex('436f756e742d30'), hex('436f756e742d31')], [hex('4265617574792069732074727574682c20747275746820626561757479'), hex('4265617574792069732074727574682c20747275746820626561757479')], [], 32,
    )).value as [Uint8Array, Uint8Array[]];
    t.deepEqual(a2[1].map(toHex), [
      '1c5250d8034ec2b784ba2cfd69dbdb8af406cfe3ff938e131f0def8c8b60b4db21993c62ce81883d2dd1b51a28',
      '6b53c051e4199c518de79594e1c4ab18b96f081549d45ce015be002090bb119e85285337cc95ba5f59992dc98c',
    ]);
    // STREAM under CHACHA20-POLY1305: crypt seals what node:crypto opens, and opens what it seals.
    const [ccts, ctags] = (await engine.call('crypto.stream.seal', key, chunks, aads, 'CHACHA20-POLY1305')).value as [Uint8Array[], Uint8Array[]];
    const cOpener = new StreamOpener(nodeCipher, key, 'CHACHA20-POLY1305');
    ccts.forEach((c, i) => {
      const p = Uint8Array.from(c);
      cOpener.open(i, i === ccts.length - 1, aads[i], p, ctags[i]);
      t.true(Buffer.from(p).equals(chunks[i]), `ChaCha20-Poly1305 STREAM chunk ${i}`);
    });
    const cSealer = new StreamSealer(nodeCipher, key, 'CHACHA20-POLY1305');
    const cOurs = chunks.map((c) => Uint8Array.from(c));
    const cOurTags = cOurs.map((c, i) => cSealer.seal(c, aads[i], i === cOurs.length - 1));
    t.deepEqual(((await engine.call('crypto.stream.open', key, cOurs, cOurTags, aads, 'CHACHA20-POLY1305')).value as Uint8Array[]).map(toHex), chunks.map(toHex));
  } finally {
    await engine.close();
  }
});
