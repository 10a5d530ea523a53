// Firmware entries for the storage area (see entries.ts). Owned by the storage work.

import type { Entry } from './env.js';

export const storageEntries: Record<string, Entry> = {};
