// The typed contract of the op attention: the causal matching read.
// All tensors float32, row-major. The backward op writes its gradient outputs, or adds to them when
// `accumulate` is true; a null gradient output is skipped.
// Both exports take one object of named arguments; an optional key left out means null.
import type { NativeTensor } from '../tensor-types.js';

/** How a position's query is compared with the keys of the memory. */
export type AttentionSimilarity = 'dot' | 'cosine' | 'average';

/** The inputs of the read, of attentionForward and attentionBackward, by name. */
export interface AttentionInputs {
  query?: NativeTensor | null;
  keys?: NativeTensor | null;
  pseudoKeys?: NativeTensor | null;
  values: NativeTensor;
  pseudoValues?: NativeTensor | null;
  strength?: NativeTensor | null;
}

/** The arguments of attentionForward, by name. */
export interface AttentionForwardArgs extends AttentionInputs {
  out: NativeTensor;
  weights: NativeTensor;
  episodes: number;
  similarity: AttentionSimilarity;
  pseudoPositions: number;
}

/** The arguments of attentionBackward, by name. */
export interface AttentionBackwardArgs extends AttentionInputs {
  weights: NativeTensor;
  gradOut: NativeTensor;
  gradQuery?: NativeTensor | null;
  gradKeys?: NativeTensor | null;
  gradPseudoKeys?: NativeTensor | null;
  gradValues?: NativeTensor | null;
  gradPseudoValues?: NativeTensor | null;
  gradStrength?: NativeTensor | null;
  episodes: number;
  similarity: AttentionSimilarity;
  pseudoPositions: number;
  accumulate: boolean;
}

export interface AttentionOps {
  /**
   * The causal matching read of `episodes` = B episodes of T = R / B positions each (row r = b*T + t).
   * Row r reads T + P slots: slot s < T is position s of its episode (valid iff s < t: a position sees
   * only earlier ones) and slot T + p is pseudo-input p (valid iff t < pseudoPositions, an integer
   * from 0 to T; T = always, 1 = only position 0).
   *
   * For 'dot', sim = <query[r], key>; for 'cosine', sim = <q, k> / (max(|q|, 1e-8) max(|k|, 1e-8)),
   * key = keys[b*T + s] or pseudoKeys[p]. weights[r] = softmax over the valid slots of
   * clip(strength[r], 1e-10, 10) * sim (max subtracted first); 'average' gives every valid slot
   * 1 / (number of valid slots) and reads no query, keys, pseudoKeys or strength (they may be null).
   * Invalid slots get exactly 0. out[r] = sum_s weights[r, s] values[b*T + s] + sum_p weights[r, T+p]
   * pseudoValues[p]; a row with no valid slot reads 0.
   *
   * Shapes: query, keys [R, D]; pseudoKeys [P, D] and pseudoValues [P, F], both null (P = 0) or both
   * given (pseudoKeys may be null for 'average'); values [R, F]; strength [R, 1]; out [R, F];
   * weights [R, T + P], saved for attentionBackward.
   */
  attentionForward(args: AttentionForwardArgs): Promise<void>;
  /**
   * Gradients of attentionForward's out with respect to its inputs, given the same inputs and the
   * forward's `weights`. gradStrength is 0 where strength lies outside [1e-10, 10] (clipped). The
   * gradients of pseudoKeys and pseudoValues sum over all rows (per episode, then over episodes in
   * order: deterministic). For 'average' only gradValues and gradPseudoValues exist (the other
   * gradients must be null).
   */
  attentionBackward(args: AttentionBackwardArgs): Promise<void>;
}
