// Eight floats as one GCC vector, for elementwise kernels that the compiler should vectorise for
// any instruction set: selects and conversions on Floats8 are elementwise operations, where the
// same scalar code has branches (a product or comparison that could trap keeps GCC from turning a
// scalar select into a vector one). Same bits as the scalar code.
#pragma once
#include <cstdint>
#include <cstring>

// Only inlined helpers return Floats8: GCC's ABI warning for 32-byte vectors without AVX does not apply.
#pragma GCC diagnostic ignored "-Wpsabi"

namespace gmn::cpu {

typedef float Floats8 __attribute__((vector_size(32)));
typedef int32_t Ints8 __attribute__((vector_size(32)));

inline Floats8 load8(const float* p) {
  Floats8 v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
inline void store8(float* p, const Floats8& v) { std::memcpy(p, &v, sizeof v); }

// Which width a map_row body works at: one value, or eight.
struct One {};
struct Eight {};
inline float at(const float* p, int64_t i, One) { return p[i]; }
inline Floats8 at(const float* p, int64_t i, Eight) { return load8(p + i); }
inline float splat(float a, One) { return a; }
inline Floats8 splat(float a, Eight) { return Floats8{} + a; }

// out[i] (+)= f(i, width) for i < n, eight at a time, then one at a time for the tail.
template <typename F>
inline void map_row(float* __restrict out, int64_t n, bool accumulate, F f) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const Floats8 v = f(i, Eight{});
    store8(out + i, accumulate ? load8(out + i) + v : v);
  }
  for (; i < n; ++i) out[i] = accumulate ? out[i] + f(i, One{}) : f(i, One{});
}

}  // namespace gmn::cpu
