// The typed contract of the op random_normal: native normal noise.
// Float32 row-major tensors.
import type { NativeTensor } from '../tensor-types.js';

export interface RandomNormalOps {
  /**
   * Fills `out` (any shape) with standard normal noise: element i is the value with index
   * offset + i of the stream `seed`, a pure function of (seed, offset + i), so the result does not
   * depend on the thread count, and the generator's whole state is (seed, next offset). Philox4x32-10
   * of counter floor(c / 2) and key (seed, 0), two 53-bit uniforms, Box-Muller (cos for even c,
   * sin for odd c); the exact recipe is in native/cpu/random_normal.cc. |values| <= 8.57.
   * @param seed an integer in [0, 2^32)
   * @param offset an integer in [0, 2^53)
   */
  randomNormal(out: NativeTensor, seed: number, offset: number): Promise<void>;
}
