// The typed contract of the op gaussian_sample: the Gaussian reparameterisation.
// Float32 row-major tensors, all on one device. sigma(pre) = softplus(clip(pre, -10, 10)); the clip
// passes the gradient for -10 <= pre <= 10 and blocks it (0) outside, like TensorFlow's
// clip_by_value. The backward op writes its gradient outputs, or adds to them when `accumulate` is
// true (without accumulate the old contents are never read); a null gradient output is skipped.
import type { NativeTensor } from '../tensor-types.js';

export interface GaussianSampleOps {
  /** The reparameterised sample, all [N, Z]: out = mu + sigma(preSigma) * eps. */
  gaussianSampleForward(mu: NativeTensor, preSigma: NativeTensor, eps: NativeTensor, out: NativeTensor): Promise<void>;
  /**
   * All [N, Z]: gradMu = gradOut; gradPreSigma = gradOut * eps * sigmoid(preSigma) where
   * -10 <= preSigma <= 10, else 0.
   */
  gaussianSampleBackward(
    preSigma: NativeTensor,
    eps: NativeTensor,
    gradOut: NativeTensor,
    gradMu: NativeTensor | null,
    gradPreSigma: NativeTensor | null,
    accumulate: boolean,
  ): Promise<void>;
}
