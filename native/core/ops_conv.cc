#include "ops_conv.h"

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstdio>
#include <string>

#include "op_checks.h"

namespace gmn::ops {

namespace {

using std::to_string;

void check_at_least(const char* name, int64_t value, int64_t lo) {
  if (value < lo) throw range_error(name, "an integer >= " + to_string(lo), to_string(value));
}

void check_padding(const char* name, int64_t pad, int64_t k, const char* k_name) {
  if (pad < 0 || pad >= k)
    throw range_error(name, std::string("an integer in [0, ") + k_name + " - 1] = [0, " + to_string(k - 1) + "]",
                      to_string(pad));
}

// The conv2d from x [N, Ci, H, W] with weight [Co, Ci, kh, kw] to `out` (out or gradOut), checked:
// out's Ho and Wo are free as long as every window overlaps the input. (The first one always does,
// as the padding is below the kernel size; the last one must start inside.)
cpu::Conv2dShape conv2d_shape(const Tensor& x, const Tensor& weight, const Tensor& out, const char* out_name,
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

// The transposed conv from x [N, Ci, H, W] with weight [Ci, Co, kh, kw] to `out`, as the conv2d
// whose input gradient it is (input `out`, output x, weight read as [Ci, Co, kh, kw]).
cpu::Conv2dShape conv_transpose2d_shape(const Tensor& x, const Tensor& weight, const Tensor& out,
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

struct PoolShape {
  int64_t planes, H, W, Ho, Wo;
};

// Valid pooling of x [N, C, H, W] (x or gradX) into out (out or gradOut), checked.
PoolShape pool_shape(const char* x_name, const Tensor& x, const char* out_name, const Tensor& out, int64_t kernel,
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

// Resize of x [N, C, H, W] (x or gradX) to out [N, C, Ho, Wo] (out or gradOut), checked.
PoolShape resize_shape(const char* x_name, const Tensor& x, const char* out_name, const Tensor& out) {
  check_rank(x_name, x, 4, "[N, C, H, W]");
  check_rank(out_name, out, 4, "[N, C, Ho, Wo]");
  const int64_t N = x.shape[0], C = x.shape[1];
  check_shape(out_name, out, Shape{{N, C, out.shape[2], out.shape[3]}}, "[N, C, Ho, Wo]");
  return {N * C, x.shape[2], x.shape[3], out.shape[2], out.shape[3]};
}

}  // namespace

Job conv2d_forward(const Tensor& x, const Tensor& weight, const Tensor& out, int64_t stride, int64_t pad_top,
                   int64_t pad_left) {
  const Device dev = check_common({{"x", &x}, {"weight", &weight}}, {{"out", &out}});
  const cpu::Conv2dShape s = conv2d_shape(x, weight, out, "out", stride, pad_top, pad_left);
  return [=] { GMN_DISPATCH_CPU_ONLY(dev, conv2d_forward, x.data(), weight.data(), out.data(), s); };
}

Job conv2d_backward(const Tensor& x, const Tensor& weight, const Tensor& grad_out, const OptTensor& grad_x,
                    const OptTensor& grad_weight, int64_t stride, int64_t pad_top, int64_t pad_left, bool accumulate) {
  const Device dev = check_common({{"x", &x}, {"weight", &weight}, {"gradOut", &grad_out}},
                                  {{"gradX", grad_x ? &*grad_x : nullptr},
                                   {"gradWeight", grad_weight ? &*grad_weight : nullptr}});
  const cpu::Conv2dShape s = conv2d_shape(x, weight, grad_out, "gradOut", stride, pad_top, pad_left);
  if (grad_x) check_shape("gradX", *grad_x, x.shape, "the shape of x");
  if (grad_weight) check_shape("gradWeight", *grad_weight, weight.shape, "the shape of weight");
  return [=] {
    GMN_DISPATCH_CPU_ONLY(dev, conv2d_backward, x.data(), weight.data(), grad_out.data(), ptr(grad_x),
                          ptr(grad_weight), s, accumulate);
  };
}

Job conv_transpose2d_forward(const Tensor& x, const Tensor& weight, const Tensor& out, int64_t stride) {
  const Device dev = check_common({{"x", &x}, {"weight", &weight}}, {{"out", &out}});
  const cpu::Conv2dShape s = conv_transpose2d_shape(x, weight, out, "out", stride);
  return [=] { GMN_DISPATCH_CPU_ONLY(dev, conv_transpose2d_forward, x.data(), weight.data(), out.data(), s); };
}

Job conv_transpose2d_backward(const Tensor& x, const Tensor& weight, const Tensor& grad_out, const OptTensor& grad_x,
                              const OptTensor& grad_weight, int64_t stride, bool accumulate) {
  const Device dev = check_common({{"x", &x}, {"weight", &weight}, {"gradOut", &grad_out}},
                                  {{"gradX", grad_x ? &*grad_x : nullptr},
                                   {"gradWeight", grad_weight ? &*grad_weight : nullptr}});
  const cpu::Conv2dShape s = conv_transpose2d_shape(x, weight, grad_out, "gradOut", stride);
  if (grad_x) check_shape("gradX", *grad_x, x.shape, "the shape of x");
  if (grad_weight) check_shape("gradWeight", *grad_weight, weight.shape, "the shape of weight");
  return [=] {
    GMN_DISPATCH_CPU_ONLY(dev, conv_transpose2d_backward, x.data(), weight.data(), grad_out.data(), ptr(grad_x),
                          ptr(grad_weight), s, accumulate);
  };
}

Job avg_pool2d_forward(const Tensor& x, const Tensor& out, int64_t kernel, int64_t stride) {
  const Device dev = check_common({{"x", &x}}, {{"out", &out}});
  const PoolShape p = pool_shape("x", x, "out", out, kernel, stride);
  return [=] {
    GMN_DISPATCH_CPU_ONLY(dev, avg_pool2d_forward, x.data(), out.data(), p.planes, p.H, p.W, p.Ho, p.Wo, kernel,
                          stride);
  };
}

Job avg_pool2d_backward(const Tensor& grad_out, const Tensor& grad_x, int64_t kernel, int64_t stride,
                        bool accumulate) {
  const Device dev = check_common({{"gradOut", &grad_out}}, {{"gradX", &grad_x}});
  const PoolShape p = pool_shape("gradX", grad_x, "gradOut", grad_out, kernel, stride);
  return [=] {
    GMN_DISPATCH_CPU_ONLY(dev, avg_pool2d_backward, grad_out.data(), grad_x.data(), p.planes, p.H, p.W, p.Ho, p.Wo,
                          kernel, stride, accumulate);
  };
}

Job resize_bilinear_forward(const Tensor& x, const Tensor& out) {
  const Device dev = check_common({{"x", &x}}, {{"out", &out}});
  const PoolShape p = resize_shape("x", x, "out", out);
  return [=] { GMN_DISPATCH_CPU_ONLY(dev, resize_bilinear_forward, x.data(), out.data(), p.planes, p.H, p.W, p.Ho, p.Wo); };
}

Job resize_bilinear_backward(const Tensor& grad_out, const Tensor& grad_x, bool accumulate) {
  const Device dev = check_common({{"gradOut", &grad_out}}, {{"gradX", &grad_x}});
  const PoolShape p = resize_shape("gradX", grad_x, "gradOut", grad_out);
  return [=] {
    GMN_DISPATCH_CPU_ONLY(dev, resize_bilinear_backward, grad_out.data(), grad_x.data(), p.planes, p.H, p.W, p.Ho,
                          p.Wo, accumulate);
  };
}

Job add_forward(const Tensor& a, const Tensor& b, const Tensor& out) {
  const Device dev = check_common({{"a", &a}, {"b", &b}}, {{"out", &out}});
  check_shape("b", b, a.shape, "the shape of a");
  check_shape("out", out, a.shape, "the shape of a");
  return [=] { GMN_DISPATCH_CPU_ONLY(dev, add_forward, a.data(), b.data(), out.data(), a.numel()); };
}

Job add_scaled(const Tensor& x, double alpha, const Tensor& out, bool accumulate) {
  const Device dev = check_common({{"x", &x}}, {{"out", &out}});
  if (!(std::fabs(alpha) <= FLT_MAX)) {
    char received[32];
    std::snprintf(received, sizeof received, "%.17g", alpha);
    throw range_error("alpha", "a number within the float32 range", received);
  }
  check_shape("out", out, x.shape, "the shape of x");
  const float a = static_cast<float>(alpha);
  return [=] { GMN_DISPATCH_CPU_ONLY(dev, add_scaled, x.data(), a, out.data(), x.numel(), accumulate); };
}

}  // namespace gmn::ops
