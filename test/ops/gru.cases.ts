// gru (the GRU cell of the attention read): harness cases, bad arguments (each call throws a
// TypeError or RangeError naming the argument, synchronously) of its one-object calling
// convention, and the valid calls working after them. Tolerances: the project's defaults
// (op-harness.ts), eps = 1e-2 with 2e-3 abs + 2e-3 rel. The cases keep PReLU's input a away from 0
// by more than any step can move it: the bound is checked for these exact inputs in
// test/attention-reference.test.ts.
import test from 'ava';

import type { Rng } from '../../src/data/rng.js';
import type { GruBackwardArgs, GruForwardArgs } from '../../src/native/ops/gru.js';
import { b, disposed, namedArguments, T, type Case } from '../helpers/args.js';
import { backendTolerance, fdTolerance, uniformIn, type OpCase } from '../helpers/op-harness.js';

const op = 'gru';

// +-[lo, hi): both signs, never near 0.
const awayFromZero = (lo: number, hi: number) => (rng: Rng) => (rng.nextFloat() < 0.5 ? -1 : 1) * uniformIn(lo, hi)(rng);

export interface GruInit {
  wGates?: (rng: Rng) => number;
  wCand?: (rng: Rng) => number;
  bCand?: (rng: Rng) => number;
}

export function gru(name: string, N: number, I: number, H: number, init: GruInit = {}, fdSamples?: number): OpCase {
  return {
    name,
    op,
    inputs: [
      { name: 'x', shape: [N, I] },
      { name: 'h', shape: [N, H] },
      { name: 'wGates', shape: [2 * H, I + H], init: init.wGates },
      { name: 'bGates', shape: [2 * H] },
      { name: 'wCand', shape: [H, I + H], init: init.wCand },
      { name: 'bCand', shape: [H], init: init.bCand },
      { name: 'slope', shape: [H] },
    ],
    outputs: [
      { name: 'out', shape: [N, H] },
      { name: 'saved', shape: [N, 4 * H], noGrad: true },
    ],
    gradInputs: ['x', 'h', 'wGates', 'bGates', 'wCand', 'bCand', 'slope'],
    forward: (b, i, o) =>
      b.gruForward({ x: i.x, h: i.h, wGates: i.wGates, bGates: i.bGates, wCand: i.wCand, bCand: i.bCand, slope: i.slope, out: o.out, saved: o.saved }),
    backward: (b, i, go, g, acc, o) =>
      b.gruBackward({
        x: i.x,
        h: i.h,
        wGates: i.wGates,
        wCand: i.wCand,
        slope: i.slope,
        saved: o.saved,
        gradOut: go.out,
        gradX: g.x,
        gradH: g.h,
        gradWGates: g.wGates,
        gradBGates: g.bGates,
        gradWCand: g.wCand,
        gradBCand: g.bCand,
        gradSlope: g.slope,
        accumulate: acc,
      }),
    backendTolerance,
    fdTolerance,
    fdSamples,
  };
}

export const harness: OpCase[] = [
  gru('gru', 5, 6, 4, { bCand: awayFromZero(0.5, 1) }),
  // The model's widths (I = 488, H = 200): gate weights scaled so the sigmoids do not saturate; the
  // candidate's small weights and biases of +-[1, 1.5) keep every a clear of PReLU's kink.
  gru(
    'gru, model widths',
    40,
    488,
    200,
    { wGates: uniformIn(-0.1, 0.1), wCand: uniformIn(-0.02, 0.02), bCand: awayFromZero(1, 1.5) },
    12,
  ),
];

// Valid operands, so that each case breaks exactly one thing: N = 2, I = 3, H = 4.
const x = T([2, 3]);
const h = T([2, 4]);
const cell = { x, h, wGates: T([8, 7]), wCand: T([4, 7]), slope: T([4]) };
const gout = T([2, 4]);
const saved = T([2, 16]);
const fwd: GruForwardArgs = { ...cell, bGates: T([8]), bCand: T([4]), out: gout, saved };
const [gradX, gradH, gradWGates, gradBGates, gradWCand, gradBCand, gradSlope] = [T([2, 3]), T([2, 4]), T([8, 7]), T([8]), T([4, 7]), T([4]), T([4])];
const bwd: GruBackwardArgs = { ...cell, saved, gradOut: gout, gradX, gradH, gradWGates, gradBGates, gradWCand, gradBCand, gradSlope, accumulate: false };

