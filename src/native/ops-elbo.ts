// The typed contract of the fused ELBO, Gaussian reparameterisation, native normal noise, optimizer updates and gradient norms.
//
// Shared conventions: float32 row-major tensors, all on one device (CPU only so far: a CUDA
// tensor is rejected when the work runs). sigma(pre) = softplus(clip(pre, -10, 10)); the clip
// passes the gradient for -10 <= pre <= 10 and blocks it (0) outside, like TensorFlow's
// clip_by_value. Backward ops write their gradient outputs, or add to them when `accumulate` is
// true (without accumulate the old contents are never read); a null gradient output is skipped.
import type { NativeTensor } from './tensor-types.js';

export interface ElboOps {
  /**
   * Fills `out` (any shape) with standard normal noise: element i is the value with index
   * offset + i of the stream `seed`, a pure function of (seed, offset + i), so the result does not
   * depend on the thread count, and the generator's whole state is (seed, next offset). Philox4x32-10
   * of counter floor(c / 2) and key (seed, 0), two 53-bit uniforms, Box-Muller (cos for even c,
   * sin for odd c); the exact recipe is in native/cpu/random.cc. |values| <= 8.57.
   * @param seed an integer in [0, 2^32)
   * @param offset an integer in [0, 2^53)
   */
  randomNormal(out: NativeTensor, seed: number, offset: number): Promise<void>;

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

  /**
   * The per-row ELBO of the conditional VAE. logits, x [N, D]; z, muQ, preQ, muP, preP [N, Z];
   * rowWeight [N]; outputs terms [N, 3] and loss [1]. Per row n:
   * terms[n,0] = log p(x | logits) = sum_d x log sigmoid(f) + (1 - x) log sigmoid(-f) (stable for any f);
   * terms[n,1] = log N(z; muP, sigma(preP)); terms[n,2] = log N(z; muQ, sigma(preQ)), with
   * log N = sum_k -0.5 ((z - mu) / sigma)^2 - log sigma - 0.5 log(2 pi). Each row is computed in
   * double and rounded; loss[0] = -sum_n rowWeight[n] (terms[n,0] + terms[n,1] - terms[n,2]),
   * summed in double in row order (the same bits for any thread count).
   */
  elboForward(
    logits: NativeTensor,
    x: NativeTensor,
    z: NativeTensor,
    muQ: NativeTensor,
    preQ: NativeTensor,
    muP: NativeTensor,
    preP: NativeTensor,
    rowWeight: NativeTensor,
    terms: NativeTensor,
    loss: NativeTensor,
  ): Promise<void>;
  /**
   * Gradients of gradLoss[0] * loss (gradLoss is [1]) with respect to logits, z, muQ, preQ, muP and
   * preP, shapes as in elboForward. z is taken as an independent input: its dependence on
   * muQ/preQ through the sample goes through gaussianSampleBackward. x and rowWeight get no gradient.
   */
  elboBackward(
    logits: NativeTensor,
    x: NativeTensor,
    z: NativeTensor,
    muQ: NativeTensor,
    preQ: NativeTensor,
    muP: NativeTensor,
    preP: NativeTensor,
    rowWeight: NativeTensor,
    gradLoss: NativeTensor,
    gradLogits: NativeTensor | null,
    gradZ: NativeTensor | null,
    gradMuQ: NativeTensor | null,
    gradPreQ: NativeTensor | null,
    gradMuP: NativeTensor | null,
    gradPreP: NativeTensor | null,
    accumulate: boolean,
  ): Promise<void>;

  /**
   * The sum of squares of every element of every tensor (a non-empty list, any shapes),
   * accumulated in double over fixed chunks in a fixed order (the same bits for any thread count).
   * Any NaN or Inf element makes the result non-finite: the check for non-finite gradients, and
   * the squared norm for gradient clipping.
   */
  sumSquares(tensors: NativeTensor[]): Promise<number>;
  /**
   * One Adam step over every parameter tensor at once (one fused pass). The lists are non-empty,
   * of equal length, shapes equal index by index; params, m and v are updated in place and share
   * memory with nothing else. Per element:
   * g = gradScale * grad (+ weightDecay * param when !decoupled: Adam with L2);
   * m = beta1 m + (1 - beta1) g;  v = beta2 v + (1 - beta2) g^2;
   * param -= lr_t * m / (sqrt(v) + eps), with TensorFlow's lr_t = lr sqrt(1 - beta2^step) / (1 - beta1^step)
   * computed in double; when decoupled (AdamW) also param -= lr * weightDecay * param (the
   * pre-update param).
   * @param lr finite, >= 0 (0: the moments advance, the parameters stay)   @param beta1 in [0, 1)   @param beta2 in [0, 1)   @param eps finite, > 0
   * @param weightDecay finite, >= 0   @param step an integer in [1, 2^53)   @param gradScale finite, >= 0
   */
  adamUpdate(
    params: NativeTensor[],
    grads: NativeTensor[],
    m: NativeTensor[],
    v: NativeTensor[],
    lr: number,
    beta1: number,
    beta2: number,
    eps: number,
    weightDecay: number,
    decoupled: boolean,
    step: number,
    gradScale: number,
  ): Promise<void>;
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
