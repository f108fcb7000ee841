// What every op's argument check and dispatch share (included by the ops_*.cc files only).
#pragma once
#include <string>
#include <vector>

#include "backend.h"
#include "error.h"
#include "kernels.h"
#include "ops.h"

namespace gmn::ops {

// Runs a kernel on the tensors' device; CUDA work is finished before the job returns.
#if GMN_WITH_CUDA
#define GMN_DISPATCH(device, kernel, ...)   \
  do {                                      \
    if ((device) == Device::CUDA) {         \
      cuda::kernel(__VA_ARGS__);            \
      cuda::synchronize();                  \
    } else {                                \
      cpu::kernel(__VA_ARGS__);             \
    }                                       \
  } while (0)
#else
#define GMN_DISPATCH(device, kernel, ...) ((void)(device), cpu::kernel(__VA_ARGS__))
#endif

// For kernels that exist on the CPU only so far: a CUDA tensor gets a clear error, not a crash.
#define GMN_DISPATCH_CPU_ONLY(device, kernel, ...)                                                      \
  do {                                                                                                  \
    if ((device) == Device::CUDA) throw std::runtime_error(#kernel " has no CUDA kernel yet: use device 'cpu'"); \
    cpu::kernel(__VA_ARGS__);                                                                           \
  } while (0)

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

inline float* ptr(const OptTensor& t) { return t ? t->data() : nullptr; }

}  // namespace gmn::ops
