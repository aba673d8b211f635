/**
 * The protocol between benchmark files and `npm run bench`: a benchmark is a script named
 * `*.bench.ts` that prints one `BENCH {json}` line per measured figure. Each file runs in a
 * process of its own, so memory figures of one do not leak into another.
 */
export interface BenchRow {
  /** What was measured, e.g. "import into SQLite". */
  name: string;
  /** The figure, already reduced (a median of several runs, a ratio measured in one run). */
  value: number;
  /** Unit of `value`: "events/s", "ms", "MB", "%", ... */
  unit: string;
  /** The goal, in words, e.g. ">= 150000" or "< 5". */
  goal?: string;
  /** Whether the goal was met; absent when there is no goal. */
  met?: boolean;
  /** How the figure was obtained: runs, sizes, what the median is over. */
  detail?: string;
}

export function reportBench(row: BenchRow): void {
  console.log(`BENCH ${JSON.stringify(row)}`);
}

/** Median of a non-empty list of numbers. */
export function median(values: readonly number[]): number {
  if (values.length === 0) throw new RangeError('median of an empty list');
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}
