// The boards this firmware supports: one boards/<name>.json each (a Moddable manifest fragment
// whose config.bodycam is read by firmware/device/board.ts on the camera too). Host code only.

import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BodycamError } from '../firmware/errors.js';
import { readBoard, type BoardConfig } from '../firmware/device/board.js';
import { repoRoot } from './root.js';

/** A manifest's `creation` (the machine XS gets): chunk heap bytes, slot count, stack slots, keys. */
export interface Creation {
  static?: number;
  chunk: { initial: number; incremental: number };
  heap: { initial: number; incremental: number };
  stack: number;
  keys?: { initial: number; incremental: number };
}

export interface Board {
  name: string;
  /** boards/<name>.json, relative to the repository. */
  file: string;
  config: BoardConfig;
  /** The machine XS gets on this board (its manifest fragment's `creation`). */
  creation: Creation;
}

export function listBoards(root = repoRoot): Board[] {
  const dir = join(root, 'boards');
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => {
      const name = f.slice(0, -'.json'.length);
      const json = JSON.parse(readFileSync(join(dir, f), 'utf8')) as { config?: { bodycam?: unknown }; creation: Creation };
      return { name, file: `boards/${f}`, config: readBoard(json.config?.bodycam, name), creation: json.creation };
    });
}

export function findBoard(name: string | undefined, root = repoRoot): Board {
  const boards = listBoards(root);
  const known = boards.map((b) => b.name).join(', ');
  if (!name) throw new BodycamError('E_USAGE', `--board is required; known boards: ${known}`);
  const board = boards.find((b) => b.name === name || b.config.target === name);
  if (!board) throw new BodycamError('E_BOARD_UNKNOWN', `unknown board "${name}"; known boards: ${known}`);
  return board;
}

