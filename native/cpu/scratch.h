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

// The first 64-byte boundary at or after p (a buffer of 64 bytes more than it needs holds it).
template <typename T>
inline T* align64(T* p) {
  return reinterpret_cast<T*>((reinterpret_cast<uintptr_t>(p) + 63) & ~static_cast<uintptr_t>(63));
}

}  // namespace gmn::cpu
