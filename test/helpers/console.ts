// What the web console's browser tests share: Debian's Chromium (no browser is downloaded) and
// where the last run's screenshots go.

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../../host-sim/xs/bundle.js';

/** Debian's Chromium, or BODYCAM_CHROMIUM; undefined when neither is here. */
export const CHROMIUM = process.env.BODYCAM_CHROMIUM ?? ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p));
/** The last run's screenshots, for a reviewer (gitignored). */
export const SHOTS = join(repoRoot, 'out', 'console-test');
