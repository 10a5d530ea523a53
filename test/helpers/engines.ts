// Runs a test body once per engine (node, xs), each with its own simulated hardware, so every
// firmware test proves the module on Node and inside the real XS engine.

import test, { type ExecutionContext } from 'ava';
import { ENGINES, startEngine, type Engine, type EngineName } from '../../host-sim/engine.js';
import { SimHardware, type SimHardwareOptions } from '../../host-sim/node/hardware.js';

export interface EngineFixture {
  engine: Engine;
  hw: SimHardware;
}

/** Declare `body` as one ava test per engine, titled "[node] title" and "[xs] title". */
export function bothEngines(title: string, body: (t: ExecutionContext, f: EngineFixture) => Promise<void> | void, options: SimHardwareOptions & { setup?: (hw: SimHardware) => void } = {}): void {
  for (const name of ENGINES) {
    test(`[${name}] ${title}`, async (t) => {
      const hw = new SimHardware(options);
      options.setup?.(hw);
      const engine = await startEngine(name, hw.platform());
      try {
        await body(t, { engine, hw });
      } finally {
        await engine.close();
      }
    });
  }
}

/** Start both engines on their own hardware, for tests that compare the two. */
export async function withBoth<T>(fn: (engines: Record<EngineName, EngineFixture>) => Promise<T>, options: SimHardwareOptions & { setup?: (hw: SimHardware) => void } = {}): Promise<T> {
  const fixtures = {} as Record<EngineName, EngineFixture>;
  for (const name of ENGINES) {
    const hw = new SimHardware(options);
    options.setup?.(hw);
    fixtures[name] = { hw, engine: await startEngine(name, hw.platform()) };
  }
  try {
    return await fn(fixtures);
  } finally {
    for (const name of ENGINES) await fixtures[name].engine.close();
  }
}
