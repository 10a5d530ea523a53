// What firmware/signing/fast/ needs from outside firmware/signing/, re-exported one level up:
// XS on a device resolves a single "./" or "../" in an import (xsPlatforms.c fxFindModule), so a
// module two folders down can't name "../../errors.js" directly.

export { BodycamError } from '../errors.js';
export type { Digest } from '../platform/digest.js';
