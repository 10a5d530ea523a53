// Firmware entries for the signing area (see entries.ts). Owned by the signing work.

import type { Entry } from './env.js';

export const signingEntries: Record<string, Entry> = {};
