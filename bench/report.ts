// One line per figure, each with its ratio against a baseline measured in the same run.

export interface Figure {
  name: string;
  value: number;
  unit: string;
  /** What it is compared with, measured in the same run. */
  baseline?: { name: string; value: number };
}

export class Report {
  readonly figures: Figure[] = [];
  section(title: string): void {
    console.log(`\n== ${title}`);
  }
  add(f: Figure): void {
    this.figures.push(f);
    const v = f.value >= 1000 ? Math.round(f.value).toLocaleString('en') : String(Number(f.value.toPrecision(4)));
    const ratio = f.baseline ? `  ratio ${(f.value / f.baseline.value).toPrecision(3)} vs ${f.baseline.name} (${Math.round(f.baseline.value).toLocaleString('en')})` : '';
    console.log(`${f.name}: ${v} ${f.unit}${ratio}`);
  }
  note(text: string): void {
    console.log(`  ${text}`);
  }
}

/** Wall time of fn in ms, best of `runs`. */
export async function bestOf(runs: number, fn: () => unknown | Promise<unknown>): Promise<number> {
  let best = Infinity;
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await fn();
    best = Math.min(best, performance.now() - t0);
  }
  return best;
}
