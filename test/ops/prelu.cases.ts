// prelu: harness cases (default tolerances, see op-harness.ts) and bad arguments.
import type { Rng } from '../../src/data/rng.js';
import { any, b, disposed, T, type Case } from '../helpers/args.js';
import { backendTolerance, fdTolerance, type OpCase } from '../helpers/op-harness.js';

const op = 'prelu';

// Values at least 0.05 away from PReLU's kink, so a step of eps = 1e-2 never crosses it.
const awayFromZero = (rng: Rng) => (rng.nextFloat() < 0.5 ? -1 : 1) * (0.05 + rng.nextFloat());

function prelu(name: string, shape: number[], slopes: number, fdSamples?: number): OpCase {
  return {
    name,
    op,
    inputs: [
      { name: 'x', shape, init: awayFromZero },
      { name: 'alpha', shape: [slopes], init: (rng) => 0.5 * rng.nextFloat() },
    ],
    outputs: [{ name: 'out', shape }],
    gradInputs: ['x', 'alpha'],
    forward: (b, i, o) => b.preluForward(i.x, i.alpha, o.out),
    backward: (b, i, go, g, acc) => b.preluBackward(i.x, i.alpha, go.out, g.x, g.alpha, acc),
    backendTolerance,
    fdTolerance,
    fdSamples,
  };
}

export const harness: OpCase[] = [
  prelu('prelu per channel, NCHW', [3, 4, 5, 2], 4),
  prelu('prelu per feature', [6, 8], 8),
  prelu('prelu shared slope', [2, 3, 4], 1),
  // Large enough that the CPU kernels split the work over several chunks.
  prelu('prelu per channel, many rows', [130, 16, 13, 13], 16, 12),
];

// Valid operands, so that each case breaks exactly one thing.
const px = T([2, 3, 4]);
const alpha = T([3]);
const pout = T([2, 3, 4]);

export const badArguments: Case[] = [
  ['preluForward with the wrong number of slopes', () => b.preluForward(px, T([4]), pout), RangeError, 'alpha'],
  ['preluForward with 2-D alpha', () => b.preluForward(px, T([3, 1]), pout), RangeError, 'alpha'],
  ['preluForward with a wrong out', () => b.preluForward(px, alpha, T([2, 3, 5])), RangeError, 'out'],
  ['preluForward with a disposed alpha', () => b.preluForward(px, disposed(), pout), TypeError, 'alpha'],
  ['preluForward with undefined out', () => b.preluForward(px, alpha, any(undefined)), TypeError, 'out'],
  ['preluBackward with a wrong gradAlpha', () => b.preluBackward(px, alpha, pout, null, T([2]), false), RangeError, 'gradAlpha'],
  ['preluBackward with a wrong gradX', () => b.preluBackward(px, alpha, pout, T([24]), null, false), RangeError, 'gradX'],
  ['preluBackward with NaN accumulate', () => b.preluBackward(px, alpha, pout, null, null, any(Number.NaN) as never), TypeError, 'accumulate'],
  ['preluBackward with 5 arguments', () => (b.preluBackward as Function)(px, alpha, pout, null, null), TypeError, 'preluBackward'],
];
