// The typed contract of the op sgd: the fused SGD-with-momentum optimizer update.
// Float32 row-major tensors, all on one device.
import type { NativeTensor } from '../tensor-types.js';

export interface SgdOps {
  /**
   * One SGD-with-momentum step over every parameter tensor at once (lists as in adamUpdate):
   * g = gradScale * grad + weightDecay * param; velocity = momentum * velocity + g; param -= lr * velocity.
   * @param lr finite, >= 0   @param momentum in [0, 1)   @param weightDecay finite, >= 0   @param gradScale finite, >= 0
   */
  sgdUpdate(
    params: NativeTensor[],
    grads: NativeTensor[],
    velocity: NativeTensor[],
    lr: number,
    momentum: number,
    weightDecay: number,
    gradScale: number,
  ): Promise<void>;
}
