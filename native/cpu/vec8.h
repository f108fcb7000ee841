// Eight floats as one GCC vector, for elementwise kernels that the compiler should vectorise for
// any instruction set: selects and conversions on Floats8 are elementwise operations, where the
// same scalar code has branches (a product or comparison that could trap keeps GCC from turning a
// scalar select into a vector one). Same bits as the scalar code.
#pragma once
#include <algorithm>
#include <cstdint>
#include <cstring>

// Only inlined helpers return Floats8: GCC's ABI warning for 32-byte vectors without AVX does not apply.
#pragma GCC diagnostic ignored "-Wpsabi"

namespace gmn::cpu {

typedef float Floats8 __attribute__((vector_size(32)));
typedef int32_t Ints8 __attribute__((vector_size(32)));
// Eight doubles: the lanes of sums of Floats8 kept in double (convert with __builtin_convertvector).
typedef double Doubles8 __attribute__((vector_size(64)));

inline Floats8 load8(const float* p) {
  Floats8 v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
inline void store8(float* p, const Floats8& v) { std::memcpy(p, &v, sizeof v); }

// The sum of products(i), 8 doubles for the values i .. i + 7, over i = 0, 8, ... while i + 8 <= n,
// in four chains of additions (one chain would wait on each addition's latency), combined in a
// fixed order and then lane by lane: the same bits on every instruction set. The caller adds the
// values from n / 8 * 8 on.
template <typename F>
inline double sum_eights(int64_t n, F products) {
  Doubles8 lanes[4] = {};
  int64_t i = 0;
  for (; i + 32 <= n; i += 32)
    for (int c = 0; c < 4; ++c) lanes[c] += products(i + 8 * c);
  for (int c = 0; i + 8 <= n; i += 8, ++c) lanes[c] += products(i);
  const Doubles8 total = (lanes[0] + lanes[1]) + (lanes[2] + lanes[3]);
  double s = 0.0;
  for (int l = 0; l < 8; ++l) s += total[l];
  return s;
}

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

// ---- Elementwise math in plain arithmetic the compiler vectorises (a libm call per value would
// be most of an elementwise pass), for one value or 8, the same bits either way.

// A float's bits as an int32 and back, for one value or 8.
template <typename To, typename From>
inline To bit_cast(const From& v) {
  static_assert(sizeof(To) == sizeof(From));
  To t;
  std::memcpy(&t, &v, sizeof t);
  return t;
}
inline int32_t float_bits(float v) { return bit_cast<int32_t>(v); }
inline Ints8 float_bits(const Floats8& v) { return bit_cast<Ints8>(v); }
inline float bits_float(int32_t b) { return bit_cast<float>(b); }
inline Floats8 bits_float(const Ints8& b) { return bit_cast<Floats8>(b); }
inline int32_t to_int(float v) { return static_cast<int32_t>(v); }
inline Ints8 to_int(const Floats8& v) { return __builtin_convertvector(v, Ints8); }
inline float to_float(int32_t i) { return static_cast<float>(i); }
inline Floats8 to_float(const Ints8& i) { return __builtin_convertvector(i, Floats8); }

// e^z to within a few ulp: z = n ln 2 + r with |r| <= ln 2 / 2 (n rounded to nearest by the
// 1.5 * 2^23 trick), e^r by Cephes' degree-6 polynomial, 2^n through the exponent bits. The
// argument is clamped to [-87, 88], inside float's range.
inline float clamp_exp_arg(float z) { return std::min(88.0f, std::max(-87.0f, z)); }
inline Floats8 clamp_exp_arg(const Floats8& z) {
  const Floats8 lo = Floats8{} - 87.0f, hi = Floats8{} + 88.0f;
  const Floats8 above = z < lo ? lo : z;
  return above > hi ? hi : above;
}
template <typename T>
inline T exp_poly(const T& arg) {
  const T z = clamp_exp_arg(arg);
  constexpr float kRound = 12582912.0f;  // 1.5 * 2^23
  const T n = (z * 1.44269504088896341f + kRound) - kRound;
  const T r = (z - n * 0.693359375f) - n * -2.12194440e-4f;
  T p = r * 1.9875691500e-4f + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  return (p * r * r + r + 1.0f) * bits_float((to_int(n) + 127) << 23);
}

template <typename T>
inline T sigmoid(const T& z) {
  return 1.0f / (1.0f + exp_poly(-z));
}

// log(u) for u > 0 (finite), to within a few ulp: u = m 2^e with m in [sqrt(1/2), sqrt(2)), log m
// by Cephes' degree-9 polynomial in m - 1, e ln 2 in two parts.
template <typename T>
inline T log_poly(const T& u) {
  const auto bits = float_bits(u);
  const auto e = ((bits >> 23) & 0xff) - 126;
  const T m = bits_float((bits & 0x807fffff) | 0x3f000000);  // in [0.5, 1)
  const auto below = m < 0.707106781186547524f;
  const T x = below ? m + m - 1.0f : m - 1.0f;
  const T n = to_float(below ? e - 1 : e);
  const T z = x * x;
  T y = x * 7.0376836292e-2f - 1.1514610310e-1f;
  y = y * x + 1.1676998740e-1f;
  y = y * x - 1.2420140846e-1f;
  y = y * x + 1.4249322787e-1f;
  y = y * x - 1.6668057665e-1f;
  y = y * x + 2.0000714765e-1f;
  y = y * x - 2.4999993993e-1f;
  y = y * x + 3.3333331174e-1f;
  y = y * x * z + n * -2.12194440e-4f - 0.5f * z;
  return x + y + n * 0.693359375f;
}

}  // namespace gmn::cpu
