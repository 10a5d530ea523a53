// A small, strict argument parser for the bodycam commands: --name value, --flag, positionals.
// Unknown options are an error with a stable code, never ignored. Why not node:util parseArgs (the
// maintained one at hand): it reports mistakes as Node's ERR_PARSE_ARGS_* TypeErrors whose text we
// don't control, and it also accepts forms (--name=value, bundled short flags) that our help and
// codes don't describe; this is short, and every mistake it finds is an E_USAGE with the fix.

import { existsSync, readFileSync } from 'node:fs';
import { BodycamError } from '../firmware/errors.js';

export interface OptionSpec {
  /** Takes a value (`--port 9000`) rather than being a flag. */
  value?: boolean;
  /** May be given more than once (values collected in order). */
  many?: boolean;
}

export interface Parsed {
  options: Record<string, string | boolean | string[]>;
  positionals: string[];
}

export function parseArgs(argv: string[], spec: Record<string, OptionSpec>): Parsed {
  const options: Parsed['options'] = {};
  const positionals: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (!a.startsWith('--')) {
      positionals.push(a);
      continue;
    }
    const eq = a.indexOf('=');
    const name = a.slice(2, eq < 0 ? undefined : eq);
    const s = spec[name];
    if (!s) throw new BodycamError('E_USAGE', `unknown option --${name}`);
    if (!s.value) {
      if (eq >= 0) throw new BodycamError('E_USAGE', `--${name} takes no value`);
      options[name] = true;
      continue;
    }
    const v = eq >= 0 ? a.slice(eq + 1) : argv[++i];
    if (v === undefined) throw new BodycamError('E_USAGE', `--${name} needs a value`);
    if (s.many) options[name] = [...((options[name] as string[] | undefined) ?? []), v];
    else options[name] = v;
  }
  return { options, positionals };
}

export function intOption(p: Parsed, name: string, fallback: number): number {
  const v = p.options[name];
  if (v === undefined) return fallback;
  const n = Number(v);
  if (typeof v !== 'string' || !Number.isSafeInteger(n)) throw new BodycamError('E_USAGE', `--${name} must be an integer`);
  return n;
}

export function stringOption(p: Parsed, name: string): string | undefined {
  const v = p.options[name];
  return typeof v === 'string' ? v : undefined;
}

/** The shortest passphrase that protects a secret key (the agency root, the firmware key). */
export const MIN_PASSPHRASE = 12;

/**
 * A secret from `--<option> FILE` (its first line) or the environment variable `envVar`, never
 * from a command-line value (other users see those in ps); undefined when neither gives one.
 */
export function secretOption(p: Parsed, env: NodeJS.ProcessEnv, option: string, envVar: string): string | undefined {
  const file = stringOption(p, option);
  if (file !== undefined) {
    if (!existsSync(file)) throw new BodycamError('E_USAGE', `--${option} ${file} does not exist`);
    return readFileSync(file, 'utf8').replace(/\r?\n$/, '');
  }
  return env[envVar] || undefined;
}
