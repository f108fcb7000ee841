// The typed contract of the op concat: concat and its split, of the attention read.
// All tensors float32, row-major. The backward op writes its gradient outputs, or adds to them when
// `accumulate` is true; a null gradient output is skipped.
import type { NativeTensor } from '../tensor-types.js';

export interface ConcatOps {
  /** out[N, sum K_i] = the inputs [N, K_i] side by side along the last axis (at least 1 input, all with N rows). */
  concatForward(inputs: NativeTensor[], out: NativeTensor): Promise<void>;
  /**
   * Splits gradOut [N, W] into the gradients of concatForward's inputs: gradInputs[i] [N, K_i] gets
   * the columns that input i filled. A null entry is skipped; as its width is then unknown, either one
   * entry is null (its width is W minus the others') or every given entry comes before all the null
   * ones; with no null entry the widths must sum to W.
   */
  concatBackward(gradOut: NativeTensor, gradInputs: (NativeTensor | null)[], accumulate: boolean): Promise<void>;
}
