#include "ops_elbo.h"

#include <cmath>
#include <cstdio>
#include <string>
#include <utility>

#include "op_checks.h"

namespace gmn::ops {

namespace {

std::string number(double v) {
  if (std::isnan(v)) return "NaN";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

// Throws a RangeError for `name` unless ok (NaN fails every comparison, so it lands here too).
void require(bool ok, const char* name, const char* expected, double v) {
  if (!ok) throw range_error(name, expected, number(v));
}

bool integer_in(double v, double lo, double hi) { return v == std::floor(v) && v >= lo && v <= hi; }

constexpr double kMaxSafeInteger = 9007199254740991.0;  // 2^53 - 1

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

const Tensor* opt(const OptTensor& t) { return t ? &*t : nullptr; }

struct TensorList {
  const char* name;
  const std::vector<Tensor>& tensors;
  bool output;  // updated in place: may share memory with nothing else
};

// Lists of one non-zero length whose shapes equal the first list's index by index, all on one
// device, outputs sharing memory with no other tensor. Returns the device.
Device check_lists(const std::vector<TensorList>& lists) {
  const TensorList& lead = lists[0];
  const size_t n = lead.tensors.size();
  if (n == 0) throw range_error(lead.name, "a non-empty array of Tensors", "an empty array");
  std::vector<std::string> names;  // "grads[2]"; filled before any pointer into it is taken
  for (const TensorList& l : lists) {
    if (l.tensors.size() != n)
      throw range_error(l.name, "an array of " + std::to_string(n) + " Tensors (one per entry of " + lead.name + ")",
                        "an array of length " + std::to_string(l.tensors.size()));
    for (size_t i = 0; i < n; ++i) names.push_back(std::string(l.name) + "[" + std::to_string(i) + "]");
  }
  std::vector<Arg> inputs, outputs;
  for (size_t l = 0; l < lists.size(); ++l) {
    for (size_t i = 0; i < n; ++i) {
      const Arg a{names[l * n + i].c_str(), &lists[l].tensors[i]};
      (lists[l].output ? outputs : inputs).push_back(a);
      check_shape(a.name, *a.tensor, lead.tensors[i].shape, ("the shape of " + names[i]).c_str());
    }
  }
  return check_common(inputs, outputs);
}

// What the list kernels take: raw pointers and sizes, in list order. Holding the tensors keeps
// their storage alive as long as the job that captured it.
struct Raw {
  std::vector<Tensor> tensors;
  std::vector<float*> data;
  std::vector<int64_t> sizes;
};

Raw raw(const std::vector<Tensor>& tensors) {
  Raw r{tensors, {}, {}};
  for (const Tensor& t : tensors) {
    r.data.push_back(t.data());
    r.sizes.push_back(t.numel());
  }
  return r;
}

}  // namespace

Job random_normal(const Tensor& out, double seed, double offset) {
  const Device dev = check_common({}, {{"out", &out}});
  require(integer_in(seed, 0, 4294967295.0), "seed", "an integer in [0, 2^32)", seed);
  require(integer_in(offset, 0, kMaxSafeInteger), "offset", "an integer in [0, 2^53)", offset);
  const uint32_t s = static_cast<uint32_t>(seed);
  const uint64_t o = static_cast<uint64_t>(offset);
  return [=] { GMN_DISPATCH_CPU_ONLY(dev, random_normal, out.data(), out.numel(), s, o); };
}

Job gaussian_sample_forward(const Tensor& mu, const Tensor& pre_sigma, const Tensor& eps, const Tensor& out) {
  const Device dev = check_common({{"mu", &mu}, {"preSigma", &pre_sigma}, {"eps", &eps}}, {{"out", &out}});
  check_rank("mu", mu, 2, "[N, Z]");
  check_shape("preSigma", pre_sigma, mu.shape, "[N, Z] (the shape of mu)");
  check_shape("eps", eps, mu.shape, "[N, Z] (the shape of mu)");
  check_shape("out", out, mu.shape, "[N, Z] (the shape of mu)");
  return [=] {
    GMN_DISPATCH_CPU_ONLY(dev, gaussian_sample_forward, mu.data(), pre_sigma.data(), eps.data(), out.data(), mu.numel());
  };
}

Job gaussian_sample_backward(const Tensor& pre_sigma, const Tensor& eps, const Tensor& grad_out, const OptTensor& grad_mu,
                             const OptTensor& grad_pre_sigma, bool accumulate) {
  const Device dev = check_common({{"preSigma", &pre_sigma}, {"eps", &eps}, {"gradOut", &grad_out}},
                                  {{"gradMu", opt(grad_mu)}, {"gradPreSigma", opt(grad_pre_sigma)}});
  check_rank("preSigma", pre_sigma, 2, "[N, Z]");
  check_shape("eps", eps, pre_sigma.shape, "[N, Z] (the shape of preSigma)");
  check_shape("gradOut", grad_out, pre_sigma.shape, "[N, Z] (the shape of preSigma)");
  if (grad_mu) check_shape("gradMu", *grad_mu, pre_sigma.shape, "[N, Z] (the shape of preSigma)");
  if (grad_pre_sigma) check_shape("gradPreSigma", *grad_pre_sigma, pre_sigma.shape, "[N, Z] (the shape of preSigma)");
  return [=] {
    GMN_DISPATCH_CPU_ONLY(dev, gaussian_sample_backward, pre_sigma.data(), eps.data(), grad_out.data(), ptr(grad_mu),
                          ptr(grad_pre_sigma), pre_sigma.numel(), accumulate);
  };
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
    GMN_DISPATCH_CPU_ONLY(dev, elbo_forward, logits.data(), x.data(), z.data(), mu_q.data(), pre_q.data(), mu_p.data(),
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
    GMN_DISPATCH_CPU_ONLY(dev, elbo_backward, logits.data(), x.data(), z.data(), mu_q.data(), pre_q.data(), mu_p.data(),
                          pre_p.data(), row_weight.data(), grad_loss.data(), ptr(grad_logits), ptr(grad_z),
                          ptr(grad_mu_q), ptr(grad_pre_q), ptr(grad_mu_p), ptr(grad_pre_p), s.N, s.D, s.Z, accumulate);
  };
}

Job sum_squares(const std::vector<Tensor>& tensors, std::shared_ptr<double> result) {
  const Device dev = check_lists({{"tensors", tensors, false}});
  const Raw r = raw(tensors);
  return [=] {
    GMN_DISPATCH_CPU_ONLY(dev, sum_squares, r.data.data(), r.sizes.data(), int64_t(r.sizes.size()), result.get());
  };
}

Job adam_update(const std::vector<Tensor>& params, const std::vector<Tensor>& grads, const std::vector<Tensor>& m,
                const std::vector<Tensor>& v, double lr, double beta1, double beta2, double eps, double weight_decay,
                bool decoupled, double step, double grad_scale) {
  const Device dev = check_lists({{"params", params, true}, {"grads", grads, false}, {"m", m, true}, {"v", v, true}});
  require(std::isfinite(lr) && lr >= 0, "lr", "a finite number >= 0", lr);
  require(beta1 >= 0 && beta1 < 1, "beta1", "a number in [0, 1)", beta1);
  require(beta2 >= 0 && beta2 < 1, "beta2", "a number in [0, 1)", beta2);
  require(std::isfinite(eps) && eps > 0, "eps", "a finite number > 0", eps);
  require(std::isfinite(weight_decay) && weight_decay >= 0, "weightDecay", "a finite number >= 0", weight_decay);
  require(integer_in(step, 1, kMaxSafeInteger), "step", "an integer in [1, 2^53)", step);
  require(std::isfinite(grad_scale) && grad_scale >= 0, "gradScale", "a finite number >= 0", grad_scale);
  const Raw p = raw(params), g = raw(grads), mr = raw(m), vr = raw(v);
  const int64_t t = static_cast<int64_t>(step);
  return [=] {
    GMN_DISPATCH_CPU_ONLY(dev, adam_update, p.data.data(), g.data.data(), mr.data.data(), vr.data.data(),
                          p.sizes.data(), int64_t(p.sizes.size()), lr, beta1, beta2, eps, weight_decay, decoupled, t,
                          grad_scale);
  };
}

Job sgd_update(const std::vector<Tensor>& params, const std::vector<Tensor>& grads, const std::vector<Tensor>& velocity,
               double lr, double momentum, double weight_decay, double grad_scale) {
  const Device dev = check_lists({{"params", params, true}, {"grads", grads, false}, {"velocity", velocity, true}});
  require(std::isfinite(lr) && lr >= 0, "lr", "a finite number >= 0", lr);
  require(momentum >= 0 && momentum < 1, "momentum", "a number in [0, 1)", momentum);
  require(std::isfinite(weight_decay) && weight_decay >= 0, "weightDecay", "a finite number >= 0", weight_decay);
  require(std::isfinite(grad_scale) && grad_scale >= 0, "gradScale", "a finite number >= 0", grad_scale);
  const Raw p = raw(params), g = raw(grads), vel = raw(velocity);
  return [=] {
    GMN_DISPATCH_CPU_ONLY(dev, sgd_update, p.data.data(), g.data.data(), vel.data.data(), p.sizes.data(),
                          int64_t(p.sizes.size()), lr, momentum, weight_decay, grad_scale);
  };
}

}  // namespace gmn::ops
