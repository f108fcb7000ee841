// What the argument checks of every op share (included by native/ops/<op>.cc only).
#pragma once
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "../base/error.h"
#include "../base/tensor.h"
#include "../base/types.h"
#include "../kernels/kernels.h"
#include "registry.h"

namespace gmn::ops {

struct Arg {
  const char* name;
  const Tensor* tensor;  // null when an optional argument is absent
};

// Every tensor on one device; no output shares storage with any other argument.
inline Device check_common(const std::vector<Arg>& inputs, const std::vector<Arg>& outputs) {
  std::vector<Arg> all = inputs;
  all.insert(all.end(), outputs.begin(), outputs.end());
  const Arg* first = nullptr;
  for (const Arg& a : all) {
    if (!a.tensor) continue;
    if (!first) first = &a;
    else if (a.tensor->device() != first->tensor->device())
      throw type_error(a.name, std::string("a tensor on ") + device_name(first->tensor->device()) + " (the device of " +
                                   first->name + ")",
                       std::string("a tensor on ") + device_name(a.tensor->device()));
  }
  for (size_t i = inputs.size(); i < all.size(); ++i) {
    if (!all[i].tensor) continue;
    for (size_t j = 0; j < all.size(); ++j) {
      if (j != i && all[j].tensor && all[j].tensor->storage == all[i].tensor->storage)
        throw type_error(all[i].name, std::string("a tensor that does not share memory with ") + all[j].name,
                         "the same tensor");
    }
  }
  return first->tensor->device();
}

inline void check_shape(const char* name, const Tensor& t, const Shape& expected, const char* symbolic) {
  if (!(t.shape == expected))
    throw range_error(name, std::string("a tensor of shape ") + symbolic + " = " + expected.str(),
                      "shape " + t.shape.str());
}

inline void check_rank(const char* name, const Tensor& t, int rank, const char* symbolic) {
  if (t.shape.ndim() != rank)
    throw range_error(name, std::string("a ") + std::to_string(rank) + "-D tensor " + symbolic,
                      "shape " + t.shape.str());
}

inline std::string shape_of(const Tensor& t) { return "a tensor of shape " + t.shape.str(); }

inline void check_at_least(const char* name, int64_t value, int64_t lo) {
  if (value < lo) throw range_error(name, "an integer >= " + std::to_string(lo), std::to_string(value));
}

inline std::string number(double v) {
  if (std::isnan(v)) return "NaN";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

// Throws a RangeError for `name` unless ok (NaN fails every comparison, so it lands here too).
inline void require(bool ok, const char* name, const char* expected, double v) {
  if (!ok) throw range_error(name, expected, number(v));
}

inline bool integer_in(double v, double lo, double hi) { return v == std::floor(v) && v >= lo && v <= hi; }

constexpr double kMaxSafeInteger = 9007199254740991.0;  // 2^53 - 1

struct TensorList {
  const char* name;
  const std::vector<Tensor>& tensors;
  bool output;  // updated in place: may share memory with nothing else
};

// Lists of one non-zero length whose shapes equal the first list's index by index, all on one
// device, outputs sharing memory with no other tensor. Returns the device.
inline Device check_lists(const std::vector<TensorList>& lists) {
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

inline Raw raw(const std::vector<Tensor>& tensors) {
  Raw r{tensors, {}, {}};
  for (const Tensor& t : tensors) {
    r.data.push_back(t.data());
    r.sizes.push_back(t.numel());
  }
  return r;
}

// Images [N, C, H, W] resampled to [N, C, Ho, Wo] plane by plane (pooling, resize): planes = N * C.
struct Planes {
  int64_t planes, H, W, Ho, Wo;
};

inline float* ptr(const OptTensor& t) { return t ? t->data() : nullptr; }
inline const Tensor* opt(const OptTensor& t) { return t ? &*t : nullptr; }

// A gradient output, when given, has the shape of its input.
inline void check_grad(const char* name, const OptTensor& grad, const Shape& shape, const char* symbolic) {
  if (grad) check_shape(name, *grad, shape, symbolic);
}
inline void check_grad(const char* name, const OptTensor& grad, const Tensor& input, const char* input_name) {
  if (grad) check_shape(name, *grad, input.shape, (std::string("the shape of ") + input_name).c_str());
}

}  // namespace gmn::ops
