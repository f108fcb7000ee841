// The typed contract of the op elbo: the fused ELBO of the conditional VAE.
// Float32 row-major tensors, all on one device. sigma(pre) = softplus(clip(pre, -10, 10)); the clip
// passes the gradient for -10 <= pre <= 10 and blocks it (0) outside, like TensorFlow's
// clip_by_value. The backward op writes its gradient outputs, or adds to them when `accumulate` is
// true (without accumulate the old contents are never read); a null gradient output is skipped.
// Both exports take one object of named arguments; an optional key left out means null.
import type { NativeTensor } from '../tensor-types.js';

/** The inputs of elboForward and elboBackward, by name. */
export interface ElboInputs {
  logits: NativeTensor;
  x: NativeTensor;
  z: NativeTensor;
  muQ: NativeTensor;
  preQ: NativeTensor;
  muP: NativeTensor;
  preP: NativeTensor;
  rowWeight: NativeTensor;
}

/** The arguments of elboForward, by name. */
export interface ElboForwardArgs extends ElboInputs {
  terms: NativeTensor;
  loss: NativeTensor;
}

/** The arguments of elboBackward, by name. */
export interface ElboBackwardArgs extends ElboInputs {
  gradLoss: NativeTensor;
  gradLogits?: NativeTensor | null;
  gradZ?: NativeTensor | null;
  gradMuQ?: NativeTensor | null;
  gradPreQ?: NativeTensor | null;
  gradMuP?: NativeTensor | null;
  gradPreP?: NativeTensor | null;
  accumulate: boolean;
}

export interface ElboOps {
  /**
   * The per-row ELBO of the conditional VAE. logits, x [N, D]; z, muQ, preQ, muP, preP [N, Z];
   * rowWeight [N]; outputs terms [N, 3] and loss [1]. Per row n:
   * terms[n,0] = log p(x | logits) = sum_d x log sigmoid(f) + (1 - x) log sigmoid(-f) (stable for any f);
   * terms[n,1] = log N(z; muP, sigma(preP)); terms[n,2] = log N(z; muQ, sigma(preQ)), with
   * log N = sum_k -0.5 ((z - mu) / sigma)^2 - log sigma - 0.5 log(2 pi). Each row is computed in
   * double and rounded; loss[0] = -sum_n rowWeight[n] (terms[n,0] + terms[n,1] - terms[n,2]),
   * summed in double in row order (the same bits for any thread count).
   */
  elboForward(args: ElboForwardArgs): Promise<void>;
  /**
   * Gradients of gradLoss[0] * loss (gradLoss is [1]) with respect to logits, z, muQ, preQ, muP and
   * preP, shapes as in elboForward. z is taken as an independent input: its dependence on
   * muQ/preQ through the sample goes through gaussianSampleBackward. x and rowWeight get no gradient.
   */
  elboBackward(args: ElboBackwardArgs): Promise<void>;
}
