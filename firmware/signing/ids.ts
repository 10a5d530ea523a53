// The one rule for camera and dock ids (what certificates name): 1 to 64 letters, digits, ".",
// "_" or "-", starting with a letter or digit. Ids become folder names in evidence stores
// (devices/<id>/, partial/<id>/), so nothing else is ever accepted as one: no "/", no "..",
// nothing hidden, nothing a shell or a file system reads specially.

export const SAFE_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export function isSafeId(id: string): boolean {
  return SAFE_ID.test(id);
}
