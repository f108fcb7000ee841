// The typed contract of the op broadcast_rows: one vector repeated as every row, of the attention read.
// All tensors float32, row-major. The backward op writes its gradient output, or adds to it when
// `accumulate` is true; a null gradient output is skipped.
import type { NativeTensor } from '../tensor-types.js';

export interface BroadcastRowsOps {
  /** out[N, H]: every row = vector [H]. */
  broadcastRowsForward(vector: NativeTensor, out: NativeTensor): Promise<void>;
  /** gradVector [H] = column sums of gradOut [N, H] (summed in row order: deterministic). */
  broadcastRowsBackward(gradOut: NativeTensor, gradVector: NativeTensor | null, accumulate: boolean): Promise<void>;
}
