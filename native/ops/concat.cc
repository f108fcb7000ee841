// concat: out[N, sum K_i] = inputs [N, K_i] side by side; the backward splits gradOut.
#include <algorithm>
#include <string>
#include <vector>

#include "checks.h"

namespace gmn::ops {

namespace {

const auto forward = GMN_CPU_KERNEL(concat_forward);
const auto backward = GMN_CPU_KERNEL(concat_backward);

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
    forward(dev, src.data(), widths.data(), int64_t(widths.size()), out.data(), N);
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
    backward(dev, grad_out.data(), dst.data(), widths.data(), int64_t(widths.size()), N,
             accumulate);
  };
}

}  // namespace

GMN_REGISTER_OP(concat, {forward.info(), backward.info()},
                {positional("concatForward", concat_forward, {"inputs", "out"}),
                 positional("concatBackward", concat_backward, {"gradOut", "gradInputs", "accumulate"})});

}  // namespace gmn::ops
