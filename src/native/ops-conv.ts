// The typed contract of the conv encoder and decoder: conv2d, transposed conv2d, average pooling, bilinear resize, elementwise add/accumulate.
// Float32, NCHW images, PyTorch weight layouts, no biases; CPU tensors only so far (a CUDA tensor
// makes the returned Promise reject). Backward ops write their gradient outputs, or add to them when
// `accumulate` is true (when not accumulating they never read them); a null gradient output is
// skipped. Outputs may not share memory with any other argument.
import type { NativeTensor } from './tensor-types.js';

export interface ConvOps {
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
  /**
   * VALID average pooling with a kernel x kernel window: x [N,C,H,W],
   * out [N,C,floor((H-kernel)/stride)+1,floor((W-kernel)/stride)+1];
   * out[n,c,i,j] = mean of x[n,c,i*stride+a,j*stride+b] over a,b < kernel. Integers 1 <= kernel <= min(H,W), stride >= 1.
   */
  avgPool2dForward(x: NativeTensor, out: NativeTensor, kernel: number, stride: number): Promise<void>;
  /** Gradient of avgPool2dForward: gradOut [N,C,Ho,Wo] -> gradX [N,C,H,W] (H, W from gradX; gradOut must be the pooled shape). */
  avgPool2dBackward(gradOut: NativeTensor, gradX: NativeTensor, kernel: number, stride: number, accumulate: boolean): Promise<void>;
  /**
   * TensorFlow 1.x bilinear resize (align_corners false, no half-pixel centres): x [N,C,H,W] ->
   * out [N,C,Ho,Wo], sizes from out (up or down). For output row i the source is sy = i*H/Ho,
   * y0 = floor(sy), y1 = min(y0+1, H-1), wy = sy - y0 (columns alike, sx = j*W/Wo);
   * out = (1-wy)((1-wx) x[y0,x0] + wx x[y0,x1]) + wy((1-wx) x[y1,x0] + wx x[y1,x1]).
   */
  resizeBilinearForward(x: NativeTensor, out: NativeTensor): Promise<void>;
  /** Gradient of resizeBilinearForward: gradOut [N,C,Ho,Wo] -> gradX [N,C,H,W] (sizes from both tensors); deterministic. */
  resizeBilinearBackward(gradOut: NativeTensor, gradX: NativeTensor, accumulate: boolean): Promise<void>;
  /** out = a + b, elementwise; all three the same shape. */
  addForward(a: NativeTensor, b: NativeTensor, out: NativeTensor): Promise<void>;
  /**
   * out = (accumulate ? out : 0) + alpha * x, elementwise; x and out the same shape (use reshape
   * views to match them); alpha finite and within the float32 range. Passes gradients through residual connections.
   */
  addScaled(x: NativeTensor, alpha: number, out: NativeTensor, accumulate: boolean): Promise<void>;
}
