// The typed contract of the op gru: the GRU cell of the attention read.
// All tensors float32, row-major. The backward op writes its gradient outputs, or adds to them when
// `accumulate` is true; a null gradient output is skipped.
// Both exports take one object of named arguments; an optional key left out means null.
import type { NativeTensor } from '../tensor-types.js';

/** The cell's inputs that both gruForward and gruBackward read, by name. */
export interface GruCellInputs {
  x: NativeTensor;
  h: NativeTensor;
  wGates: NativeTensor;
  wCand: NativeTensor;
  slope: NativeTensor;
}

/** The arguments of gruForward, by name. */
export interface GruForwardArgs extends GruCellInputs {
  bGates: NativeTensor;
  bCand: NativeTensor;
  out: NativeTensor;
  saved: NativeTensor;
}

/** The arguments of gruBackward, by name (the biases are not read: `saved` holds what they gave). */
export interface GruBackwardArgs extends GruCellInputs {
  saved: NativeTensor;
  gradOut: NativeTensor;
  gradX?: NativeTensor | null;
  gradH?: NativeTensor | null;
  gradWGates?: NativeTensor | null;
  gradBGates?: NativeTensor | null;
  gradWCand?: NativeTensor | null;
  gradBCand?: NativeTensor | null;
  gradSlope?: NativeTensor | null;
  accumulate: boolean;
}

export interface GruOps {
  /**
   * The authors' GRU cell with a PReLU candidate: x [N, I], h [N, H];
   * [r, u] = sigmoid([x, h] wGates^T + bGates) (wGates [2H, I + H], bGates [2H]; r the first H
   * columns); a = [x, r*h] wCand^T + bCand (wCand [H, I + H], bCand [H]); c = a > 0 ? a : slope * a
   * (slope [H], one per unit); out [N, H] = u*h + (1-u)*c. saved [N, 4H] receives, as consecutive
   * blocks of its memory, the gates [N, 2H] (r | u per row), a [N, H] and c [N, H] for gruBackward.
   */
  gruForward(args: GruForwardArgs): Promise<void>;
  /** Gradients of gruForward's out with respect to all its inputs, given the same inputs and the forward's `saved`. */
  gruBackward(args: GruBackwardArgs): Promise<void>;
}
