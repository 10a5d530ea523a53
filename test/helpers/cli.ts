// The bodycam command as a user runs it: a real process, its output collected.

import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { repoRoot } from '../../host-sim/xs/bundle.js';

/** Run `bodycam ARGS` to its end (env added to this process's). */
export function bodycamAsync(args: string[], env: Record<string, string> = {}): Promise<{ status: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [join(repoRoot, 'bin', 'bodycam.js'), ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) => child.on('close', (status) => resolve({ status, stdout, stderr })));
}

/** `bodycam dock ARGS` running, once it prints a line `ready` accepts (its stdout lines so far, and on). */
export async function dockProcess(args: string[], ready: (line: string) => boolean): Promise<{ child: ChildProcess; lines: string[]; exit: Promise<number | null> }> {
  const child = spawn(process.execPath, [join(repoRoot, 'bin', 'bodycam.js'), 'dock', ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const lines: string[] = [];
  await new Promise<void>((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      lines.push(line);
      if (ready(line)) resolve();
    });
    void exit.then((code) => reject(new Error(`bodycam dock exited (${code}) before it was ready: ${lines.join('\n')}`)));
  });
  return { child, lines, exit };
}
