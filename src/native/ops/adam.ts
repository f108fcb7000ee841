// The typed contract of the op adam: the fused Adam/AdamW optimizer update.
// Float32 row-major tensors, all on one device. adamUpdate takes one object of named arguments.
import type { NativeTensor } from '../tensor-types.js';

/** The arguments of adamUpdate, by name. */
export interface AdamUpdateArgs {
  params: NativeTensor[];
  grads: NativeTensor[];
  m: NativeTensor[];
  v: NativeTensor[];
  /** finite, >= 0 (0: the moments advance, the parameters stay) */
  lr: number;
  /** in [0, 1) */
  beta1: number;
  /** in [0, 1) */
  beta2: number;
  /** finite, > 0 */
  eps: number;
  /** finite, >= 0 */
  weightDecay: number;
  decoupled: boolean;
  /** an integer in [1, 2^53) */
  step: number;
  /** finite, >= 0 */
  gradScale: number;
}

export interface AdamOps {
  /**
   * One Adam step over every parameter tensor at once (one fused pass). The lists are non-empty,
   * of equal length, shapes equal index by index; params, m and v are updated in place and share
   * memory with nothing else. Per element:
   * g = gradScale * grad (+ weightDecay * param when !decoupled: Adam with L2);
   * m = beta1 m + (1 - beta1) g;  v = beta2 v + (1 - beta2) g^2;
   * param -= lr_t * m / (sqrt(v) + eps), with TensorFlow's lr_t = lr sqrt(1 - beta2^step) / (1 - beta1^step)
   * computed in double; when decoupled (AdamW) also param -= lr * weightDecay * param (the
   * pre-update param).
   */
  adamUpdate(args: AdamUpdateArgs): Promise<void>;
}
