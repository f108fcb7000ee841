#include "ops_attention.h"

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "op_checks.h"

namespace gmn::ops {

namespace {

const Tensor* opt(const OptTensor& t) { return t ? &*t : nullptr; }

std::string shape_of(const Tensor& t) { return "a tensor of shape " + t.shape.str(); }

// A gradient, when given, has the shape of its input.
void check_grad(const std::string& name, const OptTensor& grad, const Tensor& input, const std::string& input_name) {
  if (grad) check_shape(name.c_str(), *grad, input.shape, ("the shape of " + input_name).c_str());
}

// "inputs[0]", "inputs[1]", ...
std::vector<std::string> element_names(const char* array, size_t count) {
  std::vector<std::string> names;
  for (size_t i = 0; i < count; ++i) names.push_back(std::string(array) + "[" + std::to_string(i) + "]");
  return names;
}

int64_t concat_rows(const std::string& name, const Tensor& t, int64_t N) {
  check_rank(name.c_str(), t, 2, "[N, K]");
  if (N >= 0 && t.shape[0] != N)
    throw range_error(name, "a tensor of shape [N, K] with N = " + std::to_string(N) + " (the rows of the others)",
                      "shape " + t.shape.str());
  return t.shape[0];
}

struct AttentionDims {
  int64_t B, T, P, D, F;
  cpu::Similarity similarity;
};

AttentionDims attention_dims(const OptTensor& query, const OptTensor& keys, const OptTensor& pseudo_keys,
                             const Tensor& values, const OptTensor& pseudo_values, const OptTensor& strength,
                             int64_t episodes, const std::string& similarity, int64_t pseudo_positions) {
  AttentionDims d{};
  if (similarity == "dot") d.similarity = cpu::Similarity::Dot;
  else if (similarity == "cosine") d.similarity = cpu::Similarity::Cosine;
  else if (similarity == "average") d.similarity = cpu::Similarity::Average;
  else throw range_error("similarity", "'dot', 'cosine' or 'average'", "'" + similarity + "'");
  const bool matching = d.similarity != cpu::Similarity::Average;

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

struct GruDims {
  int64_t N, I, H;
};

GruDims gru_dims(const Tensor& x, const Tensor& h, const Tensor& w_gates, const Tensor& b_gates, const Tensor& w_cand,
                 const Tensor& b_cand, const Tensor& slope) {
  check_rank("x", x, 2, "[N, I]");
  check_rank("h", h, 2, "[N, H]");
  const int64_t N = x.shape[0], I = x.shape[1], H = h.shape[1];
  check_shape("h", h, Shape{{N, H}}, "[N, H]");
  check_shape("wGates", w_gates, Shape{{2 * H, I + H}}, "[2H, I + H]");
  check_shape("bGates", b_gates, Shape{{2 * H}}, "[2H]");
  check_shape("wCand", w_cand, Shape{{H, I + H}}, "[H, I + H]");
  check_shape("bCand", b_cand, Shape{{H}}, "[H]");
  check_shape("slope", slope, Shape{{H}}, "[H]");
  return {N, I, H};
}

}  // namespace

Job concat_forward(const std::vector<Tensor>& inputs, const Tensor& out) {
  if (inputs.empty()) throw range_error("inputs", "an array of at least 1 tensor", "an empty array");
  const std::vector<std::string> names = element_names("inputs", inputs.size());
  std::vector<Arg> args;
  for (size_t i = 0; i < inputs.size(); ++i) args.push_back({names[i].c_str(), &inputs[i]});
  const Device dev = check_common(args, {{"out", &out}});
  const int64_t N = concat_rows(names[0], inputs[0], -1);
  std::vector<int64_t> widths;
  int64_t W = 0;
  for (size_t i = 0; i < inputs.size(); ++i) {
    concat_rows(names[i], inputs[i], N);
    widths.push_back(inputs[i].shape[1]);
    W += widths.back();
  }
  check_shape("out", out, Shape{{N, W}}, "[N, sum of K_i]");
  return [=] {
    std::vector<const float*> src;
    for (const Tensor& t : inputs) src.push_back(t.data());
    GMN_DISPATCH_CPU_ONLY(dev, concat_forward, src.data(), widths.data(), int64_t(widths.size()), out.data(), N);
  };
}

Job concat_backward(const Tensor& grad_out, const std::vector<OptTensor>& grad_inputs, bool accumulate) {
  if (grad_inputs.empty()) throw range_error("gradInputs", "an array of at least 1 entry", "an empty array");
  const std::vector<std::string> names = element_names("gradInputs", grad_inputs.size());
  std::vector<Arg> args;
  for (size_t i = 0; i < grad_inputs.size(); ++i) args.push_back({names[i].c_str(), opt(grad_inputs[i])});
  const Device dev = check_common({{"gradOut", &grad_out}}, args);
  check_rank("gradOut", grad_out, 2, "[N, W]");
  const int64_t N = grad_out.shape[0], W = grad_out.shape[1];
  // A null entry's width is unknown: it is the rest of gradOut's width when there is one null entry;
  // with several, the given entries must all come first (their offsets are then known).
  std::vector<int64_t> widths(grad_inputs.size(), 0);
  const int64_t nulls = std::count_if(grad_inputs.begin(), grad_inputs.end(), [](const OptTensor& t) { return !t; });
  int64_t known = 0, nulls_before = 0;
  for (size_t i = 0; i < grad_inputs.size(); ++i) {
    if (!grad_inputs[i]) {
      ++nulls_before;
      continue;
    }
    if (nulls_before > 0 && nulls > 1)
      throw range_error(names[i], "null: its offset depends on the unknown widths of the null entries before it (one "
                                  "entry may be null anywhere, several only after the given ones)", shape_of(*grad_inputs[i]));
    concat_rows(names[i], *grad_inputs[i], N);
    widths[i] = grad_inputs[i]->shape[1];
    known += widths[i];
  }
  if (nulls == 0 ? known != W : W - known < nulls)
    throw range_error("gradInputs", "widths that sum to the width of gradOut (" + std::to_string(W) + "), at least 1 " +
                                        "column for each null entry",
                      std::to_string(known) + " columns in " + std::to_string(grad_inputs.size() - nulls) +
                          " tensors and " + std::to_string(nulls) + " null entries");
  for (size_t i = 0; i < grad_inputs.size(); ++i)
    if (!grad_inputs[i]) {  // the first null entry takes the rest; the kernel skips it anyway
      widths[i] = W - known;
      break;
    }
  return [=] {
    std::vector<float*> dst;
    for (const OptTensor& t : grad_inputs) dst.push_back(ptr(t));
    GMN_DISPATCH_CPU_ONLY(dev, concat_backward, grad_out.data(), dst.data(), widths.data(), int64_t(widths.size()), N,
                          accumulate);
  };
}

Job broadcast_rows_forward(const Tensor& vector, const Tensor& out) {
  const Device dev = check_common({{"vector", &vector}}, {{"out", &out}});
  check_rank("vector", vector, 1, "[H]");
  check_rank("out", out, 2, "[N, H]");
  const int64_t N = out.shape[0], H = vector.shape[0];
  check_shape("out", out, Shape{{N, H}}, "[N, H]");
  return [=] { GMN_DISPATCH_CPU_ONLY(dev, broadcast_rows_forward, vector.data(), out.data(), N, H); };
}

Job broadcast_rows_backward(const Tensor& grad_out, const OptTensor& grad_vector, bool accumulate) {
  const Device dev = check_common({{"gradOut", &grad_out}}, {{"gradVector", opt(grad_vector)}});
  check_rank("gradOut", grad_out, 2, "[N, H]");
  const int64_t N = grad_out.shape[0], H = grad_out.shape[1];
  if (grad_vector) check_shape("gradVector", *grad_vector, Shape{{H}}, "[H] (H = the width of gradOut)");
  return [=] {
    if (grad_vector)
      GMN_DISPATCH_CPU_ONLY(dev, broadcast_rows_backward, grad_out.data(), grad_vector->data(), N, H, accumulate);
  };
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
    GMN_DISPATCH_CPU_ONLY(dev, attention_forward, ptr(query), ptr(keys), ptr(pseudo_keys), values.data(),
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
  const bool matching = d.similarity != cpu::Similarity::Average;
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
    GMN_DISPATCH_CPU_ONLY(dev, attention_backward, ptr(query), ptr(keys), ptr(pseudo_keys), values.data(),
                          ptr(pseudo_values), ptr(strength), weights.data(), grad_out.data(), ptr(grad_query),
                          ptr(grad_keys), ptr(grad_pseudo_keys), ptr(grad_values), ptr(grad_pseudo_values),
                          ptr(grad_strength), d.B, d.T, d.P, d.D, d.F, d.similarity, pseudo_positions, accumulate);
  };
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
  const GruDims g = gru_dims(x, h, w_gates, b_gates, w_cand, b_cand, slope);
  check_shape("out", out, Shape{{g.N, g.H}}, "[N, H]");
  check_shape("saved", saved, Shape{{g.N, 4 * g.H}}, "[N, 4H]");
  return [=] {
    GMN_DISPATCH_CPU_ONLY(dev, gru_forward, x.data(), h.data(), w_gates.data(), b_gates.data(), w_cand.data(),
                          b_cand.data(), slope.data(), out.data(), saved.data(), g.N, g.I, g.H);
  };
}

Job gru_backward(const Tensor& x, const Tensor& h, const Tensor& w_gates, const Tensor& b_gates, const Tensor& w_cand,
                 const Tensor& b_cand, const Tensor& slope, const Tensor& saved, const Tensor& grad_out,
                 const OptTensor& grad_x, const OptTensor& grad_h, const OptTensor& grad_w_gates,
                 const OptTensor& grad_b_gates, const OptTensor& grad_w_cand, const OptTensor& grad_b_cand,
                 const OptTensor& grad_slope, bool accumulate) {
  const Device dev = check_common({{"x", &x},
                                   {"h", &h},
                                   {"wGates", &w_gates},
                                   {"bGates", &b_gates},
                                   {"wCand", &w_cand},
                                   {"bCand", &b_cand},
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
  const GruDims g = gru_dims(x, h, w_gates, b_gates, w_cand, b_cand, slope);
  check_shape("saved", saved, Shape{{g.N, 4 * g.H}}, "[N, 4H]");
  check_shape("gradOut", grad_out, Shape{{g.N, g.H}}, "[N, H]");
  check_grad("gradX", grad_x, x, "x");
  check_grad("gradH", grad_h, h, "h");
  check_grad("gradWGates", grad_w_gates, w_gates, "wGates");
  check_grad("gradBGates", grad_b_gates, b_gates, "bGates");
  check_grad("gradWCand", grad_w_cand, w_cand, "wCand");
  check_grad("gradBCand", grad_b_cand, b_cand, "bCand");
  check_grad("gradSlope", grad_slope, slope, "slope");
  return [=] {
    GMN_DISPATCH_CPU_ONLY(dev, gru_backward, x.data(), h.data(), w_gates.data(), w_cand.data(), slope.data(),
                          saved.data(), grad_out.data(), ptr(grad_x), ptr(grad_h), ptr(grad_w_gates),
                          ptr(grad_b_gates), ptr(grad_w_cand), ptr(grad_b_cand), ptr(grad_slope), g.N, g.I, g.H,
                          accumulate);
  };
}

}  // namespace gmn::ops
