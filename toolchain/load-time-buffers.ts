// Buffers a preloaded module makes at load time. xsl moves them to flash with the rest of the
// module, where they are read-only: the first write throws `TypeError: read-only buffer` on the
// camera. xsl warns about writable objects (`not frozen`) but not about typed arrays, so this
// finds them in the source, with TypeScript's type checker: every top-level binding of a
// preloaded firmware module whose type is an ArrayBuffer, a DataView or a typed array, or an
// object or array that holds one. Each must be a table that is only read, listed in
// READ_ONLY_TABLES with why; anything else fails `npm run build:moddable`.
// (The moddable engine catches a write at run time too, on the paths the tests take.)

import { join } from 'node:path';
import type * as TS from 'typescript';
import { repoRoot } from './root.js';

/** Load-time buffers that are only ever read, by module: `name: why`. */
export const READ_ONLY_TABLES: Readonly<Record<string, Readonly<Record<string, string>>>> = Object.freeze({
  'firmware/dock/session-keys': Object.freeze({ LABEL_C2D: 'an HKDF label', LABEL_D2C: 'an HKDF label' }),
  'firmware/signing/ed25519': Object.freeze({ L: 'the group order', SMALL_ORDER: "libsodium's small-order encodings, compared against" }),
  'firmware/signing/cose': Object.freeze({ EMPTY: 'a zero-length external AAD', EDDSA_PROTECTED: 'the encoded protected header, copied into every Sig_structure' }),
  'firmware/storage/segment-store': Object.freeze({ EMPTY: 'a zero-length record body' }),
  'firmware/signing/tweetnacl': Object.freeze({ gf0: 'tweetnacl constant', gf1: 'tweetnacl constant', D: 'tweetnacl constant', D2: 'tweetnacl constant', X: 'tweetnacl constant', Y: 'tweetnacl constant', I: 'tweetnacl constant', L: 'the group order, read by modL' }),
  'firmware/platform/soft-checksum': Object.freeze({ TABLE: 'the CRC-32 table' }),
});

export interface LoadTimeBuffer {
  module: string;
  name: string;
  type: string;
}

const BUFFER_TYPES = /^(ArrayBuffer|SharedArrayBuffer|DataView|(Ui|I)nt(8|16|32)Array|Uint8ClampedArray|Float(32|64)Array|Big(Ui|I)nt64Array)(<.*>)?$/;

function holdsBuffer(checker: TS.TypeChecker, type: TS.Type, depth = 0): boolean {
  if (depth > 3) return false;
  // By the type's own symbol, so an alias (`type Fe = Float64Array`) is seen through.
  const name = type.getSymbol()?.getName() ?? checker.typeToString(type);
  if (BUFFER_TYPES.test(name)) return true;
  if (type.isUnion()) return type.types.some((t) => holdsBuffer(checker, t, depth + 1));
  if (checker.isArrayType(type) || checker.isTupleType(type)) {
    return checker.getTypeArguments(type as TS.TypeReference).some((t) => holdsBuffer(checker, t, depth + 1));
  }
  if (type.getCallSignatures().length) return false; // a function (its closure is not the table)
  if (type.flags & 524288 /* Object */ && !type.getSymbol()?.getName().match(/^(Map|Set|Promise|Date|RegExp)$/)) {
    return type.getProperties().some((p) => {
      const decl = p.valueDeclaration ?? p.declarations?.[0];
      return decl ? holdsBuffer(checker, checker.getTypeOfSymbolAtLocation(p, decl), depth + 1) : false;
    });
  }
  return false;
}

/** Top-level bindings of these modules (name → repository path without extension) that hold a buffer made at load time. */
export async function loadTimeBuffers(modules: Record<string, string>, root = repoRoot): Promise<LoadTimeBuffer[]> {
  const ts = ((await import('typescript')) as unknown as { default: typeof TS }).default;
  const files = new Map<string, string>();
  for (const [name, path] of Object.entries(modules)) {
    if (!path.startsWith('./firmware/') && !path.startsWith('./host-sim/')) continue;
    files.set(join(root, `${path.slice(2)}.ts`), name);
  }
  const program = ts.createProgram([...files.keys()], { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, strict: true, noEmit: true, skipLibCheck: true, types: [] });
  const checker = program.getTypeChecker();
  const found: LoadTimeBuffer[] = [];
  for (const [file, module] of files) {
    const source = program.getSourceFile(file);
    if (!source) continue;
    for (const statement of source.statements) {
      if (!ts.isVariableStatement(statement)) continue;
      for (const d of statement.declarationList.declarations) {
        if (!ts.isIdentifier(d.name) || !d.initializer) continue;
        // A function value (an arrow or a factory) makes its buffers when called, not at load.
        if (ts.isArrowFunction(d.initializer) || ts.isFunctionExpression(d.initializer)) continue;
        const type = checker.getTypeAtLocation(d.name);
        if (holdsBuffer(checker, type)) found.push({ module, name: d.name.text, type: checker.typeToString(type) });
      }
    }
  }
  return found;
}

/** The load-time buffers READ_ONLY_TABLES does not account for. */
export async function unlistedLoadTimeBuffers(modules: Record<string, string>, preload: readonly string[], root = repoRoot): Promise<LoadTimeBuffer[]> {
  const preloaded = Object.fromEntries(Object.entries(modules).filter(([name]) => preload.includes(name)));
  return (await loadTimeBuffers(preloaded, root)).filter((b) => READ_ONLY_TABLES[b.module]?.[b.name] === undefined);
}
