// The conv encoder and decoder ops: conv2d, transposed conv2d, average pooling, bilinear resize,
// elementwise add/accumulate. CPU only so far. Images are NCHW; weights use PyTorch's layouts.
#pragma once
#include <cstdint>

#include "ops.h"

namespace gmn::ops {

// out[N,Co,Ho,Wo] = cross-correlation of x[N,Ci,H,W] with weight[Co,Ci,kh,kw] (no bias); Ho, Wo are
// out's, and the padding below and right is whatever they imply.
Job conv2d_forward(const Tensor& x, const Tensor& weight, const Tensor& out, int64_t stride, int64_t pad_top,
                   int64_t pad_left);
Job conv2d_backward(const Tensor& x, const Tensor& weight, const Tensor& grad_out, const OptTensor& grad_x,
                    const OptTensor& grad_weight, int64_t stride, int64_t pad_top, int64_t pad_left, bool accumulate);

// out[N,Co,(H-1)*stride+kh,(W-1)*stride+kw] from x[N,Ci,H,W] and weight[Ci,Co,kh,kw], no padding.
Job conv_transpose2d_forward(const Tensor& x, const Tensor& weight, const Tensor& out, int64_t stride);
Job conv_transpose2d_backward(const Tensor& x, const Tensor& weight, const Tensor& grad_out, const OptTensor& grad_x,
                              const OptTensor& grad_weight, int64_t stride, bool accumulate);

// Valid average pooling with a square kernel: out [N,C,(H-kernel)/stride+1,(W-kernel)/stride+1].
Job avg_pool2d_forward(const Tensor& x, const Tensor& out, int64_t kernel, int64_t stride);
Job avg_pool2d_backward(const Tensor& grad_out, const Tensor& grad_x, int64_t kernel, int64_t stride,
                        bool accumulate);

// TensorFlow 1.x bilinear resize [N,C,H,W] -> [N,C,Ho,Wo] (sizes from out / gradOut).
Job resize_bilinear_forward(const Tensor& x, const Tensor& out);
Job resize_bilinear_backward(const Tensor& grad_out, const Tensor& grad_x, bool accumulate);

// out = a + b;  out = (accumulate ? out : 0) + alpha * x (alpha within the float32 range). Equal shapes.
Job add_forward(const Tensor& a, const Tensor& b, const Tensor& out);
Job add_scaled(const Tensor& x, double alpha, const Tensor& out, bool accumulate);

}  // namespace gmn::ops
