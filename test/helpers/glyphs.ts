// The synthetic sensor's burned-in text read back from a decoded grey picture: each cell of
// 8·scale pixels, averaged back to 8x8, is the glyph nearest its pixels (host-sim/sensor/font.ts).

import { FONT8, glyphPixel } from '../../host-sim/sensor/font.js';

export interface TextCells {
  /** Pixels per font pixel (default 1). */
  scale?: number;
  /** The text line, from the top (default 0). */
  line?: number;
  /** The first cell read (default 0) and how many. */
  from?: number;
  cells: number;
  /** The characters a cell may be, tried in this order (default: the whole font). */
  alphabet?: Iterable<string>;
}

/** The characters read, and the worst cell's mean distance from its glyph (0..255). */
export function readText(gray: Uint8Array, width: number, o: TextCells): { text: string; worst: number } {
  const scale = o.scale ?? 1;
  const line = o.line ?? 0;
  const from = o.from ?? 0;
  const alphabet = [...(o.alphabet ?? FONT8.keys())];
  let text = '';
  let worst = 0;
  for (let c = from; c < from + o.cells; c++) {
    let best = '';
    let bestErr = Infinity;
    for (const ch of alphabet) {
      let err = 0;
      for (let y = 0; y < 8; y++) {
        for (let x = 0; x < 8; x++) {
          let sum = 0;
          for (let j = 0; j < scale; j++) for (let i = 0; i < scale; i++) sum += gray[(8 * scale * line + y * scale + j) * width + 8 * scale * c + x * scale + i];
          err += Math.abs(sum / (scale * scale) - (glyphPixel(ch, x, y) ? 255 : 12));
        }
      }
      if (err < bestErr) {
        bestErr = err;
        best = ch;
      }
    }
    text += best;
    worst = Math.max(worst, bestErr / 64);
  }
  return { text, worst };
}
