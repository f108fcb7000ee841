// elbo: the fused per-row ELBO of the conditional VAE and its loss.
#include <utility>

#include "checks.h"

namespace gmn::ops {

namespace {

const auto forward = GMN_CPU_KERNEL(elbo_forward);
const auto backward = GMN_CPU_KERNEL(elbo_backward);

struct ElboSizes {
  int64_t N, D, Z;
};

// The shapes elboForward and elboBackward share.
ElboSizes elbo_sizes(const Tensor& logits, const Tensor& x, const Tensor& z, const Tensor& mu_q, const Tensor& pre_q,
                     const Tensor& mu_p, const Tensor& pre_p, const Tensor& row_weight) {
  check_rank("logits", logits, 2, "[N, D]");
  check_shape("x", x, logits.shape, "[N, D] (the shape of logits)");
  check_rank("z", z, 2, "[N, Z]");
  const int64_t N = logits.shape[0], D = logits.shape[1], Z = z.shape[1];
  check_shape("z", z, Shape{{N, Z}}, "[N, Z]");
  check_shape("muQ", mu_q, z.shape, "[N, Z]");
  check_shape("preQ", pre_q, z.shape, "[N, Z]");
  check_shape("muP", mu_p, z.shape, "[N, Z]");
  check_shape("preP", pre_p, z.shape, "[N, Z]");
  check_shape("rowWeight", row_weight, Shape{{N}}, "[N]");
  return {N, D, Z};
}

Job elbo_forward(const Tensor& logits, const Tensor& x, const Tensor& z, const Tensor& mu_q, const Tensor& pre_q,
                 const Tensor& mu_p, const Tensor& pre_p, const Tensor& row_weight, const Tensor& terms,
                 const Tensor& loss) {
  const Device dev = check_common({{"logits", &logits}, {"x", &x}, {"z", &z}, {"muQ", &mu_q}, {"preQ", &pre_q},
                                   {"muP", &mu_p}, {"preP", &pre_p}, {"rowWeight", &row_weight}},
                                  {{"terms", &terms}, {"loss", &loss}});
  const ElboSizes s = elbo_sizes(logits, x, z, mu_q, pre_q, mu_p, pre_p, row_weight);
  check_shape("terms", terms, Shape{{s.N, 3}}, "[N, 3]");
  check_shape("loss", loss, Shape{{1}}, "[1]");
  return [=] {
    forward(dev, logits.data(), x.data(), z.data(), mu_q.data(), pre_q.data(), mu_p.data(),
                          pre_p.data(), row_weight.data(), terms.data(), loss.data(), s.N, s.D, s.Z);
  };
}

Job elbo_backward(const Tensor& logits, const Tensor& x, const Tensor& z, const Tensor& mu_q, const Tensor& pre_q,
                  const Tensor& mu_p, const Tensor& pre_p, const Tensor& row_weight, const Tensor& grad_loss,
                  const OptTensor& grad_logits, const OptTensor& grad_z, const OptTensor& grad_mu_q,
                  const OptTensor& grad_pre_q, const OptTensor& grad_mu_p, const OptTensor& grad_pre_p,
                  bool accumulate) {
  const Device dev = check_common({{"logits", &logits}, {"x", &x}, {"z", &z}, {"muQ", &mu_q}, {"preQ", &pre_q},
                                   {"muP", &mu_p}, {"preP", &pre_p}, {"rowWeight", &row_weight}, {"gradLoss", &grad_loss}},
                                  {{"gradLogits", opt(grad_logits)}, {"gradZ", opt(grad_z)}, {"gradMuQ", opt(grad_mu_q)},
                                   {"gradPreQ", opt(grad_pre_q)}, {"gradMuP", opt(grad_mu_p)}, {"gradPreP", opt(grad_pre_p)}});
  const ElboSizes s = elbo_sizes(logits, x, z, mu_q, pre_q, mu_p, pre_p, row_weight);
  check_shape("gradLoss", grad_loss, Shape{{1}}, "[1]");
  if (grad_logits) check_shape("gradLogits", *grad_logits, logits.shape, "[N, D] (the shape of logits)");
  const std::pair<const char*, const OptTensor*> latent[] = {
      {"gradZ", &grad_z}, {"gradMuQ", &grad_mu_q}, {"gradPreQ", &grad_pre_q}, {"gradMuP", &grad_mu_p}, {"gradPreP", &grad_pre_p}};
  for (const auto& [name, g] : latent)
    if (*g) check_shape(name, **g, z.shape, "[N, Z] (the shape of z)");
  return [=] {
    backward(dev, logits.data(), x.data(), z.data(), mu_q.data(), pre_q.data(), mu_p.data(),
                          pre_p.data(), row_weight.data(), grad_loss.data(), ptr(grad_logits), ptr(grad_z),
                          ptr(grad_mu_q), ptr(grad_pre_q), ptr(grad_mu_p), ptr(grad_pre_p), s.N, s.D, s.Z, accumulate);
  };
}

}  // namespace

GMN_REGISTER_OP(elbo, {forward.info(), backward.info()},
                {options("elboForward", elbo_forward,
                         {"logits", "x", "z", "muQ", "preQ", "muP", "preP", "rowWeight", "terms", "loss"}),
                 options("elboBackward", elbo_backward,
                         {"logits", "x", "z", "muQ", "preQ", "muP", "preP", "rowWeight", "gradLoss", "gradLogits", "gradZ",
                          "gradMuQ", "gradPreQ", "gradMuP", "gradPreP", "accumulate"})});

}  // namespace gmn::ops
