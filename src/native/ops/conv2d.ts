// The typed contract of the op conv2d, of the conv encoder.
// Float32, NCHW images, PyTorch weight layouts, no biases. The backward op writes its gradient
// outputs, or adds to them when `accumulate` is true (when not accumulating it never reads them); a
// null gradient output is skipped. Outputs may not share memory with any other argument.
import type { NativeTensor } from '../tensor-types.js';

export interface Conv2dOps {
  /**
   * Cross-correlation without bias: x [N,Ci,H,W], weight [Co,Ci,kh,kw], out [N,Co,Ho,Wo];
   * out[n,co,i,j] = sum over ci,a,b of weight[co,ci,a,b] * x[n,ci,i*stride-padTop+a, j*stride-padLeft+b],
   * reading zero outside x. Ho and Wo are out's; the padding below and to the right is whatever they
   * imply (TensorFlow SAME with a 3x3 kernel at stride 1 is padTop = padLeft = 1 and out the size of
   * x; with 2x2 it is padTop = padLeft = 0, one zero row and column after the end).
   * Requires integers stride >= 1, 0 <= padTop < kh, 0 <= padLeft < kw, and every window to overlap
   * x: (Ho-1)*stride - padTop < H and (Wo-1)*stride - padLeft < W.
   */
  conv2dForward(x: NativeTensor, weight: NativeTensor, out: NativeTensor, stride: number, padTop: number, padLeft: number): Promise<void>;
  /**
   * Gradients of conv2dForward for gradOut [N,Co,Ho,Wo]: gradX [N,Ci,H,W] and gradWeight [Co,Ci,kh,kw].
   * Same geometry arguments and checks as the forward (Ho, Wo taken from gradOut).
   */
  conv2dBackward(
    x: NativeTensor,
    weight: NativeTensor,
    gradOut: NativeTensor,
    gradX: NativeTensor | null,
    gradWeight: NativeTensor | null,
    stride: number,
    padTop: number,
    padLeft: number,
    accumulate: boolean,
  ): Promise<void>;
}
