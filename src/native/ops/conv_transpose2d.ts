// The typed contract of the op conv_transpose2d, of the conv decoder.
// Float32, NCHW images, PyTorch weight layouts, no biases. The backward op writes its gradient
// outputs, or adds to them when `accumulate` is true (when not accumulating it never reads them); a
// null gradient output is skipped. Outputs may not share memory with any other argument.
import type { NativeTensor } from '../tensor-types.js';

export interface ConvTranspose2dOps {
  /**
   * Transposed convolution without bias or padding (PyTorch ConvTranspose2d layout): x [N,Ci,H,W],
   * weight [Ci,Co,kh,kw], out [N,Co,(H-1)*stride+kh,(W-1)*stride+kw];
   * out[n,co,i*stride+a,j*stride+b] accumulates x[n,ci,i,j] * weight[ci,co,a,b] over ci,i,j.
   * It is the input gradient of conv2dForward with this weight read as [Co'=Ci, Ci'=Co, kh, kw].
   */
  convTranspose2dForward(x: NativeTensor, weight: NativeTensor, out: NativeTensor, stride: number): Promise<void>;
  /** Gradients of convTranspose2dForward for gradOut (out's shape): gradX [N,Ci,H,W] and gradWeight [Ci,Co,kh,kw]. */
  convTranspose2dBackward(
    x: NativeTensor,
    weight: NativeTensor,
    gradOut: NativeTensor,
    gradX: NativeTensor | null,
    gradWeight: NativeTensor | null,
    stride: number,
    accumulate: boolean,
  ): Promise<void>;
}
