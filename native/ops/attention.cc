// attention: the causal matching read of the GMN (similarity "dot", "cosine" or "average").
#include <string>
#include <utility>
#include <vector>

#include "checks.h"

namespace gmn::ops {

namespace {

const auto forward = GMN_CPU_KERNEL(attention_forward);
const auto backward = GMN_CPU_KERNEL(attention_backward);

struct AttentionDims {
  int64_t B, T, P, D, F;
  Similarity similarity;
};

AttentionDims attention_dims(const OptTensor& query, const OptTensor& keys, const OptTensor& pseudo_keys,
                             const Tensor& values, const OptTensor& pseudo_values, const OptTensor& strength,
                             int64_t episodes, const std::string& similarity, int64_t pseudo_positions) {
  AttentionDims d{};
  if (similarity == "dot") d.similarity = Similarity::Dot;
  else if (similarity == "cosine") d.similarity = Similarity::Cosine;
  else if (similarity == "average") d.similarity = Similarity::Average;
  else throw range_error("similarity", "'dot', 'cosine' or 'average'", "'" + similarity + "'");
  const bool matching = d.similarity != Similarity::Average;

  check_rank("values", values, 2, "[R, F]");
  const int64_t R = values.shape[0];
  d.F = values.shape[1];
  if (episodes < 1 || R % episodes != 0)
    throw range_error("episodes", "a divisor of the rows of values (R = " + std::to_string(R) + ")",
                      std::to_string(episodes));
  d.B = episodes;
  d.T = R / episodes;
  if (pseudo_positions < 0 || pseudo_positions > d.T)
    throw range_error("pseudoPositions", "an integer in [0, T] = [0, " + std::to_string(d.T) + "]",
                      std::to_string(pseudo_positions));

  // Matching reads a query, keys and strengths; a pseudo-value needs its pseudo-key (average reads no keys).
  using Named = std::pair<const char*, const OptTensor*>;
  for (const auto& [name, t] : {Named{"query", &query}, Named{"keys", &keys}, Named{"strength", &strength}})
    if (matching && !*t) throw type_error(name, "a Tensor (similarity '" + similarity + "' reads it)", "null");
  if (pseudo_keys && !pseudo_values) throw type_error("pseudoValues", "a Tensor [P, F] (pseudoKeys is given)", "null");
  if (matching && pseudo_values && !pseudo_keys)
    throw type_error("pseudoKeys", "a Tensor [P, D] (pseudoValues is given)", "null");

  if (pseudo_values) {
    check_rank("pseudoValues", *pseudo_values, 2, "[P, F]");
    d.P = pseudo_values->shape[0];
    check_shape("pseudoValues", *pseudo_values, Shape{{d.P, d.F}}, "[P, F]");
  }
  d.D = -1;
  for (const auto& [name, t] : {Named{"query", &query}, Named{"keys", &keys}, Named{"pseudoKeys", &pseudo_keys}}) {
    if (!*t) continue;
    check_rank(name, **t, 2, "[rows, D]");
    if (d.D < 0) d.D = (*t)->shape[1];
  }
  if (d.D < 0) d.D = 0;  // average with no keys at all
  if (query) check_shape("query", *query, Shape{{R, d.D}}, "[R, D]");
  if (keys) check_shape("keys", *keys, Shape{{R, d.D}}, "[R, D]");
  if (pseudo_keys) check_shape("pseudoKeys", *pseudo_keys, Shape{{d.P, d.D}}, "[P, D]");
  if (strength) check_shape("strength", *strength, Shape{{R, 1}}, "[R, 1]");
  return d;
}

Job attention_forward(const OptTensor& query, const OptTensor& keys, const OptTensor& pseudo_keys, const Tensor& values,
                      const OptTensor& pseudo_values, const OptTensor& strength, const Tensor& out,
                      const Tensor& weights, int64_t episodes, const std::string& similarity,
                      int64_t pseudo_positions) {
  const Device dev = check_common({{"query", opt(query)},
                                   {"keys", opt(keys)},
                                   {"pseudoKeys", opt(pseudo_keys)},
                                   {"values", &values},
                                   {"pseudoValues", opt(pseudo_values)},
                                   {"strength", opt(strength)}},
                                  {{"out", &out}, {"weights", &weights}});
  const AttentionDims d =
      attention_dims(query, keys, pseudo_keys, values, pseudo_values, strength, episodes, similarity, pseudo_positions);
  const int64_t R = d.B * d.T;
  check_shape("out", out, Shape{{R, d.F}}, "[R, F]");
  check_shape("weights", weights, Shape{{R, d.T + d.P}}, "[R, T + P]");
  return [=] {
    forward(dev, ptr(query), ptr(keys), ptr(pseudo_keys), values.data(),
                          ptr(pseudo_values), ptr(strength), out.data(), weights.data(), d.B, d.T, d.P, d.D, d.F,
                          d.similarity, pseudo_positions);
  };
}

Job attention_backward(const OptTensor& query, const OptTensor& keys, const OptTensor& pseudo_keys,
                       const Tensor& values, const OptTensor& pseudo_values, const OptTensor& strength,
                       const Tensor& weights, const Tensor& grad_out, const OptTensor& grad_query,
                       const OptTensor& grad_keys, const OptTensor& grad_pseudo_keys, const OptTensor& grad_values,
                       const OptTensor& grad_pseudo_values, const OptTensor& grad_strength, int64_t episodes,
                       const std::string& similarity, int64_t pseudo_positions, bool accumulate) {
  const Device dev = check_common({{"query", opt(query)},
                                   {"keys", opt(keys)},
                                   {"pseudoKeys", opt(pseudo_keys)},
                                   {"values", &values},
                                   {"pseudoValues", opt(pseudo_values)},
                                   {"strength", opt(strength)},
                                   {"weights", &weights},
                                   {"gradOut", &grad_out}},
                                  {{"gradQuery", opt(grad_query)},
                                   {"gradKeys", opt(grad_keys)},
                                   {"gradPseudoKeys", opt(grad_pseudo_keys)},
                                   {"gradValues", opt(grad_values)},
                                   {"gradPseudoValues", opt(grad_pseudo_values)},
                                   {"gradStrength", opt(grad_strength)}});
  const AttentionDims d =
      attention_dims(query, keys, pseudo_keys, values, pseudo_values, strength, episodes, similarity, pseudo_positions);
  const int64_t R = d.B * d.T;
  check_shape("weights", weights, Shape{{R, d.T + d.P}}, "[R, T + P]");
  check_shape("gradOut", grad_out, Shape{{R, d.F}}, "[R, F]");
  const bool matching = d.similarity != Similarity::Average;
  const std::pair<const char*, const char*> grads[] = {
      {"gradQuery", "query"}, {"gradKeys", "keys"}, {"gradPseudoKeys", "pseudoKeys"}, {"gradStrength", "strength"}};
  const OptTensor* grad_tensors[] = {&grad_query, &grad_keys, &grad_pseudo_keys, &grad_strength};
  const OptTensor* input_tensors[] = {&query, &keys, &pseudo_keys, &strength};
  for (int i = 0; i < 4; ++i) {
    const auto [name, input] = grads[i];
    if (!*grad_tensors[i]) continue;
    if (!matching)
      throw type_error(name, std::string("null (similarity 'average' does not read ") + input + ")",
                       shape_of(**grad_tensors[i]));
    if (!*input_tensors[i])
      throw type_error(name, std::string("null (") + input + " is null)", shape_of(**grad_tensors[i]));
    check_grad(name, *grad_tensors[i], **input_tensors[i], input);
  }
  check_grad("gradValues", grad_values, values, "values");
  if (grad_pseudo_values && !pseudo_values)
    throw type_error("gradPseudoValues", "null (pseudoValues is null)", shape_of(*grad_pseudo_values));
  if (pseudo_values) check_grad("gradPseudoValues", grad_pseudo_values, *pseudo_values, "pseudoValues");
  return [=] {
    backward(dev, ptr(query), ptr(keys), ptr(pseudo_keys), values.data(),
                          ptr(pseudo_values), ptr(strength), weights.data(), grad_out.data(), ptr(grad_query),
                          ptr(grad_keys), ptr(grad_pseudo_keys), ptr(grad_values), ptr(grad_pseudo_values),
                          ptr(grad_strength), d.B, d.T, d.P, d.D, d.F, d.similarity, pseudo_positions, accumulate);
  };
}

}  // namespace

GMN_REGISTER_OP(attention, {forward.info(), backward.info()},
                {options("attentionForward", attention_forward,
                         {"query", "keys", "pseudoKeys", "values", "pseudoValues", "strength", "out", "weights", "episodes",
                          "similarity", "pseudoPositions"}),
                 options("attentionBackward", attention_backward,
                         {"query", "keys", "pseudoKeys", "values", "pseudoValues", "strength", "weights", "gradOut",
                          "gradQuery", "gradKeys", "gradPseudoKeys", "gradValues", "gradPseudoValues", "gradStrength",
                          "episodes", "similarity", "pseudoPositions", "accumulate"})});

}  // namespace gmn::ops
