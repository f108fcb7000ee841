// avg_pool2d: valid average pooling with a square kernel.
#include <algorithm>
#include <string>

#include "checks.h"

namespace gmn::ops {

namespace {

using std::to_string;

const auto forward = GMN_CPU_KERNEL(avg_pool2d_forward);
const auto backward = GMN_CPU_KERNEL(avg_pool2d_backward);

// Valid pooling of x [N, C, H, W] (x or gradX) into out (out or gradOut), checked.
Planes pool_shape(const char* x_name, const Tensor& x, const char* out_name, const Tensor& out, int64_t kernel,
                     int64_t stride) {
  check_rank(x_name, x, 4, "[N, C, H, W]");
  const int64_t N = x.shape[0], C = x.shape[1], H = x.shape[2], W = x.shape[3];
  check_at_least("stride", stride, 1);
  if (kernel < 1 || kernel > std::min(H, W))
    throw range_error("kernel", "an integer in [1, min(H, W)] = [1, " + to_string(std::min(H, W)) + "]",
                      to_string(kernel));
  const int64_t Ho = (H - kernel) / stride + 1, Wo = (W - kernel) / stride + 1;
  check_shape(out_name, out, Shape{{N, C, Ho, Wo}}, "[N, C, (H - kernel) / stride + 1, (W - kernel) / stride + 1]");
  return {N * C, H, W, Ho, Wo};
}

Job avg_pool2d_forward(const Tensor& x, const Tensor& out, int64_t kernel, int64_t stride) {
  const Device dev = check_common({{"x", &x}}, {{"out", &out}});
  const Planes p = pool_shape("x", x, "out", out, kernel, stride);
  return [=] {
    forward(dev, x.data(), out.data(), p.planes, p.H, p.W, p.Ho, p.Wo, kernel,
                          stride);
  };
}

Job avg_pool2d_backward(const Tensor& grad_out, const Tensor& grad_x, int64_t kernel, int64_t stride,
                        bool accumulate) {
  const Device dev = check_common({{"gradOut", &grad_out}}, {{"gradX", &grad_x}});
  const Planes p = pool_shape("gradX", grad_x, "gradOut", grad_out, kernel, stride);
  return [=] {
    backward(dev, grad_out.data(), grad_x.data(), p.planes, p.H, p.W, p.Ho, p.Wo,
                          kernel, stride, accumulate);
  };
}

}  // namespace

GMN_REGISTER_OP(avg_pool2d, {forward.info(), backward.info()},
                {positional("avgPool2dForward", avg_pool2d_forward, {"x", "out", "kernel", "stride"}),
                 positional("avgPool2dBackward", avg_pool2d_backward, {"gradOut", "gradX", "kernel", "stride", "accumulate"})});

}  // namespace gmn::ops
