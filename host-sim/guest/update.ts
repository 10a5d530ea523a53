// Firmware entries for the update area (see entries.ts). Owned by the update work.

import type { Entry } from './env.js';

export const updateEntries: Record<string, Entry> = {};
