#include "ops.h"

#include <utility>
#include <vector>

#include "op_checks.h"

namespace gmn::ops {

namespace {

struct PreluView {
  int64_t outer, C, inner;
};

PreluView prelu_view(const Tensor& x, const Tensor& alpha) {
  if (alpha.shape.ndim() != 1)
    throw range_error("alpha", "a 1-D tensor of slopes", "shape " + alpha.shape.str());
  if (alpha.numel() == 1) return {1, 1, x.numel()};
  if (x.shape.ndim() < 2 || alpha.numel() != x.shape[1])
    throw range_error("alpha", "1 slope or one per channel (axis 1 of x, shape " + x.shape.str() + ")",
                      std::to_string(alpha.numel()) + " slopes");
  int64_t inner = 1;
  for (int i = 2; i < x.shape.ndim(); ++i) inner *= x.shape[i];
  return {x.shape[0], x.shape[1], inner};
}

}  // namespace

Job linear_forward(const Tensor& x, const Tensor& weight, const OptTensor& bias, const Tensor& out) {
  const Device dev = check_common({{"x", &x}, {"weight", &weight}, {"bias", bias ? &*bias : nullptr}}, {{"out", &out}});
  check_rank("x", x, 2, "[N, K]");
  check_rank("weight", weight, 2, "[M, K]");
  const int64_t N = x.shape[0], K = x.shape[1], M = weight.shape[0];
  check_shape("weight", weight, Shape{{M, K}}, "[M, K]");
  if (bias) check_shape("bias", *bias, Shape{{M}}, "[M]");
  check_shape("out", out, Shape{{N, M}}, "[N, M]");
  return [=] { GMN_DISPATCH(dev, linear_forward, x.data(), weight.data(), ptr(bias), out.data(), N, K, M); };
}

Job linear_backward(const Tensor& x, const Tensor& weight, const Tensor& grad_out, const OptTensor& grad_x,
                    const OptTensor& grad_weight, const OptTensor& grad_bias, bool accumulate) {
  const Device dev = check_common({{"x", &x}, {"weight", &weight}, {"gradOut", &grad_out}},
                                  {{"gradX", grad_x ? &*grad_x : nullptr},
                                   {"gradWeight", grad_weight ? &*grad_weight : nullptr},
                                   {"gradBias", grad_bias ? &*grad_bias : nullptr}});
  check_rank("x", x, 2, "[N, K]");
  check_rank("weight", weight, 2, "[M, K]");
  const int64_t N = x.shape[0], K = x.shape[1], M = weight.shape[0];
  check_shape("weight", weight, Shape{{M, K}}, "[M, K]");
  check_shape("gradOut", grad_out, Shape{{N, M}}, "[N, M]");
  if (grad_x) check_shape("gradX", *grad_x, x.shape, "[N, K]");
  if (grad_weight) check_shape("gradWeight", *grad_weight, weight.shape, "[M, K]");
  if (grad_bias) check_shape("gradBias", *grad_bias, Shape{{M}}, "[M]");
  return [=] {
    GMN_DISPATCH(dev, linear_backward, x.data(), weight.data(), grad_out.data(), ptr(grad_x), ptr(grad_weight),
                 ptr(grad_bias), N, K, M, accumulate);
  };
}

Job prelu_forward(const Tensor& x, const Tensor& alpha, const Tensor& out) {
  const Device dev = check_common({{"x", &x}, {"alpha", &alpha}}, {{"out", &out}});
  const PreluView v = prelu_view(x, alpha);
  check_shape("out", out, x.shape, "the shape of x");
  return [=] { GMN_DISPATCH(dev, prelu_forward, x.data(), alpha.data(), out.data(), v.outer, v.C, v.inner); };
}

Job prelu_backward(const Tensor& x, const Tensor& alpha, const Tensor& grad_out, const OptTensor& grad_x,
                   const OptTensor& grad_alpha, bool accumulate) {
  const Device dev = check_common({{"x", &x}, {"alpha", &alpha}, {"gradOut", &grad_out}},
                                  {{"gradX", grad_x ? &*grad_x : nullptr}, {"gradAlpha", grad_alpha ? &*grad_alpha : nullptr}});
  const PreluView v = prelu_view(x, alpha);
  check_shape("gradOut", grad_out, x.shape, "the shape of x");
  if (grad_x) check_shape("gradX", *grad_x, x.shape, "the shape of x");
  if (grad_alpha) check_shape("gradAlpha", *grad_alpha, alpha.shape, "the shape of alpha");
  return [=] {
    GMN_DISPATCH(dev, prelu_backward, x.data(), alpha.data(), grad_out.data(), ptr(grad_x), ptr(grad_alpha), v.outer,
                 v.C, v.inner, accumulate);
  };
}

}  // namespace gmn::ops
