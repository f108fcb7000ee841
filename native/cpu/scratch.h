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

// scratch(buf, n) from a 64-byte boundary: rows written as whole vectors and read back at once sit
// on cache lines (a vector store that straddles two does not forward to the loads after it).
template <typename T>
T* aligned_scratch(std::vector<T>& buf, int64_t n) {
  constexpr int64_t slack = 64 / sizeof(T);
  const auto at = reinterpret_cast<uintptr_t>(scratch(buf, n + slack));
  return reinterpret_cast<T*>((at + 63) & ~static_cast<uintptr_t>(63));
}

}  // namespace gmn::cpu
