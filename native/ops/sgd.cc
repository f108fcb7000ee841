// sgd: SGD with momentum over lists of tensors (params and velocity updated in place).
#include <vector>

#include "checks.h"

namespace gmn::ops {

namespace {

const auto kernel = GMN_CPU_KERNEL(sgd_update);

Job sgd_update(const std::vector<Tensor>& params, const std::vector<Tensor>& grads, const std::vector<Tensor>& velocity,
               double lr, double momentum, double weight_decay, double grad_scale) {
  const Device dev = check_lists({{"params", params, true}, {"grads", grads, false}, {"velocity", velocity, true}});
  require(std::isfinite(lr) && lr >= 0, "lr", "a finite number >= 0", lr);
  require(momentum >= 0 && momentum < 1, "momentum", "a number in [0, 1)", momentum);
  require(std::isfinite(weight_decay) && weight_decay >= 0, "weightDecay", "a finite number >= 0", weight_decay);
  require(std::isfinite(grad_scale) && grad_scale >= 0, "gradScale", "a finite number >= 0", grad_scale);
  const Raw p = raw(params), g = raw(grads), vel = raw(velocity);
  return [=] {
    kernel(dev, p.data.data(), g.data.data(), vel.data.data(), p.sizes.data(),
                          int64_t(p.sizes.size()), lr, momentum, weight_decay, grad_scale);
  };
}

}  // namespace

GMN_REGISTER_OP(sgd, {kernel.info()},
                {positional("sgdUpdate", sgd_update,
                            {"params", "grads", "velocity", "lr", "momentum", "weightDecay", "gradScale"})});

}  // namespace gmn::ops
