// adam: TensorFlow's Adam update over lists of tensors (params, m, v updated in place).
#include <vector>

#include "checks.h"

namespace gmn::ops {

namespace {

const auto kernel = GMN_CPU_KERNEL(adam_update);

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
    kernel(dev, p.data.data(), g.data.data(), mr.data.data(), vr.data.data(),
                          p.sizes.data(), int64_t(p.sizes.size()), lr, beta1, beta2, eps, weight_decay, decoupled, t,
                          grad_scale);
  };
}

}  // namespace

GMN_REGISTER_OP(adam, {kernel.info()},
                {options("adamUpdate", adam_update,
                         {"params", "grads", "m", "v", "lr", "beta1", "beta2", "eps", "weightDecay", "decoupled", "step",
                          "gradScale"})});

}  // namespace gmn::ops