const forward = namedArguments('gruForward', b.gruForward, fwd, 'wgates', 'saved');
const backward = namedArguments('gruBackward', b.gruBackward, bwd, 'gradWgates', 'gradOut');
const gf = forward.call;
const gb = backward.call;

export const badArguments: Case[] = [
  // gruForward
  ...forward.convention,
  ['gruForward with a 1-D x', gf({ x: T([6]) }), RangeError, 'x'],
  ['gruForward with a Float32Array x', gf({ x: new Float32Array(6) }), TypeError, 'x'],
  ['gruForward with h of other rows', gf({ h: T([3, 4]) }), RangeError, 'h'],
  ['gruForward with a wrong wGates', gf({ wGates: T([8, 6]) }), RangeError, 'wGates'],
  ['gruForward with a wrong bGates', gf({ bGates: T([4]) }), RangeError, 'bGates'],
  ['gruForward with a wrong wCand', gf({ wCand: T([8, 7]) }), RangeError, 'wCand'],
  ['gruForward with a wrong bCand', gf({ bCand: T([8]) }), RangeError, 'bCand'],
  ['gruForward with a wrong slope', gf({ slope: T([1]) }), RangeError, 'slope'],
  ['gruForward with a disposed slope', gf({ slope: disposed() }), TypeError, 'slope'],
  ['gruForward with a wrong out', gf({ out: T([2, 3]) }), RangeError, 'out'],
  ['gruForward with a wrong saved', gf({ saved: T([2, 8]) }), RangeError, 'saved'],
  ['gruForward writing out into h', gf({ out: h }), TypeError, 'out'],
  ['gruForward with saved sharing out', gf({ saved: gout }), TypeError, 'saved'],
  ['gruForward with a null wGates', gf({ wGates: null }), TypeError, 'wGates'],
  // gruBackward
  ...backward.convention,
  ['gruBackward with a wrong saved', gb({ saved: T([2, 4]) }), RangeError, 'saved'],
  ['gruBackward with a wrong gradOut', gb({ gradOut: T([2, 3]) }), RangeError, 'gradOut'],
  ['gruBackward with a wrong gradX', gb({ gradX: T([2, 4]) }), RangeError, 'gradX'],
  ['gruBackward with a wrong gradH', gb({ gradH: T([2, 3]) }), RangeError, 'gradH'],
  ['gruBackward with a wrong gradWGates', gb({ gradWGates: T([4, 7]) }), RangeError, 'gradWGates'],
  ['gruBackward with a wrong gradBGates', gb({ gradBGates: T([4]) }), RangeError, 'gradBGates'],
  ['gruBackward with a wrong gradWCand', gb({ gradWCand: T([8, 7]) }), RangeError, 'gradWCand'],
  ['gruBackward with a wrong gradBCand', gb({ gradBCand: T([8]) }), RangeError, 'gradBCand'],
  ['gruBackward with a wrong gradSlope', gb({ gradSlope: T([4, 1]) }), RangeError, 'gradSlope'],
  ['gruBackward with gradH aliasing h', gb({ gradH: h }), TypeError, 'gradH'],
  ['gruBackward with a number for gradX', gb({ gradX: 0 }), TypeError, 'gradX'],
  ['gruBackward with an undefined accumulate', gb({ accumulate: undefined }), TypeError, 'accumulate'],
  ['gruBackward with a disposed saved', gb({ saved: disposed() }), TypeError, 'saved'],
  // The backward reads no biases: passing them is an unknown option, not silently ignored.
  ['gruBackward with bGates', gb({ bGates: T([8]) }), TypeError, 'bGates'],
];

export function extraTests(): void {
  test('gru: the valid calls of these cases work, and the addon still works after every bad call', async (t) => {
    await b.gruForward(fwd);
    await b.gruBackward(bwd);
    t.true((await gout.read()).every(Number.isFinite));
  });
}
