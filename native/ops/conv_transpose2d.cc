// conv_transpose2d: transposed convolution without bias or padding (PyTorch layout [Ci, Co, kh, kw]),
// composed of the conv2d kernels, so it runs wherever conv2d does.
#include <string>

#include "checks.h"

namespace gmn::ops {

namespace {

const auto conv2d_forward = GMN_CPU_KERNEL(conv2d_forward);
const auto conv2d_backward = GMN_CPU_KERNEL(conv2d_backward);

// The transposed conv from x [N, Ci, H, W] with weight [Ci, Co, kh, kw] to `out`, as the conv2d
// whose input gradient it is (input `out`, output x, weight read as [Ci, Co, kh, kw]).
Conv2dShape conv_transpose2d_shape(const Tensor& x, const Tensor& weight, const Tensor& out,
                                        const char* out_name, int64_t stride) {
  check_rank("x", x, 4, "[N, Ci, H, W]");
  check_rank("weight", weight, 4, "[Ci, Co, kh, kw]");
  const int64_t N = x.shape[0], Ci = x.shape[1], H = x.shape[2], W = x.shape[3];
  const int64_t Co = weight.shape[1], kh = weight.shape[2], kw = weight.shape[3];
  check_shape("weight", weight, Shape{{Ci, Co, kh, kw}}, "[Ci, Co, kh, kw]");
  check_at_least("stride", stride, 1);
  const int64_t Ho = (H - 1) * stride + kh, Wo = (W - 1) * stride + kw;
  check_shape(out_name, out, Shape{{N, Co, Ho, Wo}}, "[N, Co, (H - 1) * stride + kh, (W - 1) * stride + kw]");
  return {N, Co, Ho, Wo, Ci, kh, kw, H, W, stride, 0, 0};
}

Job conv_transpose2d_forward(const Tensor& x, const Tensor& weight, const Tensor& out, int64_t stride) {
  const Device dev = check_common({{"x", &x}, {"weight", &weight}}, {{"out", &out}});
  const Conv2dShape s = conv_transpose2d_shape(x, weight, out, "out", stride);
  // Its output is the input gradient of the conv2d s (input out, output x).
  return [=] { conv2d_backward(dev, nullptr, weight.data(), x.data(), out.data(), nullptr, s, false); };
}

Job conv_transpose2d_backward(const Tensor& x, const Tensor& weight, const Tensor& grad_out, const OptTensor& grad_x,
                              const OptTensor& grad_weight, int64_t stride, bool accumulate) {
  const Device dev = check_common({{"x", &x}, {"weight", &weight}, {"gradOut", &grad_out}},
                                  {{"gradX", opt(grad_x)},
                                   {"gradWeight", opt(grad_weight)}});
  const Conv2dShape s = conv_transpose2d_shape(x, weight, grad_out, "gradOut", stride);
  if (grad_x) check_shape("gradX", *grad_x, x.shape, "the shape of x");
  if (grad_weight) check_shape("gradWeight", *grad_weight, weight.shape, "the shape of weight");
  // The gradient of a conv2d's input gradient: its input is the conv2d of gradOut, its weight the
  // conv2d weight gradient with input gradOut and output gradient x.
  return [=] {
    if (grad_x) conv2d_forward(dev, grad_out.data(), weight.data(), grad_x->data(), s, accumulate);
    if (grad_weight) conv2d_backward(dev, grad_out.data(), nullptr, x.data(), nullptr, grad_weight->data(), s, accumulate);
  };
}

}  // namespace

GMN_REGISTER_OP(conv_transpose2d, {conv2d_forward.info(), conv2d_backward.info()},
                {positional("convTranspose2dForward", conv_transpose2d_forward, {"x", "weight", "out", "stride"}),
                 positional("convTranspose2dBackward", conv_transpose2d_backward,
                            {"x", "weight", "gradOut", "gradX", "gradWeight", "stride", "accumulate"})});

}  // namespace gmn::ops
