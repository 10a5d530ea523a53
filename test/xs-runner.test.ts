// The XS runner itself: real worker, errors that name their fix, metering.

import test from 'ava';
import { isBodycamError } from '../firmware/errors.js';
import { XsWorker, xsnapWorkerPath } from '../host-sim/xs/worker.js';
import { existsSync } from 'node:fs';

test('the xsnap-worker binary was built by npm install', (t) => {
  t.true(existsSync(xsnapWorkerPath()), xsnapWorkerPath());
});

test('a missing binary is a clear error that names the fix', (t) => {
  const e = t.throws(() => XsWorker.start({ onQuery: () => new Uint8Array(0), binary: '/nonexistent/xsnap-worker' }));
  t.true(isBodycamError(e, 'E_XS_MISSING'));
  t.regex(e!.message, /npm rebuild @agoric\/xsnap/);
});

test('evaluate runs in XS (not Node) and reports compute units', async (t) => {
  const w = XsWorker.start({ onQuery: () => new Uint8Array(0) });
  try {
    // XS has no `process`, and its print is a global.
    const r = await w.evaluate('globalThis.result = typeof process + ":" + typeof print; let s = 0; for (let i = 0; i < 100000; i++) s += i; s');
    t.true(r.meter.compute > 100_000);
    const small = await w.evaluate('1 + 1');
    t.true(small.meter.compute < r.meter.compute / 10);
    const q = await w.evaluate('globalThis.result');
    t.truthy(q);
  } finally {
    await w.close();
  }
});

test('issueCommand from XS reaches the host and the reply comes back', async (t) => {
  const seen: string[] = [];
  const w = XsWorker.start({
    onQuery: (m) => {
      seen.push(Buffer.from(m).toString());
      return new Uint8Array(Buffer.from(`pong:${Buffer.from(m).toString()}`));
    },
  });
  try {
    await w.evaluate(`
      globalThis.handleCommand = (ab) => {
        const u = new Uint8Array(ab);
        const q = new Uint8Array([104, 105, u[0]]);
        const r = new Uint8Array(issueCommand(q.buffer));
        return new Uint8Array([r.length, ...r.slice(0, 5)]).buffer;
      };`);
    const r = await w.command(new Uint8Array([33]));
    t.deepEqual(seen, ['hi!']);
    t.deepEqual([...r.reply], [8, ...Buffer.from('pong:')]);
  } finally {
    await w.close();
  }
});

test('an exception in XS is an error with its message, and the worker lives on', async (t) => {
  const w = XsWorker.start({ onQuery: () => new Uint8Array(0) });
  try {
    const e = await t.throwsAsync(w.evaluate('throw new RangeError("boom in xs")'));
    t.true(isBodycamError(e, 'E_XS_EXCEPTION'));
    t.regex(e!.message, /boom in xs/);
    t.truthy((await w.evaluate('2')).meter);
  } finally {
    await w.close();
  }
});

test('a runaway computation is stopped by the meter limit', async (t) => {
  const w = XsWorker.start({ onQuery: () => new Uint8Array(0), meteringLimit: 1_000_000, stdout: 'ignore' });
  try {
    const e = await t.throwsAsync(w.evaluate('for (;;) {}'));
    t.true(isBodycamError(e) && ['E_XS_METER', 'E_XS_EXITED', 'E_XS_EXCEPTION'].includes(e.code), e?.message);
  } finally {
    await w.close();
  }
});
