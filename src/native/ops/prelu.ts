// The typed contract of the op prelu: the parametric ReLU, one slope per channel (or one shared).
import type { NativeTensor } from '../tensor-types.js';

export interface PreluOps {
  /** out = x > 0 ? x : alpha[c] * x, with c the index on axis 1 (or one shared slope). */
  preluForward(x: NativeTensor, alpha: NativeTensor, out: NativeTensor): Promise<void>;
  /** gradX = gradOut * (x > 0 ? 1 : alpha[c]); gradAlpha[c] = sum of gradOut * x where x <= 0. */
  preluBackward(
    x: NativeTensor,
    alpha: NativeTensor,
    gradOut: NativeTensor,
    gradX: NativeTensor | null,
    gradAlpha: NativeTensor | null,
    accumulate: boolean,
  ): Promise<void>;
}
