// The typed contract of the op sum_squares: the squared norm of gradients.
// Float32 row-major tensors, all on one device.
import type { NativeTensor } from '../tensor-types.js';

export interface SumSquaresOps {
  /**
   * The sum of squares of every element of every tensor (a non-empty list, any shapes),
   * accumulated in double over fixed chunks in a fixed order (the same bits for any thread count).
   * Any NaN or Inf element makes the result non-finite: the check for non-finite gradients, and
   * the squared norm for gradient clipping.
   */
  sumSquares(tensors: NativeTensor[]): Promise<number>;
}
