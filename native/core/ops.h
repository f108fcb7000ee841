// The operations exposed to JS, independent of N-API. Each function checks its arguments (devices,
// shapes, aliasing) at once, throwing ArgError, and returns the work to run later, off the JS
// thread. The returned job keeps its tensors' storage alive.
#pragma once
#include <functional>
#include <optional>

#include "tensor.h"

namespace gmn::ops {

using Job = std::function<void()>;
using OptTensor = std::optional<Tensor>;

// out[N,M] = x[N,K] weight[M,K]^T + bias[M]
Job linear_forward(const Tensor& x, const Tensor& weight, const OptTensor& bias, const Tensor& out);
Job linear_backward(const Tensor& x, const Tensor& weight, const Tensor& grad_out, const OptTensor& grad_x,
                    const OptTensor& grad_weight, const OptTensor& grad_bias, bool accumulate);

// alpha has one slope per channel (axis 1 of x) or a single shared slope.
Job prelu_forward(const Tensor& x, const Tensor& alpha, const Tensor& out);
Job prelu_backward(const Tensor& x, const Tensor& alpha, const Tensor& grad_out, const OptTensor& grad_x,
                   const OptTensor& grad_alpha, bool accumulate);

}  // namespace gmn::ops
