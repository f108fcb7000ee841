// prelu: out = x > 0 ? x : alpha[c] * x, one slope per channel (axis 1 of x) or one shared slope.
#include "checks.h"

namespace gmn::ops {

namespace {

const auto forward = GMN_KERNEL(prelu_forward);
const auto backward = GMN_KERNEL(prelu_backward);

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

Job prelu_forward(const Tensor& x, const Tensor& alpha, const Tensor& out) {
  const Device dev = check_common({{"x", &x}, {"alpha", &alpha}}, {{"out", &out}});
  const PreluView v = prelu_view(x, alpha);
  check_shape("out", out, x.shape, "the shape of x");
  return [=] { forward(dev, x.data(), alpha.data(), out.data(), v.outer, v.C, v.inner); };
}

Job prelu_backward(const Tensor& x, const Tensor& alpha, const Tensor& grad_out, const OptTensor& grad_x,
                   const OptTensor& grad_alpha, bool accumulate) {
  const Device dev = check_common({{"x", &x}, {"alpha", &alpha}, {"gradOut", &grad_out}},
                                  {{"gradX", opt(grad_x)}, {"gradAlpha", opt(grad_alpha)}});
  const PreluView v = prelu_view(x, alpha);
  check_shape("gradOut", grad_out, x.shape, "the shape of x");
  check_grad("gradX", grad_x, x, "x");
  check_grad("gradAlpha", grad_alpha, alpha, "alpha");
  return [=] {
    backward(dev, x.data(), alpha.data(), grad_out.data(), ptr(grad_x), ptr(grad_alpha), v.outer, v.C, v.inner,
             accumulate);
  };
}

}  // namespace

GMN_REGISTER_OP(prelu, {forward.info(), backward.info()},
                {positional("preluForward", prelu_forward, {"x", "alpha", "out"}),
                 positional("preluBackward", prelu_backward, {"x", "alpha", "gradOut", "gradX", "gradAlpha", "accumulate"})});

}  // namespace gmn::ops
