// broadcast_rows: out[N, H] with every row = vector[H]; the gradient is the column sums.
#include "checks.h"

namespace gmn::ops {

namespace {

const auto forward = GMN_KERNEL(broadcast_rows_forward);
const auto backward = GMN_KERNEL(broadcast_rows_backward);

Job broadcast_rows_forward(const Tensor& vector, const Tensor& out) {
  const Device dev = check_common({{"vector", &vector}}, {{"out", &out}});
  check_rank("vector", vector, 1, "[H]");
  check_rank("out", out, 2, "[N, H]");
  const int64_t N = out.shape[0], H = vector.shape[0];
  check_shape("out", out, Shape{{N, H}}, "[N, H]");
  return [=] { forward(dev, vector.data(), out.data(), N, H); };
}

Job broadcast_rows_backward(const Tensor& grad_out, const OptTensor& grad_vector, bool accumulate) {
  const Device dev = check_common({{"gradOut", &grad_out}}, {{"gradVector", opt(grad_vector)}});
  check_rank("gradOut", grad_out, 2, "[N, H]");
  const int64_t N = grad_out.shape[0], H = grad_out.shape[1];
  check_grad("gradVector", grad_vector, Shape{{H}}, "[H] (H = the width of gradOut)");
  return [=] {
    if (grad_vector) backward(dev, grad_out.data(), grad_vector->data(), N, H, accumulate);
  };
}

}  // namespace

GMN_REGISTER_OP(broadcast_rows, {forward.info(), backward.info()},
                {positional("broadcastRowsForward", broadcast_rows_forward, {"vector", "out"}),
                 positional("broadcastRowsBackward", broadcast_rows_backward, {"gradOut", "gradVector", "accumulate"})});

}  // namespace gmn::ops
