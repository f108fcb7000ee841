// Timing helpers shared by the benchmarks.
import { setTimeout as sleep } from 'node:timers/promises';

/** The middle value of `values` (the upper one of an even count). */
export function median(values: number[]): number {
  return [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
}

/** Median seconds of `repeats` runs of `fn`, after `warmup` untimed runs. */
export async function medianSeconds(fn: () => Promise<void> | void, repeats = 7, warmup = 2): Promise<number> {
  for (let i = 0; i < warmup; i++) await fn();
  const times: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const t0 = process.hrtime.bigint();
    await fn();
    times.push(Number(process.hrtime.bigint() - t0) / 1e9);
  }
  return median(times);
}

/**
 * Median seconds a call over `repeats` batches of calls of `fn` issued without awaiting each (as a
 * training step issues its ops: the executor runs them back to back), after a warm-up batch. A
 * batch holds at least 10 calls and about `batchSeconds` of them: awaiting every call adds the
 * round trip to the executor's thread and back to each, and a short batch after a pause measures
 * the pool's workers waking (up to milliseconds here) more than the calls.
 */
export async function queuedMedianSeconds(fn: () => Promise<void>, repeats = 7, batchSeconds = 0.01): Promise<number> {
  const run = async (calls: number) => {
    const t0 = process.hrtime.bigint();
    await Promise.all(Array.from({ length: calls }, fn));
    return Number(process.hrtime.bigint() - t0) / 1e9 / calls;
  };
  const batch = Math.max(10, Math.min(1000, Math.round(batchSeconds / (await run(10)))));
  await run(batch);
  const times: number[] = [];
  for (let i = 0; i < repeats; i++) times.push(await run(batch));
  return median(times);
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

/**
 * Seconds a call of each of `fns`, measured in alternated rounds: in each round every contender runs
 * in turn, after a pause, one untimed call (its threads wake from the pause) and then as many calls
 * back to back as fill about `roundSeconds`; the median over the rounds of each one's time a call.
 * Alternating spreads the machine's drift over all of them alike.
 */
export async function alternatedMedianSeconds(fns: Array<() => Promise<void>>, rounds = 9, roundSeconds = 0.05): Promise<number[]> {
  const calls: number[] = [];
  for (const fn of fns) {
    for (let i = 0; i < 2; i++) await fn();
    const once = await medianSeconds(fn, 3, 0);
    calls.push(Math.max(2, Math.round(roundSeconds / once)));
  }
  const times = fns.map((): number[] => []);
  for (let r = 0; r < rounds; r++) {
    for (let f = 0; f < fns.length; f++) {
      await sleep(50);
      await fns[f]();
      const t0 = process.hrtime.bigint();
      for (let i = 0; i < calls[f]; i++) await fns[f]();
      times[f].push(Number(process.hrtime.bigint() - t0) / 1e9 / calls[f]);
    }
  }
  return times.map(median);
}

export function gflops(flop: number, seconds: number): string {
  return `${(flop / seconds / 1e9).toFixed(1)} GFLOP/s`;
}
