// Learning-rate schedules: the paper's piecewise-constant one, cosine, and a linear warmup over either.
import { checkInteger, checkNumber, checkOneOf, rangeError, typeError } from '../errors.js';

export type Schedule =
  /** lr = values[i] for boundaries[i-1] <= step < boundaries[i]. */
  | { kind: 'piecewise'; boundaries: number[]; values: number[]; warmupSteps?: number }
  /** lr goes from `lr` to `minLr` along half a cosine over `totalSteps`, then stays at `minLr`. */
  | { kind: 'cosine'; lr: number; minLr?: number; totalSteps: number; warmupSteps?: number };

/** The paper's schedule: 1e-3, then 3e-4, then 1e-4, each for 30,250 steps. */
export const paperSchedule: Schedule = { kind: 'piecewise', boundaries: [30250, 60500], values: [1e-3, 3e-4, 1e-4] };

export function checkSchedule(s: unknown, name = 'schedule'): Schedule {
  if (typeof s !== 'object' || s === null) throw typeError(name, 'a schedule object', s);
  const o = s as Record<string, unknown>;
  const kind = checkOneOf(`${name}.kind`, o.kind, ['piecewise', 'cosine'] as const);
  if (o.warmupSteps !== undefined) checkInteger(`${name}.warmupSteps`, o.warmupSteps, 0);
  if (kind === 'piecewise') {
    const { boundaries, values } = o;
    if (!Array.isArray(boundaries)) throw typeError(`${name}.boundaries`, 'an array of steps', boundaries);
    if (!Array.isArray(values) || values.length !== boundaries.length + 1)
      throw rangeError(`${name}.values`, `${boundaries.length + 1} learning rates (one more than boundaries)`, values);
    boundaries.forEach((b, i) => checkInteger(`${name}.boundaries[${i}]`, b, i === 0 ? 1 : (boundaries[i - 1] as number) + 1));
    values.forEach((v, i) => checkNumber(`${name}.values[${i}]`, v, 0));
  } else {
    checkNumber(`${name}.lr`, o.lr, 0);
    if (o.minLr !== undefined) checkNumber(`${name}.minLr`, o.minLr, 0);
    checkInteger(`${name}.totalSteps`, o.totalSteps, 1);
  }
  return s as Schedule;
}

/** The learning rate at a 0-based step. */
export function learningRate(s: Schedule, step: number): number {
  let lr: number;
  if (s.kind === 'piecewise') {
    let i = 0;
    while (i < s.boundaries.length && step >= s.boundaries[i]) i++;
    lr = s.values[i];
  } else {
    const minLr = s.minLr ?? 0;
    const progress = Math.min(step / s.totalSteps, 1);
    lr = minLr + 0.5 * (s.lr - minLr) * (1 + Math.cos(Math.PI * progress));
  }
  const warmup = s.warmupSteps ?? 0;
  return step < warmup ? (lr * (step + 1)) / warmup : lr;
}
