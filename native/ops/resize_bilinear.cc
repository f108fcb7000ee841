// resize_bilinear: TensorFlow 1.x bilinear resize [N,C,H,W] -> [N,C,Ho,Wo] (sizes from out / gradOut).
#include "checks.h"

namespace gmn::ops {

namespace {

const auto forward = GMN_CPU_KERNEL(resize_bilinear_forward);
const auto backward = GMN_CPU_KERNEL(resize_bilinear_backward);

// Resize of x [N, C, H, W] (x or gradX) to out [N, C, Ho, Wo] (out or gradOut), checked.
Planes resize_shape(const char* x_name, const Tensor& x, const char* out_name, const Tensor& out) {
  check_rank(x_name, x, 4, "[N, C, H, W]");
  check_rank(out_name, out, 4, "[N, C, Ho, Wo]");
  const int64_t N = x.shape[0], C = x.shape[1];
  check_shape(out_name, out, Shape{{N, C, out.shape[2], out.shape[3]}}, "[N, C, Ho, Wo]");
  return {N * C, x.shape[2], x.shape[3], out.shape[2], out.shape[3]};
}

Job resize_bilinear_forward(const Tensor& x, const Tensor& out) {
  const Device dev = check_common({{"x", &x}}, {{"out", &out}});
  const Planes p = resize_shape("x", x, "out", out);
  return [=] { forward(dev, x.data(), out.data(), p.planes, p.H, p.W, p.Ho, p.Wo); };
}

Job resize_bilinear_backward(const Tensor& grad_out, const Tensor& grad_x, bool accumulate) {
  const Device dev = check_common({{"gradOut", &grad_out}}, {{"gradX", &grad_x}});
  const Planes p = resize_shape("gradX", grad_x, "gradOut", grad_out);
  return [=] {
    backward(dev, grad_out.data(), grad_x.data(), p.planes, p.H, p.W, p.Ho,
                          p.Wo, accumulate);
  };
}

}  // namespace

GMN_REGISTER_OP(resize_bilinear, {forward.info(), backward.info()},
                {positional("resizeBilinearForward", resize_bilinear_forward, {"x", "out"}),
                 positional("resizeBilinearBackward", resize_bilinear_backward, {"gradOut", "gradX", "accumulate"})});

}  // namespace gmn::ops
