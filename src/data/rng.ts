// A small seeded PRNG for episode sampling: xoshiro128** (Blackman & Vigna) on 32-bit integer ops,
// seeded through splitmix32. Its whole state is four uint32s, so a checkpoint can store it and a
// restored generator continues the exact sequence.

import { checkInteger, typeError, rangeError } from '../errors.js';

const TWO_32 = 2 ** 32;

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

export class Rng {
  private s = new Uint32Array(4);

  /** @param seed a uint32 seed; default 0. Equal seeds give equal sequences. */
  constructor(seed = 0) {
    let x = checkInteger('seed', seed, 0, TWO_32 - 1);
    // splitmix32 spreads any seed (0 included) over a well-mixed, non-zero state.
    for (let i = 0; i < 4; i++) {
      x = (x + 0x9e3779b9) | 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x21f0aaad);
      z = Math.imul(z ^ (z >>> 15), 0x735a2d97);
      this.s[i] = z ^ (z >>> 15);
    }
    if (this.s.every((v) => v === 0)) this.s[0] = 1; // unreachable in practice; all-zero is a fixed point
  }

  /** A uniform integer in [0, 2^32). */
  nextUint32(): number {
    const s = this.s;
    const result = Math.imul(rotl(Math.imul(s[1], 5), 7), 9) >>> 0;
    const t = s[1] << 9;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 11);
    return result;
  }

  /** A uniform number in [0, 1) with 32 random bits. */
  nextFloat(): number {
    return this.nextUint32() / TWO_32;
  }

  /** A uniform integer in [0, n), without modulo bias; n is an integer in [1, 2^32]. */
  nextInt(n: number): number {
    checkInteger('n', n, 1, TWO_32);
    // Reject the top TWO_32 % n values so that every residue is equally likely.
    const limit = TWO_32 - (TWO_32 % n);
    for (;;) {
      const x = this.nextUint32();
      if (x < limit) return x % n;
    }
  }

  /** The generator's state: four uint32s, safe to JSON-serialise. */
  state(): number[] {
    return Array.from(this.s);
  }

  /** Restores a state returned by `state()`; the generator then continues that exact sequence. */
  setState(state: unknown, name = 'state'): void {
    if (!Array.isArray(state)) throw typeError(name, 'an array of 4 uint32 integers', state);
    if (state.length !== 4) throw rangeError(name, 'an array of 4 uint32 integers', state);
    state.forEach((v, i) => checkInteger(`${name}[${i}]`, v, 0, TWO_32 - 1));
    if (state.every((v) => v === 0)) throw rangeError(name, 'a state that is not all zero', JSON.stringify(state));
    this.s.set(state as number[]);
  }
}
