// gaussian_sample: the reparameterised sample out = mu + softplus(clip(preSigma, -10, 10)) * eps.
#include "checks.h"

namespace gmn::ops {

namespace {

const auto forward = GMN_CPU_KERNEL(gaussian_sample_forward);
const auto backward = GMN_CPU_KERNEL(gaussian_sample_backward);

Job gaussian_sample_forward(const Tensor& mu, const Tensor& pre_sigma, const Tensor& eps, const Tensor& out) {
  const Device dev = check_common({{"mu", &mu}, {"preSigma", &pre_sigma}, {"eps", &eps}}, {{"out", &out}});
  check_rank("mu", mu, 2, "[N, Z]");
  check_shape("preSigma", pre_sigma, mu.shape, "[N, Z] (the shape of mu)");
  check_shape("eps", eps, mu.shape, "[N, Z] (the shape of mu)");
  check_shape("out", out, mu.shape, "[N, Z] (the shape of mu)");
  return [=] {
    forward(dev, mu.data(), pre_sigma.data(), eps.data(), out.data(), mu.numel());
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
    backward(dev, pre_sigma.data(), eps.data(), grad_out.data(), ptr(grad_mu),
                          ptr(grad_pre_sigma), pre_sigma.numel(), accumulate);
  };
}

}  // namespace

GMN_REGISTER_OP(gaussian_sample, {forward.info(), backward.info()},
                {positional("gaussianSampleForward", gaussian_sample_forward, {"mu", "preSigma", "eps", "out"}),
                 positional("gaussianSampleBackward", gaussian_sample_backward,
                            {"preSigma", "eps", "gradOut", "gradMu", "gradPreSigma", "accumulate"})});

}  // namespace gmn::ops
