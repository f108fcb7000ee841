// linear: out[N,M] = x[N,K] weight[M,K]^T + bias[M], composed of sgemm and broadcast_rows
// (kernels/linear.h), so it runs on every backend that has those two.
#include "../kernels/linear.h"
#include "checks.h"

namespace gmn::ops {

namespace {

const auto sgemm = GMN_KERNEL(sgemm);
const auto rows = GMN_KERNEL(broadcast_rows_forward);
const auto column_sums = GMN_KERNEL(broadcast_rows_backward);

LinearKernels kernels_on(Device dev) { return {sgemm.on(dev), rows.on(dev), column_sums.on(dev)}; }

Job linear_forward(const Tensor& x, const Tensor& weight, const OptTensor& bias, const Tensor& out) {
  const Device dev = check_common({{"x", &x}, {"weight", &weight}, {"bias", opt(bias)}}, {{"out", &out}});
  check_rank("x", x, 2, "[N, K]");
  check_rank("weight", weight, 2, "[M, K]");
  const int64_t N = x.shape[0], K = x.shape[1], M = weight.shape[0];
  check_shape("weight", weight, Shape{{M, K}}, "[M, K]");
  if (bias) check_shape("bias", *bias, Shape{{M}}, "[M]");
  check_shape("out", out, Shape{{N, M}}, "[N, M]");
  return [=] { gmn::linear_forward(kernels_on(dev), x.data(), weight.data(), ptr(bias), out.data(), N, K, M); };
}

Job linear_backward(const Tensor& x, const Tensor& weight, const Tensor& grad_out, const OptTensor& grad_x,
                    const OptTensor& grad_weight, const OptTensor& grad_bias, bool accumulate) {
  const Device dev = check_common({{"x", &x}, {"weight", &weight}, {"gradOut", &grad_out}},
                                  {{"gradX", opt(grad_x)}, {"gradWeight", opt(grad_weight)}, {"gradBias", opt(grad_bias)}});
  check_rank("x", x, 2, "[N, K]");
  check_rank("weight", weight, 2, "[M, K]");
  const int64_t N = x.shape[0], K = x.shape[1], M = weight.shape[0];
  check_shape("weight", weight, Shape{{M, K}}, "[M, K]");
  check_shape("gradOut", grad_out, Shape{{N, M}}, "[N, M]");
  check_grad("gradX", grad_x, x, "x");
  check_grad("gradWeight", grad_weight, weight, "weight");
  check_grad("gradBias", grad_bias, Shape{{M}}, "[M]");
  return [=] {
    gmn::linear_backward(kernels_on(dev), x.data(), weight.data(), grad_out.data(), ptr(grad_x), ptr(grad_weight),
                         ptr(grad_bias), N, K, M, accumulate);
  };
}

}  // namespace

GMN_REGISTER_OP(linear, {sgemm.info(), rows.info(), column_sums.info()},
                {positional("linearForward", linear_forward, {"x", "weight", "bias", "out"}),
                 positional("linearBackward", linear_backward,
                            {"x", "weight", "gradOut", "gradX", "gradWeight", "gradBias", "accumulate"})});

}  // namespace gmn::ops
