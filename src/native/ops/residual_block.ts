// The typed contract of the op residual_block: the conv encoder's and decoder's residual blocks,
// prelu(x + conv2d(x, weight), alpha) (+ the section's shortcut), as one op (the same results as
// conv2dForward, addForward, preluForward and addForward one after the other, in fewer passes over
// the images).
import type { NativeTensor } from '../tensor-types.js';

export interface ResidualBlockOps {
  /**
   * x [N,C,H,W], weight [C,C,kh,kw], alpha [C]: preActivation = x + conv2d(x, weight) with
   * TensorFlow's SAME padding at stride 1 (padTop = floor((kh-1)/2), padLeft = floor((kw-1)/2), the
   * rest below and to the right), out = (preActivation > 0 ? preActivation : alpha[c] * preActivation)
   * + addend, where addend (x's shape) is given. Both outputs have x's shape; the backward reads
   * preActivation (addend's gradient is gradOut itself).
   */
  residualBlockForward(
    x: NativeTensor,
    weight: NativeTensor,
    alpha: NativeTensor,
    addend: NativeTensor | null,
    out: NativeTensor,
    preActivation: NativeTensor,
  ): Promise<void>;
  /**
   * Gradients of residualBlockForward for gradOut [N,C,H,W], given the forward's preActivation:
   * gradX [N,C,H,W], gradWeight [C,C,kh,kw] and gradAlpha [C].
   */
  residualBlockBackward(
    x: NativeTensor,
    weight: NativeTensor,
    alpha: NativeTensor,
    preActivation: NativeTensor,
    gradOut: NativeTensor,
    gradX: NativeTensor | null,
    gradWeight: NativeTensor | null,
    gradAlpha: NativeTensor | null,
    accumulate: boolean,
  ): Promise<void>;
}
