// The typed contract of the op avg_pool2d, of the conv encoder.
// Float32, NCHW images. The backward op writes its gradient output, or adds to it when `accumulate`
// is true (when not accumulating it never reads it). Outputs may not share memory with any other argument.
import type { NativeTensor } from '../tensor-types.js';

export interface AvgPool2dOps {
  /**
   * VALID average pooling with a kernel x kernel window: x [N,C,H,W],
   * out [N,C,floor((H-kernel)/stride)+1,floor((W-kernel)/stride)+1];
   * out[n,c,i,j] = mean of x[n,c,i*stride+a,j*stride+b] over a,b < kernel. Integers 1 <= kernel <= min(H,W), stride >= 1.
   */
  avgPool2dForward(x: NativeTensor, out: NativeTensor, kernel: number, stride: number): Promise<void>;
  /** Gradient of avgPool2dForward: gradOut [N,C,Ho,Wo] -> gradX [N,C,H,W] (H, W from gradX; gradOut must be the pooled shape). */
  avgPool2dBackward(gradOut: NativeTensor, gradX: NativeTensor, kernel: number, stride: number, accumulate: boolean): Promise<void>;
}
