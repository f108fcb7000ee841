// Counter-based standard normal noise: the value with index c of stream `seed` is a pure function
// of (seed, c), so any slice can be made by any thread (or later a CUDA thread) and the generator's
// whole state is (seed, next index). The recipe, exactly:
//
//  1. j = floor(c / 2). Philox4x32-10 (Salmon et al., SC'11; Random123's philox4x32 with 10
//     rounds) of counter (j mod 2^32, floor(j / 2^32), 0, 0) and key (seed, 0) gives words w0..w3.
//     One round, with (hi, lo) the upper and lower 32 bits of a 64-bit product:
//       (hi0, lo0) = 0xD2511F53 * x0;  (hi1, lo1) = 0xCD9E8D57 * x2;
//       x = (hi1 ^ x1 ^ k0, lo1, hi0 ^ x3 ^ k1, lo0)
//     and between rounds the key is bumped: k0 += 0x9E3779B9, k1 += 0xBB67AE85 (mod 2^32).
//     (Known answer: counter 0 and key 0 give 6627e8d5 e169c58d bc57ac4c 9b00dbd8.)
//  2. Two 53-bit integers a = w0 * 2^21 + floor(w1 / 2^11), b = w2 * 2^21 + floor(w3 / 2^11);
//     u1 = (a + 1) / 2^53 in (0, 1] (so log u1 is finite), u2 = b / 2^53 in [0, 1).
//  3. Box-Muller in double: r = sqrt(-2 ln u1), t = 2 pi u2; value c is r cos t for even c and
//     r sin t for odd c, rounded to float. |value| <= sqrt(106 ln 2) ~ 8.57.
#include <cmath>

#include "../base/threadpool.h"
#include "../kernels/kernels.h"

namespace gmn::cpu {

namespace {

struct Words {
  uint32_t w[4];
};

Words philox4x32_10(uint64_t j, uint32_t seed) {
  uint32_t x0 = static_cast<uint32_t>(j), x1 = static_cast<uint32_t>(j >> 32), x2 = 0, x3 = 0;
  uint32_t k0 = seed, k1 = 0;
  for (int round = 0; round < 10; ++round) {
    if (round > 0) {
      k0 += 0x9E3779B9u;
      k1 += 0xBB67AE85u;
    }
    const uint64_t p0 = uint64_t(0xD2511F53u) * x0, p1 = uint64_t(0xCD9E8D57u) * x2;
    const uint32_t hi0 = uint32_t(p0 >> 32), lo0 = uint32_t(p0), hi1 = uint32_t(p1 >> 32), lo1 = uint32_t(p1);
    x0 = hi1 ^ x1 ^ k0;
    x1 = lo1;
    x2 = hi0 ^ x3 ^ k1;
    x3 = lo0;
  }
  return {{x0, x1, x2, x3}};
}

// The pair of normals (indices 2j and 2j + 1).
void normal_pair(uint64_t j, uint32_t seed, double* even, double* odd) {
  const Words r = philox4x32_10(j, seed);
  const double scale = 1.0 / 9007199254740992.0;  // 2^-53
  const uint64_t a = (uint64_t(r.w[0]) << 21) | (r.w[1] >> 11), b = (uint64_t(r.w[2]) << 21) | (r.w[3] >> 11);
  const double radius = std::sqrt(-2.0 * std::log(double(a + 1) * scale));
  const double angle = 6.283185307179586 * (double(b) * scale);
  *even = radius * std::cos(angle);
  *odd = radius * std::sin(angle);
}

}  // namespace

void random_normal(float* out, int64_t n, uint32_t seed, uint64_t offset) {
  parallel_for(n, 4096, [&](int64_t i0, int64_t i1) {
    int64_t i = i0;
    while (i < i1) {
      const uint64_t c = offset + uint64_t(i);
      double even, odd;
      normal_pair(c >> 1, seed, &even, &odd);
      if (c & 1) {
        out[i++] = static_cast<float>(odd);
      } else {
        out[i++] = static_cast<float>(even);
        if (i < i1) out[i++] = static_cast<float>(odd);
      }
    }
  });
}

}  // namespace gmn::cpu
