// Timing helpers shared by the benchmarks.
import { setTimeout as sleep } from 'node:timers/promises';

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
 * medianSeconds after a 200 ms pause, the same for every contender: the background work of what
 * ran before (V8's compiler and collector, a released session's threads) would otherwise share
 * the cores with the measurement.
 */
export async function settledMedianSeconds(fn: () => Promise<void> | void, repeats?: number, warmup?: number): Promise<number> {
  await sleep(200);
  return medianSeconds(fn, repeats, warmup);
}

export function gflops(flop: number, seconds: number): string {
  return `${(flop / seconds / 1e9).toFixed(1)} GFLOP/s`;
}
