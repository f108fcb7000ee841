// The typed contract of the op add: elementwise add/accumulate, of the conv encoder and decoder.
// Float32. Outputs may not share memory with any other argument.
import type { NativeTensor } from '../tensor-types.js';

export interface AddOps {
  /** out = a + b, elementwise; all three the same shape. */
  addForward(a: NativeTensor, b: NativeTensor, out: NativeTensor): Promise<void>;
  /**
   * out = (accumulate ? out : 0) + alpha * x, elementwise; x and out the same shape (use reshape
   * views to match them); alpha finite and within the float32 range. Passes gradients through residual connections.
   */
  addScaled(x: NativeTensor, alpha: number, out: NativeTensor, accumulate: boolean): Promise<void>;
}
