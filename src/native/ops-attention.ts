// The typed contract of the attention read: concat/split, row broadcast, the causal matching read, the GRU cell.
// All tensors float32, row-major, on the CPU (these ops have no CUDA kernel yet). Backward ops write
// their gradient outputs, or add to them when `accumulate` is true; a null gradient output is skipped.
import type { NativeTensor } from './tensor-types.js';

/** How a position's query is compared with the keys of the memory. */
export type AttentionSimilarity = 'dot' | 'cosine' | 'average';

export interface AttentionOps {
  /** out[N, sum K_i] = the inputs [N, K_i] side by side along the last axis (at least 1 input, all with N rows). */
  concatForward(inputs: NativeTensor[], out: NativeTensor): Promise<void>;
  /**
   * Splits gradOut [N, W] into the gradients of concatForward's inputs: gradInputs[i] [N, K_i] gets
   * the columns that input i filled. A null entry is skipped; as its width is then unknown, either one
   * entry is null (its width is W minus the others') or every given entry comes before all the null
   * ones; with no null entry the widths must sum to W.
   */
  concatBackward(gradOut: NativeTensor, gradInputs: (NativeTensor | null)[], accumulate: boolean): Promise<void>;

  /** out[N, H]: every row = vector [H]. */
  broadcastRowsForward(vector: NativeTensor, out: NativeTensor): Promise<void>;
  /** gradVector [H] = column sums of gradOut [N, H] (summed in row order: deterministic). */
  broadcastRowsBackward(gradOut: NativeTensor, gradVector: NativeTensor | null, accumulate: boolean): Promise<void>;

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
  attentionForward(
    query: NativeTensor | null,
    keys: NativeTensor | null,
    pseudoKeys: NativeTensor | null,
    values: NativeTensor,
    pseudoValues: NativeTensor | null,
    strength: NativeTensor | null,
    out: NativeTensor,
    weights: NativeTensor,
    episodes: number,
    similarity: AttentionSimilarity,
    pseudoPositions: number,
  ): Promise<void>;
  /**
   * Gradients of attentionForward's out with respect to its inputs, given the same inputs and the
   * forward's `weights`. gradStrength is 0 where strength lies outside [1e-10, 10] (clipped). The
   * gradients of pseudoKeys and pseudoValues sum over all rows (per episode, then over episodes in
   * order: deterministic). For 'average' only gradValues and gradPseudoValues exist (the other
   * gradients must be null).
   */
  attentionBackward(
    query: NativeTensor | null,
    keys: NativeTensor | null,
    pseudoKeys: NativeTensor | null,
    values: NativeTensor,
    pseudoValues: NativeTensor | null,
    strength: NativeTensor | null,
    weights: NativeTensor,
    gradOut: NativeTensor,
    gradQuery: NativeTensor | null,
    gradKeys: NativeTensor | null,
    gradPseudoKeys: NativeTensor | null,
    gradValues: NativeTensor | null,
    gradPseudoValues: NativeTensor | null,
    gradStrength: NativeTensor | null,
    episodes: number,
    similarity: AttentionSimilarity,
    pseudoPositions: number,
    accumulate: boolean,
  ): Promise<void>;

  /**
   * The authors' GRU cell with a PReLU candidate: x [N, I], h [N, H];
   * [r, u] = sigmoid([x, h] wGates^T + bGates) (wGates [2H, I + H], bGates [2H]; r the first H
   * columns); a = [x, r*h] wCand^T + bCand (wCand [H, I + H], bCand [H]); c = a > 0 ? a : slope * a
   * (slope [H], one per unit); out [N, H] = u*h + (1-u)*c. saved [N, 4H] receives, as consecutive
   * blocks of its memory, the gates [N, 2H] (r | u per row), a [N, H] and c [N, H] for gruBackward.
   */
  gruForward(
    x: NativeTensor,
    h: NativeTensor,
    wGates: NativeTensor,
    bGates: NativeTensor,
    wCand: NativeTensor,
    bCand: NativeTensor,
    slope: NativeTensor,
    out: NativeTensor,
    saved: NativeTensor,
  ): Promise<void>;
  /** Gradients of gruForward's out with respect to all its inputs, given the same inputs and the forward's `saved`. */
  gruBackward(
    x: NativeTensor,
    h: NativeTensor,
    wGates: NativeTensor,
    bGates: NativeTensor,
    wCand: NativeTensor,
    bCand: NativeTensor,
    slope: NativeTensor,
    saved: NativeTensor,
    gradOut: NativeTensor,
    gradX: NativeTensor | null,
    gradH: NativeTensor | null,
    gradWGates: NativeTensor | null,
    gradBGates: NativeTensor | null,
    gradWCand: NativeTensor | null,
    gradBCand: NativeTensor | null,
    gradSlope: NativeTensor | null,
    accumulate: boolean,
  ): Promise<void>;
}
