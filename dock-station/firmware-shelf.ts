// The station's folder of signed firmware images (made with `bodycam firmware sign`). The dock
// offers the newest image for a camera's board after all of that camera's evidence has been
// uploaded and receipted; the camera verifies the signature itself before installing.

import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseHeader, parseTlvs, tlvOffset, versionText, type ImageVersion } from '../firmware/update/image.js';

export interface ShelfImage {
  file: string;
  version: string;
  v: ImageVersion;
  board: string;
  bytes: Uint8Array;
}

function compare(a: ImageVersion, b: ImageVersion): number {
  return a.major - b.major || a.minor - b.minor || a.revision - b.revision || a.build - b.build;
}

/** Read an image's version and board (no signature check: that is the camera's job). */
export function describeImage(bytes: Uint8Array, file = ''): ShelfImage {
  const h = parseHeader(bytes);
  const protStart = h.headerSize + h.imageSize;
  const tlvStart = tlvOffset(h);
  const tlvs = parseTlvs(bytes.subarray(protStart, tlvStart), bytes.subarray(tlvStart));
  return { file, version: versionText(h.version), v: h.version, board: tlvs.board, bytes };
}

export class FirmwareShelf {
  constructor(readonly dir: string) {}

  images(): ShelfImage[] {
    const out: ShelfImage[] = [];
    for (const name of readdirSync(this.dir)) {
      const p = join(this.dir, name);
      if (!statSync(p).isFile()) continue;
      try {
        out.push(describeImage(new Uint8Array(readFileSync(p)), p));
      } catch {
        // not an image: the folder may hold notes, keys' public halves...
      }
    }
    return out;
  }

  /** The newest image for `board`, if any. */
  newestFor(board: string): ShelfImage | undefined {
    return this.images()
      .filter((i) => i.board === board)
      .sort((a, b) => compare(b.v, a.v))[0];
  }
}
