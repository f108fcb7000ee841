// The attention read's operations (see src/native/ops-attention.ts for the exact contracts): each
// checks its arguments at once, throwing ArgError that names the JS argument, and returns the work.
#pragma once
#include <string>
#include <vector>

#include "ops.h"

namespace gmn::ops {

// out[N, sum K_i] = inputs [N, K_i] side by side.
Job concat_forward(const std::vector<Tensor>& inputs, const Tensor& out);
// Splits gradOut into the gradients of the inputs; null entries are skipped (see the contract for their widths).
Job concat_backward(const Tensor& grad_out, const std::vector<OptTensor>& grad_inputs, bool accumulate);

// out[N, H]: every row = vector[H].
Job broadcast_rows_forward(const Tensor& vector, const Tensor& out);
Job broadcast_rows_backward(const Tensor& grad_out, const OptTensor& grad_vector, bool accumulate);

// The causal matching read; similarity is "dot", "cosine" or "average".
Job attention_forward(const OptTensor& query, const OptTensor& keys, const OptTensor& pseudo_keys, const Tensor& values,
                      const OptTensor& pseudo_values, const OptTensor& strength, const Tensor& out,
                      const Tensor& weights, int64_t episodes, const std::string& similarity,
                      int64_t pseudo_positions);
Job attention_backward(const OptTensor& query, const OptTensor& keys, const OptTensor& pseudo_keys,
                       const Tensor& values, const OptTensor& pseudo_values, const OptTensor& strength,
                       const Tensor& weights, const Tensor& grad_out, const OptTensor& grad_query,
                       const OptTensor& grad_keys, const OptTensor& grad_pseudo_keys, const OptTensor& grad_values,
                       const OptTensor& grad_pseudo_values, const OptTensor& grad_strength, int64_t episodes,
                       const std::string& similarity, int64_t pseudo_positions, bool accumulate);

// The GRU cell with a PReLU candidate; saved [N, 4H] keeps what the backward needs.
Job gru_forward(const Tensor& x, const Tensor& h, const Tensor& w_gates, const Tensor& b_gates, const Tensor& w_cand,
                const Tensor& b_cand, const Tensor& slope, const Tensor& out, const Tensor& saved);
Job gru_backward(const Tensor& x, const Tensor& h, const Tensor& w_gates, const Tensor& b_gates, const Tensor& w_cand,
                 const Tensor& b_cand, const Tensor& slope, const Tensor& saved, const Tensor& grad_out,
                 const OptTensor& grad_x, const OptTensor& grad_h, const OptTensor& grad_w_gates,
                 const OptTensor& grad_b_gates, const OptTensor& grad_w_cand, const OptTensor& grad_b_cand,
                 const OptTensor& grad_slope, bool accumulate);

}  // namespace gmn::ops
