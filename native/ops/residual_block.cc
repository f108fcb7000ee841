// residual_block: out = prelu(x + conv2d(x, weight), alpha) (+ addend), the conv encoder's and
// decoder's residual blocks as one op, with the section's shortcut added where given: TensorFlow's
// SAME conv at stride 1 (padTop = (kh - 1) / 2, padLeft = (kw - 1) / 2, rounded down), one slope per
// channel. preActivation keeps x + conv2d(x, weight) for the backward (the addend's gradient is
// gradOut itself). The same sums as conv2d, add, prelu and add one after the other, in fewer passes.
#include "checks.h"

namespace gmn::ops {

namespace {

const auto forward = GMN_CPU_KERNEL(residual_block_forward);
const auto backward = GMN_CPU_KERNEL(residual_block_backward);

Conv2dShape block_shape(const Tensor& x, const Tensor& weight, const Tensor& alpha) {
  check_rank("x", x, 4, "[N, C, H, W]");
  check_rank("weight", weight, 4, "[C, C, kh, kw]");
  const int64_t N = x.shape[0], C = x.shape[1], H = x.shape[2], W = x.shape[3];
  const int64_t kh = weight.shape[2], kw = weight.shape[3];
  check_shape("weight", weight, Shape{{C, C, kh, kw}}, "[C, C, kh, kw] (C of x)");
  check_shape("alpha", alpha, Shape{{C}}, "[C] (one slope per channel of x)");
  return {N, C, H, W, C, kh, kw, H, W, 1, (kh - 1) / 2, (kw - 1) / 2};
}

Job residual_block_forward(const Tensor& x, const Tensor& weight, const Tensor& alpha, const OptTensor& addend,
                           const Tensor& out, const Tensor& pre_activation) {
  const Device dev = check_common({{"x", &x}, {"weight", &weight}, {"alpha", &alpha}, {"addend", opt(addend)}},
                                  {{"out", &out}, {"preActivation", &pre_activation}});
  const Conv2dShape s = block_shape(x, weight, alpha);
  if (addend) check_shape("addend", *addend, x.shape, "the shape of x");
  check_shape("out", out, x.shape, "the shape of x");
  check_shape("preActivation", pre_activation, x.shape, "the shape of x");
  return [=] { forward(dev, x.data(), weight.data(), alpha.data(), ptr(addend), pre_activation.data(), out.data(), s); };
}

Job residual_block_backward(const Tensor& x, const Tensor& weight, const Tensor& alpha, const Tensor& pre_activation,
                            const Tensor& grad_out, const OptTensor& grad_x, const OptTensor& grad_weight,
                            const OptTensor& grad_alpha, bool accumulate) {
  const Device dev = check_common(
      {{"x", &x}, {"weight", &weight}, {"alpha", &alpha}, {"preActivation", &pre_activation}, {"gradOut", &grad_out}},
      {{"gradX", opt(grad_x)}, {"gradWeight", opt(grad_weight)}, {"gradAlpha", opt(grad_alpha)}});
  const Conv2dShape s = block_shape(x, weight, alpha);
  check_shape("preActivation", pre_activation, x.shape, "the shape of x");
  check_shape("gradOut", grad_out, x.shape, "the shape of x");
  check_grad("gradX", grad_x, x, "x");
  check_grad("gradWeight", grad_weight, weight, "weight");
  check_grad("gradAlpha", grad_alpha, alpha, "alpha");
  return [=] {
    backward(dev, x.data(), weight.data(), alpha.data(), pre_activation.data(), grad_out.data(), ptr(grad_x),
             ptr(grad_weight), ptr(grad_alpha), s, accumulate);
  };
}

}  // namespace

GMN_REGISTER_OP(residual_block, {forward.info(), backward.info()},
                {positional("residualBlockForward", residual_block_forward,
                            {"x", "weight", "alpha", "addend", "out", "preActivation"}),
                 positional("residualBlockBackward", residual_block_backward,
                            {"x", "weight", "alpha", "preActivation", "gradOut", "gradX", "gradWeight", "gradAlpha",
                             "accumulate"})});

}  // namespace gmn::ops
