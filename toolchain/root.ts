// The repository root, from dist/toolchain (compiled) or toolchain (sources).

import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
export const repoRoot = resolve(here, here.split(/[\\/]/).includes('dist') ? '../..' : '..');
