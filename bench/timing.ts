// Timing helpers shared by the benchmarks.

/** Median seconds of `repeats` runs of `fn`, after `warmup` untimed runs. */
export async function medianSeconds(fn: () => Promise<void> | void, repeats = 7, warmup = 2): Promise<number> {
  for (let i = 0; i < warmup; i++) await fn();
  const times: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const t0 = process.hrtime.bigint();
    await fn();
    times.push(Number(process.hrtime.bigint() - t0) / 1e9);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

/**
 * A pause before a measurement, the same for every contender: the background work of what ran
 * before (V8's compiler and collector, a released session's threads) would otherwise share the
 * cores with it.
 */
export function settle(ms = 200): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export function gflops(flop: number, seconds: number): string {
  return `${(flop / seconds / 1e9).toFixed(1)} GFLOP/s`;
}
