// Firmware entry points the host can call by name, in either engine. Each takes the GuestEnv and
// CBOR-able arguments and returns a CBOR-able value, so the same table of test cases runs against
// Node and XS and the results can be compared byte for byte. One file per area; this one only
// gathers them. Pure ECMAScript: bundled into the XS guest.

import type { Entry } from './env.js';
import { foundationEntries } from './foundation.js';
import { storageEntries } from './storage.js';
import { signingEntries } from './signing.js';
import { captureEntries } from './capture.js';
import { dockEntries } from './dock.js';
import { recorderEntries } from './recorder.js';
import { updateEntries } from './update.js';
import { ed25519Entries } from './ed25519.js';
import { provisionEntries } from './provision.js';
import { bootEntries } from './boot.js';
import { cryptoEntries } from './crypto.js';

export type { Entry, GuestEnv } from './env.js';

export const entries: Record<string, Entry> = Object.freeze({
  ...foundationEntries,
  ...storageEntries,
  ...signingEntries,
  ...captureEntries,
  ...dockEntries,
  ...recorderEntries,
  ...updateEntries,
  ...ed25519Entries,
  ...provisionEntries,
  ...bootEntries,
  ...cryptoEntries,
});
