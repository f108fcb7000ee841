// The typed contract of the op linear: a fully connected layer, out = x weight^T + bias.
import type { NativeTensor } from '../tensor-types.js';

export interface LinearOps {
  /** out[N,M] = x[N,K] weight[M,K]^T + bias[M] (bias may be null). */
  linearForward(x: NativeTensor, weight: NativeTensor, bias: NativeTensor | null, out: NativeTensor): Promise<void>;
  /** gradX = gradOut weight, gradWeight = gradOut^T x, gradBias = column sums of gradOut; null outputs are skipped; `accumulate` adds instead of overwriting. */
  linearBackward(
    x: NativeTensor,
    weight: NativeTensor,
    gradOut: NativeTensor,
    gradX: NativeTensor | null,
    gradWeight: NativeTensor | null,
    gradBias: NativeTensor | null,
    accumulate: boolean,
  ): Promise<void>;
}
