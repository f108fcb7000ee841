// gru: the GRU cell with a PReLU candidate; saved [N, 4H] keeps what the backward needs.
#include "checks.h"

namespace gmn::ops {

namespace {

const auto forward = GMN_CPU_KERNEL(gru_forward);
const auto backward = GMN_CPU_KERNEL(gru_backward);

struct GruDims {
  int64_t N, I, H;
};

// The shapes both directions read (the backward reads no biases).
GruDims gru_dims(const Tensor& x, const Tensor& h, const Tensor& w_gates, const Tensor& w_cand, const Tensor& slope) {
  check_rank("x", x, 2, "[N, I]");
  check_rank("h", h, 2, "[N, H]");
  const int64_t N = x.shape[0], I = x.shape[1], H = h.shape[1];
  check_shape("h", h, Shape{{N, H}}, "[N, H]");
  check_shape("wGates", w_gates, Shape{{2 * H, I + H}}, "[2H, I + H]");
  check_shape("wCand", w_cand, Shape{{H, I + H}}, "[H, I + H]");
  check_shape("slope", slope, Shape{{H}}, "[H]");
  return {N, I, H};
}

Job gru_forward(const Tensor& x, const Tensor& h, const Tensor& w_gates, const Tensor& b_gates, const Tensor& w_cand,
                const Tensor& b_cand, const Tensor& slope, const Tensor& out, const Tensor& saved) {
  const Device dev = check_common({{"x", &x},
                                   {"h", &h},
                                   {"wGates", &w_gates},
                                   {"bGates", &b_gates},
                                   {"wCand", &w_cand},
                                   {"bCand", &b_cand},
                                   {"slope", &slope}},
                                  {{"out", &out}, {"saved", &saved}});
  const GruDims g = gru_dims(x, h, w_gates, w_cand, slope);
  check_shape("bGates", b_gates, Shape{{2 * g.H}}, "[2H]");
  check_shape("bCand", b_cand, Shape{{g.H}}, "[H]");
  check_shape("out", out, Shape{{g.N, g.H}}, "[N, H]");
  check_shape("saved", saved, Shape{{g.N, 4 * g.H}}, "[N, 4H]");
  return [=] {
    forward(dev, x.data(), h.data(), w_gates.data(), b_gates.data(), w_cand.data(),
                          b_cand.data(), slope.data(), out.data(), saved.data(), g.N, g.I, g.H);
  };
}

Job gru_backward(const Tensor& x, const Tensor& h, const Tensor& w_gates, const Tensor& w_cand, const Tensor& slope, const Tensor& saved, const Tensor& grad_out,
                 const OptTensor& grad_x, const OptTensor& grad_h, const OptTensor& grad_w_gates,
                 const OptTensor& grad_b_gates, const OptTensor& grad_w_cand, const OptTensor& grad_b_cand,
                 const OptTensor& grad_slope, bool accumulate) {
  const Device dev = check_common({{"x", &x},
                                   {"h", &h},
                                   {"wGates", &w_gates},
                                   {"wCand", &w_cand},
                                   {"slope", &slope},
                                   {"saved", &saved},
                                   {"gradOut", &grad_out}},
                                  {{"gradX", opt(grad_x)},
                                   {"gradH", opt(grad_h)},
                                   {"gradWGates", opt(grad_w_gates)},
                                   {"gradBGates", opt(grad_b_gates)},
                                   {"gradWCand", opt(grad_w_cand)},
                                   {"gradBCand", opt(grad_b_cand)},
                                   {"gradSlope", opt(grad_slope)}});
  const GruDims g = gru_dims(x, h, w_gates, w_cand, slope);
  check_shape("saved", saved, Shape{{g.N, 4 * g.H}}, "[N, 4H]");
  check_shape("gradOut", grad_out, Shape{{g.N, g.H}}, "[N, H]");
  check_grad("gradX", grad_x, x, "x");
  check_grad("gradH", grad_h, h, "h");
  check_grad("gradWGates", grad_w_gates, w_gates, "wGates");
  check_grad("gradBGates", grad_b_gates, Shape{{2 * g.H}}, "[2H] (the shape of bGates)");
  check_grad("gradWCand", grad_w_cand, w_cand, "wCand");
  check_grad("gradBCand", grad_b_cand, Shape{{g.H}}, "[H] (the shape of bCand)");
  check_grad("gradSlope", grad_slope, slope, "slope");
  return [=] {
    backward(dev, x.data(), h.data(), w_gates.data(), w_cand.data(), slope.data(),
                          saved.data(), grad_out.data(), ptr(grad_x), ptr(grad_h), ptr(grad_w_gates),
                          ptr(grad_b_gates), ptr(grad_w_cand), ptr(grad_b_cand), ptr(grad_slope), g.N, g.I, g.H,
                          accumulate);
  };
}

}  // namespace

GMN_REGISTER_OP(gru, {forward.info(), backward.info()},
                {options("gruForward", gru_forward, {"x", "h", "wGates", "bGates", "wCand", "bCand", "slope", "out", "saved"}),
                 options("gruBackward", gru_backward,
                         {"x", "h", "wGates", "wCand", "slope", "saved", "gradOut", "gradX", "gradH",
                          "gradWGates", "gradBGates", "gradWCand", "gradBCand", "gradSlope", "accumulate"})});

}  // namespace gmn::ops
