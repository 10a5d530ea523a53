// Errors are values with a stable `code` and a message a person can act on.
// Every firmware module throws BodycamError (or returns one) instead of bare strings,
// so the dock station, the CLI and the tests can branch on `code` and never on text.

export class BodycamError extends Error {
  // A field (defined on the instance), not `this.name = ...`: on the camera Error.prototype is
  // preloaded and frozen, and assigning over its read-only `name` throws (the override mistake).
  override readonly name = 'BodycamError';
  readonly code: string;
  readonly detail: unknown;
  constructor(code: string, message: string, detail?: unknown) {
    super(`${code}: ${message}`);
    this.code = code;
    this.detail = detail;
  }
}

export function isBodycamError(e: unknown, code?: string): e is BodycamError {
  return e instanceof Error && typeof (e as BodycamError).code === 'string' && (code === undefined || (e as BodycamError).code === code);
}

/** The code of any thrown value: ours, or E_INTERNAL for anything unexpected. */
export function errorCode(e: unknown): string {
  return isBodycamError(e) ? e.code : 'E_INTERNAL';
}

/** The message of any thrown value, without our "CODE: " prefix (for replies that carry the code apart). */
export function errorMessage(e: unknown): string {
  if (isBodycamError(e)) return e.message.startsWith(`${e.code}: `) ? e.message.slice(e.code.length + 2) : e.message;
  return e instanceof Error ? e.message : String(e);
}
