// Constant tables, frozen all the way down. The camera preloads firmware modules: xsl runs them
// at build time and moves what they made to flash, and warns (`not frozen`) about every object
// there that could still be written — it would be copied to RAM on its first write. The Moddable
// build (toolchain/mcconfig.ts) fails on that warning for our modules, so a table is frozen where
// it is defined. Typed arrays are left as they are (they can't be frozen; a table of bytes that
// is only read is fine in flash).

/** Freeze a plain object or array and everything plain inside it; returns the same value. */
export function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !ArrayBuffer.isView(value) && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}
