// A per-thread buffer kept between calls: the kernels' workspace, with no allocation or zero-fill
// once it has grown to a call's size. Its contents are unspecified.
#pragma once
#include <cstdint>
#include <vector>

namespace gmn::cpu {

template <typename T>
T* scratch(std::vector<T>& buf, int64_t n) {
  if (buf.size() < static_cast<size_t>(n)) buf.resize(static_cast<size_t>(n));
  return buf.data();
}

}  // namespace gmn::cpu
