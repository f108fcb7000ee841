// The typed contract of the op resize_bilinear, of the conv decoder.
// Float32, NCHW images. The backward op writes its gradient output, or adds to it when `accumulate`
// is true (when not accumulating it never reads it). Outputs may not share memory with any other argument.
import type { NativeTensor } from '../tensor-types.js';

export interface ResizeBilinearOps {
  /**
   * TensorFlow 1.x bilinear resize (align_corners false, no half-pixel centres): x [N,C,H,W] ->
   * out [N,C,Ho,Wo], sizes from out (up or down). For output row i the source is sy = i*H/Ho,
   * y0 = floor(sy), y1 = min(y0+1, H-1), wy = sy - y0 (columns alike, sx = j*W/Wo);
   * out = (1-wy)((1-wx) x[y0,x0] + wx x[y0,x1]) + wy((1-wx) x[y1,x0] + wx x[y1,x1]).
   */
  resizeBilinearForward(x: NativeTensor, out: NativeTensor): Promise<void>;
  /** Gradient of resizeBilinearForward: gradOut [N,C,Ho,Wo] -> gradX [N,C,H,W] (sizes from both tensors); deterministic. */
  resizeBilinearBackward(gradOut: NativeTensor, gradX: NativeTensor, accumulate: boolean): Promise<void>;
}
