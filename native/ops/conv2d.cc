// conv2d: cross-correlation without bias, NCHW images, PyTorch weight layout [Co, Ci, kh, kw].
#include <string>

#include "checks.h"

namespace gmn::ops {

namespace {

using std::to_string;

const auto forward = GMN_CPU_KERNEL(conv2d_forward);
const auto backward = GMN_CPU_KERNEL(conv2d_backward);

void check_padding(const char* name, int64_t pad, int64_t k, const char* k_name) {
  if (pad < 0 || pad >= k)
    throw range_error(name, std::string("an integer in [0, ") + k_name + " - 1] = [0, " + to_string(k - 1) + "]",
                      to_string(pad));
}

// The conv2d from x [N, Ci, H, W] with weight [Co, Ci, kh, kw] to `out` (out or gradOut), checked:
// out's Ho and Wo are free as long as every window overlaps the input. (The first one always does,
// as the padding is below the kernel size; the last one must start inside.)
Conv2dShape conv2d_shape(const Tensor& x, const Tensor& weight, const Tensor& out, const char* out_name,
                              int64_t stride, int64_t pad_top, int64_t pad_left) {
  check_rank("x", x, 4, "[N, Ci, H, W]");
  check_rank("weight", weight, 4, "[Co, Ci, kh, kw]");
  const int64_t N = x.shape[0], Ci = x.shape[1], H = x.shape[2], W = x.shape[3];
  const int64_t Co = weight.shape[0], kh = weight.shape[2], kw = weight.shape[3];
  check_shape("weight", weight, Shape{{Co, Ci, kh, kw}}, "[Co, Ci, kh, kw]");
  check_at_least("stride", stride, 1);
  check_padding("padTop", pad_top, kh, "kh");
  check_padding("padLeft", pad_left, kw, "kw");
  const int64_t max_ho = (H - 1 + pad_top) / stride + 1, max_wo = (W - 1 + pad_left) / stride + 1;
  check_rank(out_name, out, 4, "[N, Co, Ho, Wo]");
  const int64_t Ho = out.shape[2], Wo = out.shape[3];
  if (out.shape[0] != N || out.shape[1] != Co || Ho > max_ho || Wo > max_wo)
    throw range_error(out_name,
                      "a tensor of shape [N, Co, Ho, Wo] with N = " + to_string(N) + ", Co = " + to_string(Co) +
                          ", Ho <= " + to_string(max_ho) + " and Wo <= " + to_string(max_wo) +
                          " (every window overlapping x)",
                      "shape " + out.shape.str());
  return {N, Ci, H, W, Co, kh, kw, Ho, Wo, stride, pad_top, pad_left};
}

Job conv2d_forward(const Tensor& x, const Tensor& weight, const Tensor& out, int64_t stride, int64_t pad_top,
                   int64_t pad_left) {
  const Device dev = check_common({{"x", &x}, {"weight", &weight}}, {{"out", &out}});
  const Conv2dShape s = conv2d_shape(x, weight, out, "out", stride, pad_top, pad_left);
  return [=] { forward(dev, x.data(), weight.data(), out.data(), s, false); };
}

Job conv2d_backward(const Tensor& x, const Tensor& weight, const Tensor& grad_out, const OptTensor& grad_x,
                    const OptTensor& grad_weight, int64_t stride, int64_t pad_top, int64_t pad_left, bool accumulate) {
  const Device dev = check_common({{"x", &x}, {"weight", &weight}, {"gradOut", &grad_out}},
                                  {{"gradX", opt(grad_x)},
                                   {"gradWeight", opt(grad_weight)}});
  const Conv2dShape s = conv2d_shape(x, weight, grad_out, "gradOut", stride, pad_top, pad_left);
  if (grad_x) check_shape("gradX", *grad_x, x.shape, "the shape of x");
  if (grad_weight) check_shape("gradWeight", *grad_weight, weight.shape, "the shape of weight");
  return [=] {
    backward(dev, x.data(), weight.data(), grad_out.data(), ptr(grad_x),
             ptr(grad_weight), s, accumulate);
  };
}

}  // namespace

GMN_REGISTER_OP(conv2d, {forward.info(), backward.info()},
                {positional("conv2dForward", conv2d_forward, {"x", "weight", "out", "stride", "padTop", "padLeft"}),
                 positional("conv2dBackward", conv2d_backward,
                            {"x", "weight", "gradOut", "gradX", "gradWeight", "stride", "padTop", "padLeft", "accumulate"})});

}  // namespace gmn::ops
