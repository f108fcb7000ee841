// add: out = a + b, and out = (accumulate ? out : 0) + alpha * x (gradients through residual connections).
#include <cfloat>
#include <cmath>

#include "checks.h"

namespace gmn::ops {

namespace {

const auto forward = GMN_CPU_KERNEL(add_forward);
const auto scaled = GMN_CPU_KERNEL(add_scaled);

Job add_forward(const Tensor& a, const Tensor& b, const Tensor& out) {
  const Device dev = check_common({{"a", &a}, {"b", &b}}, {{"out", &out}});
  check_shape("b", b, a.shape, "the shape of a");
  check_shape("out", out, a.shape, "the shape of a");
  return [=] { forward(dev, a.data(), b.data(), out.data(), a.numel()); };
}

Job add_scaled(const Tensor& x, double alpha, const Tensor& out, bool accumulate) {
  const Device dev = check_common({{"x", &x}}, {{"out", &out}});
  require(std::fabs(alpha) <= FLT_MAX, "alpha", "a number within the float32 range", alpha);
  check_shape("out", out, x.shape, "the shape of x");
  const float a = static_cast<float>(alpha);
  return [=] { scaled(dev, x.data(), a, out.data(), x.numel(), accumulate); };
}

}  // namespace

GMN_REGISTER_OP(add, {forward.info(), scaled.info()},
                {positional("addForward", add_forward, {"a", "b", "out"}),
                 positional("addScaled", add_scaled, {"x", "alpha", "out", "accumulate"})});

}  // namespace gmn::ops
