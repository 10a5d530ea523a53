// The public conformance vectors (a copy of shared/vectors, unedited).

import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
/** test/vectors in the source tree (tests run from dist/test/helpers). */
export const vectorsDir = resolve(here, '../../../test/vectors');

export function readVector<T>(name: string): T {
  return JSON.parse(readFileSync(join(vectorsDir, name), 'utf8')) as T;
}

export const hexToBytes = (h: string): Uint8Array => new Uint8Array(Buffer.from(h, 'hex'));
export const bytesToHex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
