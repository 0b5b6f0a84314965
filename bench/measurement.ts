/** What one measurement in a child process reports back. */
export interface Measurement {
  /** Wall time of the measured step alone (the process start and store opening excluded). */
  seconds: number;
  /** Rows (or objects, for the small-files run) the step handled, checked against the store or bucket. */
  count: number;
  /** Peak resident memory of the whole process, engine included. */
  maxRssBytes: number;
  /** Further timings of the same process, by name (seconds). */
  more?: Record<string, number>;
}

/** Seconds taken by `step`. */
export async function timed(step: () => Promise<unknown>): Promise<number> {
  const started = process.hrtime.bigint();
  await step();
  return Number(process.hrtime.bigint() - started) / 1e9;
}

export function peakRss(): number {
  return process.resourceUsage().maxRSS * 1024;
}

/** Fails the measurement when what the step did is not what it should have done. */
export function check(condition: boolean, message: string): void {
  if (!condition) throw new Error(`check failed: ${message}`);
}

/** The middle of the values (the mean of the two middle ones for an even count). */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}
