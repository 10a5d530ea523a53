// Firmware entries for the recorder area (see entries.ts). Owned by the recorder work.

import type { Entry } from './env.js';

export const recorderEntries: Record<string, Entry> = {};
