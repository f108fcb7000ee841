// The ELBO family's operations (see ops.h for the conventions): native normal noise, the
// reparameterised Gaussian sample, the fused per-row ELBO, gradient norms and optimizer updates.
// Numbers arrive as JS doubles and are range-checked here, naming the JS argument.
#pragma once
#include <memory>
#include <vector>

#include "ops.h"

namespace gmn::ops {

// seed: an integer in [0, 2^32); offset: an integer in [0, 2^53).
Job random_normal(const Tensor& out, double seed, double offset);

// All [N, Z]: out = mu + softplus(clip(pre_sigma, -10, 10)) * eps.
Job gaussian_sample_forward(const Tensor& mu, const Tensor& pre_sigma, const Tensor& eps, const Tensor& out);
Job gaussian_sample_backward(const Tensor& pre_sigma, const Tensor& eps, const Tensor& grad_out, const OptTensor& grad_mu,
                             const OptTensor& grad_pre_sigma, bool accumulate);

// logits, x [N, D]; z, mu_q, pre_q, mu_p, pre_p [N, Z]; row_weight [N]; terms [N, 3]; loss [1].
Job elbo_forward(const Tensor& logits, const Tensor& x, const Tensor& z, const Tensor& mu_q, const Tensor& pre_q,
                 const Tensor& mu_p, const Tensor& pre_p, const Tensor& row_weight, const Tensor& terms,
                 const Tensor& loss);
Job elbo_backward(const Tensor& logits, const Tensor& x, const Tensor& z, const Tensor& mu_q, const Tensor& pre_q,
                  const Tensor& mu_p, const Tensor& pre_p, const Tensor& row_weight, const Tensor& grad_loss,
                  const OptTensor& grad_logits, const OptTensor& grad_z, const OptTensor& grad_mu_q,
                  const OptTensor& grad_pre_q, const OptTensor& grad_mu_p, const OptTensor& grad_pre_p,
                  bool accumulate);

// The job stores the sum of squares of every element of every tensor in *result.
Job sum_squares(const std::vector<Tensor>& tensors, std::shared_ptr<double> result);
// Lists of equal length, shapes equal index by index; params and the optimizer state are updated in place.
Job adam_update(const std::vector<Tensor>& params, const std::vector<Tensor>& grads, const std::vector<Tensor>& m,
                const std::vector<Tensor>& v, double lr, double beta1, double beta2, double eps, double weight_decay,
                bool decoupled, double step, double grad_scale);
Job sgd_update(const std::vector<Tensor>& params, const std::vector<Tensor>& grads, const std::vector<Tensor>& velocity,
               double lr, double momentum, double weight_decay, double grad_scale);

}  // namespace gmn::ops
