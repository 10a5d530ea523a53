// Firmware entries for the capture area (see entries.ts). Owned by the capture work.

import type { Entry } from './env.js';

export const captureEntries: Record<string, Entry> = {};
