// The kernels' workspace, kept between calls: per-thread buffers, and the tables that depend on a
// call's shapes only (plans), so that a training step, which repeats the same calls, allocates nothing.
#pragma once
#include <cstdint>
#include <memory>
#include <tuple>
#include <utility>
#include <vector>

namespace gmn::cpu {

// A per-thread buffer with no allocation or zero-fill once it has grown to a call's size. Its
// contents are unspecified.
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

// The T made from `args` (a configuration's shapes), made on its first use and kept: each
// thread's last kPlans of each kind (a plan made by the calling thread is read by its parallel
// regions; one made inside a region is that worker's own).
constexpr size_t kPlans = 32;
template <typename T, typename... Args>
const T& plan(const Args&... args) {
  using Key = std::tuple<Args...>;
  thread_local std::vector<std::pair<Key, std::unique_ptr<const T>>> cache;
  const Key key(args...);
  for (const auto& [k, made] : cache)
    if (k == key) return *made;
  if (cache.size() == kPlans) cache.erase(cache.begin());
  cache.emplace_back(key, std::make_unique<const T>(args...));
  return *cache.back().second;
}

}  // namespace gmn::cpu
