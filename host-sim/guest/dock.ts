// Firmware entries for the dock area (see entries.ts). Owned by the dock work.

import type { Entry } from './env.js';

export const dockEntries: Record<string, Entry> = {};
