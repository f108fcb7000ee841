// conv2d as GEMMs that read the column matrix in place, with no im2col. A conv of stride s is the
// stride-1 VALID conv of the s*s phase planes of its zero-padded input ("space to depth"): plane
// (pa, pb, ci) at (i, j) is x[ci][s*i + pa - pad_top][s*j + pb - pad_left], and weight tap (a, b)
// of channel ci is tap (a / s, b / s) of that plane with pa = a % s, pb = b % s (taps past the kernel
// are zero). Stride-1 VALID convs run on a grid (Grid below). Small outputs and kernels that are
// not a multiple of the stride gather their columns explicitly instead (Columns). On AVX-512 most
// convs take direct kernels instead, below: same-size convs on flat runs (SameConv, Winograd),
// stride-2 convs of even kernels by plane rows (RowConv), the rest with up to 32 channels out by
// channel lanes (lane_conv; and the weight gradients, channel_lane_weight_grad); the grid and the
// columns are the AVX2 and portable paths' kernels and the fallback for more channels. The
// transposed conv (native/ops/conv_transpose2d.cc) is composed from these kernels: its output is a
// conv2d's input gradient.
#include <algorithm>
#include <cstring>
#include <memory>
#include <type_traits>
#include <utility>
#include <vector>

#ifdef __AVX512F__
#include <immintrin.h>
#endif

#include "../base/cpu_isa.h"
#include "../base/threadpool.h"
#include "../kernels/kernels.h"
#include "prelu.h"
#include "scratch.h"
#include "sgemm.h"
#include "transpose.h"
#include "vec8.h"

namespace gmn::cpu {

namespace {

inline int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

// Rows of a few dozen floats. Plain calls: GCC makes memmove and memset calls of vector-copy loops
// too, and a version in straight-line 8-float moves measured no faster.
inline void zero_row(float* p, int64_t n) { std::fill(p, p + n, 0.0f); }
inline void copy_row(const float* src, float* dst, int64_t n) { std::memcpy(dst, src, n * sizeof(float)); }
// dst (+)= src over a row: the sum as 8-float vectors, then the tail.
inline void store_row(const float* __restrict src, float* __restrict dst, int64_t n, bool accumulate) {
  if (!accumulate) return copy_row(src, dst, n);
  int64_t j = 0;
  for (; j + 8 <= n; j += 8) store8(dst + j, load8(dst + j) + load8(src + j));
  for (; j < n; ++j) dst[j] += src[j];
}
#ifdef __AVX512F__
// The lanes of a run of 16 that hold the first n (none for n <= 0, all for n >= 16).
inline __mmask16 first_lanes(int64_t n) {
  return static_cast<__mmask16>(n >= 16 ? 0xffff : n <= 0 ? 0 : (1u << n) - 1);
}
// Lane l of permutex2var(a, index, b): lane 2l of (a, b) (a's lanes then b's).
inline __m512i even_lanes() { return _mm512_set_epi32(30, 28, 26, 24, 22, 20, 18, 16, 14, 12, 10, 8, 6, 4, 2, 0); }
// Lanes 2j and 2j + 1 of permutex2var(a, index, b): a's and b's lane j, for the first 8 lanes (the
// next 8: index + 8).
inline __m512i pair_lanes() { return _mm512_set_epi32(23, 7, 22, 6, 21, 5, 20, 4, 19, 3, 18, 2, 17, 1, 16, 0); }

// acc[r][u] = sum over k < K in order of scalar(k, r) * load(k, u): R rows by U vectors in registers
// (indexed by constants only, or GCC keeps them in memory), each loaded vector used for the R
// rows' multiply-adds, each row's scalar broadcast for its U.
template <int R, int U, typename Scalar, typename Load>
inline void block_sums(int64_t K, Scalar scalar, Load load, __m512 (&acc)[R][U]) {
#pragma GCC unroll 12
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 3
    for (int u = 0; u < U; ++u) acc[r][u] = _mm512_setzero_ps();
  for (int64_t k = 0; k < K; ++k) {
    __m512 in[U];
#pragma GCC unroll 3
    for (int u = 0; u < U; ++u) in[u] = load(k, u);
#pragma GCC unroll 12
    for (int r = 0; r < R; ++r) {
      const __m512 x = _mm512_set1_ps(scalar(k, r));
#pragma GCC unroll 3
      for (int u = 0; u < U; ++u) acc[r][u] = _mm512_fmadd_ps(x, in[u], acc[r][u]);
    }
  }
}
#endif

// dst[j] = src[2j]: one column phase of a row at stride 2 (reading no further than src[2n - 2]).
inline void every_other(const float* __restrict src, float* __restrict dst, int64_t n) {
#ifdef __AVX512F__
  for (; n > 0; n -= 16, src += 32, dst += 16) {
    const int64_t read = 2 * std::min<int64_t>(n, 16) - 1;
    const __m512 lo = _mm512_maskz_loadu_ps(first_lanes(read), src);
    const __m512 hi = _mm512_maskz_loadu_ps(first_lanes(read - 16), src + 16);
    _mm512_mask_storeu_ps(dst, first_lanes(n), _mm512_permutex2var_ps(lo, even_lanes(), hi));
  }
#else
  for (int64_t j = 0; j < n; ++j) dst[j] = src[2 * j];
#endif
}
// z[2j] = a[j], z[2j + 1] = b[j]: the two column phases of a row at stride 2, as one row.
inline void interleave(const float* __restrict a, const float* __restrict b, float* __restrict z, int64_t n) {
#ifdef __AVX512F__
  for (; n > 0; n -= 16, a += 16, b += 16, z += 32) {
    const __mmask16 m = first_lanes(n);
    const __m512 x = _mm512_maskz_loadu_ps(m, a), y = _mm512_maskz_loadu_ps(m, b);
    _mm512_mask_storeu_ps(z, first_lanes(2 * n), _mm512_permutex2var_ps(x, pair_lanes(), y));
    _mm512_mask_storeu_ps(z + 16, first_lanes(2 * n - 16),
                          _mm512_permutex2var_ps(x, _mm512_add_epi32(pair_lanes(), _mm512_set1_epi32(8)), y));
  }
#else
  for (int64_t j = 0; j < n; ++j) z[2 * j] = a[j], z[2 * j + 1] = b[j];
#endif
}

// An NCHW tensor [N, C, H, W] seen as C * stride^2 planes of Hp x Wp: plane (pa * stride + pb) * C
// + c at (i, j) is element (c, stride*i + pa - top, stride*j + pb - left), zero outside the tensor.
struct Phases {
  int64_t C, H, W, stride, top, left, Hp, Wp;

  int64_t planes() const { return C * stride * stride; }

  // Plane p's channel c and row phase pa; its columns j inside the tensor are [lo, hi), at element
  // x0 + j * stride of their row.
  struct Map {
    int64_t c, pa, x0, lo, hi;
  };
  Map map(int64_t p) const {
    const int64_t phase = p / C, x0 = phase % stride - left;
    const int64_t lo = x0 >= 0 ? 0 : ceil_div(-x0, stride);
    return {p % C, phase / stride, x0, lo, std::max(lo, std::min(Wp, x0 < W ? (W - 1 - x0) / stride + 1 : 0))};
  }
  // The tensor row of plane row i, or -1 outside.
  int64_t row_of(const Map& m, int64_t i) const {
    const int64_t y = stride * i + m.pa - top;
    return y < 0 || y >= H ? -1 : y;
  }

  // Writes plane p of image `img` ([C, H, W]) into out [Hp, Wp], its rows ld apart (ld >= Wp).
  void gather(const float* img, int64_t p, float* out, int64_t ld) const {
    const Map m = map(p);
    for (int64_t i = 0; i < Hp; ++i, out += ld) {
      const int64_t y = row_of(m, i);
      if (y < 0 || m.lo > 0 || m.hi < Wp) zero_row(out, Wp);  // padding, then the row's columns over it
      if (y < 0) continue;
      const float* src = img + (m.c * H + y) * W + m.x0;
      if (stride == 1) copy_row(src + m.lo, out + m.lo, m.hi - m.lo);
      else if (stride == 2) every_other(src + 2 * m.lo, out + m.lo, m.hi - m.lo);
      else
        for (int64_t j = m.lo; j < m.hi; ++j) out[j] = src[j * stride];
    }
  }
  // Stores (or adds) into image `img` the planes of plane p's row phase and channel, one per column
  // phase pb (p is the first's, pb = 0), their rows ld apart from src + pb * step; entries outside
  // the image are dropped. At stride 2 the two phases' rows are interleaved into one image row
  // first, and stored as one contiguous row.
  void scatter(const float* src, int64_t step, int64_t ld, int64_t p, float* img, bool accumulate) const {
    const Map m = map(p);
    thread_local std::vector<float> row;
    const bool pairs = stride == 2 && left >= 0;
    float* z = pairs ? scratch(row, 2 * Wp) : nullptr;
    const int64_t n = std::min(W, stride * Wp - left);  // the image columns the phases cover
    for (int64_t i = 0, at = 0; i < Hp; ++i, at += ld) {
      const int64_t y = row_of(m, i);
      if (y < 0) continue;
      float* dst = img + (m.c * H + y) * W;
      if (stride == 1) {
        store_row(src + at + m.lo, dst + m.x0 + m.lo, m.hi - m.lo, accumulate);
      } else if (pairs) {
        interleave(src + at, src + step + at, z, Wp);
        store_row(z + left, dst, n, accumulate);
      } else {
        for (int64_t pb = 0; pb < stride; ++pb) {
          const Map mb = map(p + pb * C);
          float* d = dst + mb.x0;
          const float* from = src + pb * step + at;
          for (int64_t j = mb.lo; j < mb.hi; ++j) d[j * stride] = accumulate ? d[j * stride] + from[j] : from[j];
        }
      }
    }
  }
  // Zeroes the elements of image `img` no plane position covers (below and right of the planes).
  void zero_uncovered(float* img) const {
    if (H + top <= stride * Hp && W + left <= stride * Wp) return;  // the planes cover it all
    for (int64_t c = 0; c < C; ++c)
      for (int64_t y = 0; y < H; ++y) {
        float* row = img + (c * H + y) * W;
        const int64_t covered = y + top >= stride * Hp ? 0 : std::clamp<int64_t>(stride * Wp - left, 0, W);
        zero_row(row + covered, W - covered);
      }
  }
};

// A stride-1 VALID conv of [N, C, Hp, Wp] planes with a [Co, C, kh, kw] kernel to [N, Co, Ho, Wo],
// Ho = Hp - kh + 1, Wo = Wp - kw + 1, computed on a grid: the planes of the G images of a group are
// stored channel by channel, xp[c][g][Hp][Wp]. Output (g, i, j) is grid column q = (g * Hp + i) *
// Wp + j, and the column matrix's row (c, a, b) at column q is xp[off(c, a, b) + q] with off = c *
// G * Hp * Wp + a * Wp + b: the GEMM reads those rows in place (sgemm_rows). Columns outside the
// output (j >= Wo or i >= Ho) are computed and dropped; for the weight gradient their output
// gradient is zero.
struct Grid {
  int64_t C, Hp, Wp, kh, kw, G, plane, Q;
  std::vector<int64_t> off;

  Grid(int64_t C_, int64_t Hp_, int64_t Wp_, int64_t kh_, int64_t kw_, int64_t G_)
      : C(C_), Hp(Hp_), Wp(Wp_), kh(kh_), kw(kw_), G(G_), plane(Hp_ * Wp_), Q(G_ * Hp_ * Wp_) {
    off.reserve(static_cast<size_t>(C * kh * kw));
    for (int64_t c = 0; c < C; ++c)
      for (int64_t a = 0; a < kh; ++a)
        for (int64_t b = 0; b < kw; ++b) off.push_back(c * Q + a * Wp + b);
  }
  int64_t K() const { return C * kh * kw; }
  // Rows of the last plane read past C * Q by up to this much: zeros.
  int64_t size() const { return C * Q + (kh - 1) * Wp + kw; }
  int64_t Ho() const { return Hp - kh + 1; }
  int64_t Wo() const { return Wp - kw + 1; }

  // xp for images [n0, n0 + G) of the NCHW tensor t [N, ...] seen as phases `in`.
  void fill(const float* t, const Phases& in, int64_t n0, float* xp) const {
    const int64_t image = in.C * in.H * in.W;
    for (int64_t c = 0; c < C; ++c)
      for (int64_t g = 0; g < G; ++g) in.gather(t + (n0 + g) * image, c, xp + c * Q + g * plane, Wp);
    std::fill(xp + C * Q, xp + size(), 0.0f);
  }
};

// The weight gradients' sums per part of the images, [parts][K][Co]: the calling thread's buffer
// kept between calls (a fresh one of this size faults in its pages every call), its rows of Co on
// cache lines.
float* part_sums(int64_t n) {
  thread_local std::vector<float> buffer;
  return aligned_scratch(buffer, n);
}

// Images per grid GEMM: about kGridColumns columns.
constexpr int64_t kGridColumns = 2048;
// The weight gradient is summed per part of the images, then the parts in order: a fixed split
// (it depends on N only), so the result does not depend on the thread count.
constexpr int64_t kWeightGradParts = 16;
// The smallest images and channel counts that Winograd's form of a 3x3 same conv takes (winograd()).
constexpr int64_t kWinogradPixels = 400, kWinogradChannels = 4;
// Output pixels a block of lane_conv holds in registers.
constexpr int kLanePixels = 12;

// out (+)= the stride-1 VALID conv of the planes `in` of x with w [Co, in.planes(), kh, kw]; its
// output planes [Co, Ho, Wo] are stored as the planes `out` of y. Groups of images run in
// parallel (the grouping does not change the sums).
void grid_conv(const float* x, const Phases& in, const float* w, int64_t Co, int64_t kh, int64_t kw, float* y,
               const Phases& out, int64_t N, bool accumulate) {
  const int64_t plane = in.Hp * in.Wp, threads = parallel_width();
  const int64_t wanted = ceil_div(N * plane, kGridColumns);
  const int64_t groups = std::min(N, ceil_div(wanted, threads) * threads), G = ceil_div(N, groups);
  const int64_t out_image = out.C * out.H * out.W;
  const auto run = [&](int64_t c0, int64_t c1) {
    thread_local std::vector<float> xp, result;
    for (int64_t n0 = c0 * G; n0 < std::min(N, c1 * G); n0 += G) {
      const Grid& grid = plan<Grid>(in.planes(), in.Hp, in.Wp, kh, kw, std::min(G, N - n0));
      grid.fill(x, in, n0, scratch(xp, grid.size()));
      float* r = scratch(result, Co * grid.Q);
      sgemm_rows(false, false, Co, grid.Q, grid.K(), 1.0f, w, grid.K(), xp.data(), grid.off.data(), 0.0f, r, grid.Q);
      for (int64_t g = 0; g < grid.G; ++g) {
        float* img = y + (n0 + g) * out_image;
        if (!accumulate) out.zero_uncovered(img);
        // The planes of one row phase and channel, one per column phase, go together.
        for (int64_t c = 0; c < Co; ++c)
          if ((c / out.C) % out.stride == 0)  // the others are stored with their first column phase
            out.scatter(r + c * grid.Q + g * plane, out.C * grid.Q, grid.Wp, c, img, accumulate);
      }
    }
  };
  const int64_t chunks = ceil_div(N, G);
  if (chunks == 1) run(0, 1);  // one GEMM: its own threads
  else parallel_for(chunks, 1, run);
}

#ifdef __AVX512F__

// ---- Stride-1 convs whose output has the input's size (padding around it), on AVX-512: each
// image's planes are read as flat runs of 16 pixels, output pixel p's tap (a, b) being input pixel
// p + (a - top) * W + (b - left) of its channel, a lane mask dropping the taps that fall in the
// padding (or past the image): no padded copy of the input and no cropped copy of the output, and
// every lane a pixel of the output but in the last run. 8 output channels by up to 3 runs in
// registers. Each output is the grid GEMM's sum: its K = C * kh * kw products in the order (c, a,
// b) as fused multiply-adds, padding included as zeros, a new partial sum every kSgemmDepth
// products, as in sgemm's slices: the same bits as grid_conv.
// SameConv's shifts and lane masks for an H x W image and a kh x kw kernel at (top, left).
struct SameTaps {
  int64_t HW, taps, V;
  std::vector<int64_t> shift;     // [taps]: tap (a, b)'s input pixel less the output pixel
  std::vector<__mmask16> mask;    // [V][taps]: the lanes of run v whose tap is inside the image

  SameTaps(int64_t H, int64_t W, int64_t kh, int64_t kw, int64_t top, int64_t left)
      : HW(H * W), taps(kh * kw), V(ceil_div(H * W, 16)) {
    for (int64_t a = 0; a < kh; ++a)
      for (int64_t b = 0; b < kw; ++b) shift.push_back((a - top) * W + (b - left));
    for (int64_t v = 0; v < V; ++v)
      for (int64_t a = 0; a < kh; ++a)
        for (int64_t b = 0; b < kw; ++b) {
          uint32_t m = 0;
          for (int64_t l = 0; l < 16; ++l) {
            const int64_t p = v * 16 + l, i = p / W + a - top, j = p % W + b - left;
            if (p < HW && i >= 0 && i < H && j >= 0 && j < W) m |= 1u << l;
          }
          mask.push_back(static_cast<__mmask16>(m));
        }
  }
};

// What the same-size kernels (SameConv, Winograd, lane_conv) add to their sums and store beside
// them (the residual blocks, residual_block_*): out = ((accumulate ? out : 0) + residual) + sum, then
// prelu(out, slope[co]) + addend in activated, as the add and prelu kernels compute them. The
// residual, addend and activated tensors have the output's shape.
struct Epilogue {
  const float* residual = nullptr;
  const float* slope = nullptr;  // with activated
  float* activated = nullptr;
  const float* addend = nullptr;  // added to activated after the PReLU (as the add kernel does)

  // The PReLU and the addend on image n of out ([C][HW]), in cache (serial: inside a parallel region).
  void activate(const float* out, int64_t n, int64_t C, int64_t HW) const {
    if (!activated) return;
    float* y = activated + n * C * HW;
    prelu_forward(out + n * C * HW, slope, y, 1, C, HW);
    if (addend) add_forward(y, addend + n * C * HW, y, C * HW);
  }
};

class SameConv {
 public:
  // x [N, C, H, W] -> y [N, Co, H, W] with w [Co, C, kh, kw].
  SameConv(const float* w, int64_t C, int64_t Co, int64_t H, int64_t W, int64_t kh, int64_t kw, int64_t top,
           int64_t left)
      : C_(C), Co_(Co), K_(C * kh * kw), t_(plan<SameTaps>(H, W, kh, kw, top, left)) {
    // The weights by blocks of 8 output channels, [block][k][8], zeros past Co.
    const int64_t blocks = ceil_div(Co, 8);
    thread_local std::vector<float> blocked;
    float* b = scratch(blocked, blocks * K_ * 8);
    std::fill(b, b + blocks * K_ * 8, 0.0f);
    for (int64_t co = 0; co < Co; ++co)
      for (int64_t k = 0; k < K_; ++k) b[((co / 8) * K_ + k) * 8 + co % 8] = w[co * K_ + k];
    weights_ = b;
  }

  void run(const float* x, float* y, int64_t N, bool accumulate, const Epilogue& e = {}) const {
    const int64_t size = Co_ * t_.HW;  // one image's output
    parallel_for(N, 1, [&](int64_t n0, int64_t n1) {
      for (int64_t n = n0; n < n1; ++n) {
        // The epilogue's passes over one image's output, in cache (a load of the residual inside
        // the tiles, or a store of the activation there, misses on every stretch).
        bool sum_into = accumulate;
        if (e.residual) {
          store_row(e.residual + n * size, y + n * size, size, accumulate);
          sum_into = true;
        }
        for (int64_t v = 0; v < t_.V;) {
          // Runs of 3, the last four as two of 2: one run alone does a third of the multiply-adds
          // per load.
          const int64_t pv = t_.V - v == 4 ? 2 : std::min<int64_t>(3, t_.V - v);
          for (int64_t co = 0; co < Co_; co += 8) {  // the blocks over one stretch of the image, in L1
            const float* image = x + n * C_ * t_.HW;
            float* out = y + (n * Co_ + co) * t_.HW;
            const int rows = static_cast<int>(std::min<int64_t>(8, Co_ - co));
            const float* wb = weights_ + (co / 8) * K_ * 8;
            if (pv == 3) tile<3>(image, wb, v, out, rows, sum_into);
            else if (pv == 2) tile<2>(image, wb, v, out, rows, sum_into);
            else tile<1>(image, wb, v, out, rows, sum_into);
          }
          v += pv;
        }
        e.activate(y, n, Co_, t_.HW);
      }
    });
  }

 private:
  // Output channels [0, rows) of out (the block's first channel) at runs [v0, v0 + PV): each slice
  // of kSgemmDepth products summed in registers (the accumulators indexed by constants only, or
  // GCC keeps them in memory), the partial sums of earlier slices kept in `total`.
  template <int PV>
  void tile(const float* x, const float* wb, int64_t v0, float* out, int rows, bool accumulate) const {
    alignas(64) float total[8][PV * 16];
    // Members in locals: the stores below could alias them for the compiler.
    const int64_t taps = t_.taps, HW = t_.HW, K = K_;
    const int64_t* __restrict shift = t_.shift.data();
    const __mmask16* __restrict masks = t_.mask.data() + v0 * taps;
    for (int64_t k0 = 0; k0 < K; k0 += kSgemmDepth) {
      const int64_t k1 = std::min(K, k0 + kSgemmDepth);
      __m512 acc[8][PV];
#pragma GCC unroll 8
      for (int r = 0; r < 8; ++r)
#pragma GCC unroll 3
        for (int u = 0; u < PV; ++u) acc[r][u] = _mm512_setzero_ps();
      int64_t c = k0 / taps, t = k0 % taps;
      for (int64_t k = k0; k < k1; ++k) {
        const float* src = x + c * HW + v0 * 16 + shift[t];
        __m512 in[PV];
#pragma GCC unroll 3
        for (int u = 0; u < PV; ++u) in[u] = _mm512_maskz_loadu_ps(masks[u * taps + t], src + 16 * u);
        const float* wk = wb + k * 8;
#pragma GCC unroll 8
        for (int r = 0; r < 8; ++r) {
          const __m512 wr = _mm512_set1_ps(wk[r]);
#pragma GCC unroll 3
          for (int u = 0; u < PV; ++u) acc[r][u] = _mm512_fmadd_ps(wr, in[u], acc[r][u]);
        }
        if (++t == taps) t = 0, ++c;
      }
#pragma GCC unroll 8
      for (int r = 0; r < 8; ++r)
#pragma GCC unroll 3
        for (int u = 0; u < PV; ++u) {
          __m512 v = acc[r][u];
          if (k0 > 0) v = _mm512_add_ps(_mm512_load_ps(total[r] + 16 * u), v);
          if (k1 < K) {
            _mm512_store_ps(total[r] + 16 * u, v);
          } else if (r < rows) {
            const int64_t p = (v0 + u) * 16;
            const __mmask16 m = first_lanes(HW - p);
            float* o = out + r * HW + p;
            if (accumulate) v = _mm512_add_ps(_mm512_maskz_loadu_ps(m, o), v);
            _mm512_mask_storeu_ps(o, m, v);
          }
        }
    }
  }

  int64_t C_, Co_, K_;
  const SameTaps& t_;
  const float* weights_;  // the calling thread's buffer
};

// ---- 3x3 stride-1 convs with padding 1 (the same size out) on AVX-512, as Winograd's F(2x2, 3x3)
// (Lavin and Gray, "Fast algorithms for convolutional neural networks", 2016): each 2x2 output
// tile is A^T [(G w G^T) . (B^T d B)] A for the 4x4 input patch d around it, 16 products a channel
// pair where the direct sum takes 36, so 2.25x fewer multiply-adds, plus the transforms. Per image
// (in cache): the patches' 16 transformed values V [16][C][T] (T = tiles, a row of tiles in the
// lanes of one vector, so W <= 30), then per transformed position a product M [16][Co][T] = U [16]
// [Co][C] V, and the output transform of M into the image. The weight gradient is the transpose:
// dU[pos] = sum over tiles of D[pos] V[pos]^T, with D = A dy_tile A^T, then dw = G^T dU G. Other
// sums than the direct kernels, so other last bits than GMN_CPU=avx2's (within the conv tests'
// float64 tolerance); the same bits for any thread count.
constexpr int kTile = 16;  // transformed positions per patch (4 x 4)

// Lane J of a row of tiles at lane 2J + b of a 32-float window (two vectors), b = 0..3: the
// window_at(b) indices (lanes past the tiles read anything).
inline __m512i window_index(int b) {
  return _mm512_add_epi32(_mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30),
                          _mm512_set1_epi32(b));
}
inline __m512 window_at(__m512 lo, __m512 hi, __m512i index) { return _mm512_permutex2var_ps(lo, index, hi); }

struct WinogradShape {
  int64_t H, W, TH, TW, T, Tp;  // tiles TH x TW, T of them, rows of Tp (whole vectors)
  WinogradShape(int64_t H, int64_t W)
      : H(H), W(W), TH(ceil_div(H, 2)), TW(ceil_div(W, 2)), T(TH * TW), Tp(ceil_div(T, 16) * 16) {}
  // The distance between positions in a buffer [16][rows][Tp]: a cache line more than the rows, or
  // at 16 rows of 64 the 16 rows of a tile would share one set of the L1 cache (4 KiB apart).
  int64_t plane(int64_t rows) const { return rows * Tp + 16; }
  int64_t buffer(int64_t rows) const { return kTile * plane(rows); }
  // Zeros in the last vector of a channel's 16 rows (the lanes past the tiles, which lane_sums
  // reads), before the transform writes the tiles' lanes.
  void zero_tail(float* row, int64_t pos_stride) const {
    for (int pos = 0; pos < kTile; ++pos) _mm512_store_ps(row + pos * pos_stride + Tp - 16, _mm512_setzero_ps());
  }

  // V [16][C][Tp] from an image's C planes: B^T d B of each patch (rows 2I - 1 to 2I + 2, columns
  // 2J - 1 to 2J + 2, zero outside the image), the rows' tails zero.
  void input_transform(const float* image, int64_t C, float* V) const {
    const int64_t H = this->H, W = this->W, TH = this->TH, TW = this->TW, Tp = this->Tp, pos_stride = plane(C);
    const __mmask16 lo_mask = static_cast<__mmask16>(first_lanes(W + 1) & ~1u), hi_mask = first_lanes(W - 15);
    const __mmask16 tiles = first_lanes(TW);
    const __m512i index[4] = {window_index(0), window_index(1), window_index(2), window_index(3)};
    for (int64_t c = 0; c < C; ++c) {
      float* Vc = V + c * Tp;
      zero_tail(Vc, pos_stride);
      for (int64_t I = 0; I < TH; ++I) {
        __m512 w[4][2];  // rows 2I - 1 + a, lane l at column l - 1
#pragma GCC unroll 4
        for (int a = 0; a < 4; ++a) {
          const int64_t r = 2 * I - 1 + a;
          const float* row = image + (c * H + r) * W;
          const bool inside = r >= 0 && r < H;
          w[a][0] = _mm512_maskz_loadu_ps(inside ? lo_mask : 0, row - 1);
          w[a][1] = _mm512_maskz_loadu_ps(inside ? hi_mask : 0, row + 15);
        }
        __m512 t[4][2];  // B^T down the rows: w0 - w2, w1 + w2, w2 - w1, w1 - w3
#pragma GCC unroll 2
        for (int h = 0; h < 2; ++h) {
          t[0][h] = _mm512_sub_ps(w[0][h], w[2][h]), t[1][h] = _mm512_add_ps(w[1][h], w[2][h]);
          t[2][h] = _mm512_sub_ps(w[2][h], w[1][h]), t[3][h] = _mm512_sub_ps(w[1][h], w[3][h]);
        }
        float* out = Vc + I * TW;
#pragma GCC unroll 4
        for (int a = 0; a < 4; ++a) {  // and B along the columns
          const __m512 c0 = window_at(t[a][0], t[a][1], index[0]), c1 = window_at(t[a][0], t[a][1], index[1]);
          const __m512 c2 = window_at(t[a][0], t[a][1], index[2]), c3 = window_at(t[a][0], t[a][1], index[3]);
          float* o = out + a * 4 * pos_stride;
          _mm512_mask_storeu_ps(o, tiles, _mm512_sub_ps(c0, c2));
          _mm512_mask_storeu_ps(o + pos_stride, tiles, _mm512_add_ps(c1, c2));
          _mm512_mask_storeu_ps(o + 2 * pos_stride, tiles, _mm512_sub_ps(c2, c1));
          _mm512_mask_storeu_ps(o + 3 * pos_stride, tiles, _mm512_sub_ps(c1, c3));
        }
      }
    }
  }

  // D [16][Co][Tp] from an image's output gradient dy [Co][H][W]: A dy_tile A^T of each 2x2 tile
  // (zero past the image), the rows' tails zero.
  void gradient_transform(const float* dy, int64_t Co, float* D) const {
    const int64_t H = this->H, W = this->W, TH = this->TH, TW = this->TW, Tp = this->Tp, pos_stride = plane(Co);
    const __mmask16 lo_mask = first_lanes(W), hi_mask = first_lanes(W - 16), tiles = first_lanes(TW);
    const __m512i even = window_index(0), odd = window_index(1);
    const __m512 zero = _mm512_setzero_ps();
    for (int64_t co = 0; co < Co; ++co) {
      float* Dc = D + co * Tp;
      zero_tail(Dc, pos_stride);
      for (int64_t I = 0; I < TH; ++I) {
        __m512 e[4][2];  // A down the rows: d0, d0 + d1, d0 - d1, -d1 (lane l at column l)
        const bool second = 2 * I + 1 < H;
#pragma GCC unroll 2
        for (int h = 0; h < 2; ++h) {
          const float* row = dy + (co * H + 2 * I) * W + 16 * h;
          const __mmask16 m = h ? hi_mask : lo_mask;
          const __m512 d0 = _mm512_maskz_loadu_ps(m, row), d1 = _mm512_maskz_loadu_ps(second ? m : 0, row + W);
          e[0][h] = d0, e[1][h] = _mm512_add_ps(d0, d1), e[2][h] = _mm512_sub_ps(d0, d1), e[3][h] = _mm512_sub_ps(zero, d1);
        }
        float* out = Dc + I * TW;
#pragma GCC unroll 4
        for (int a = 0; a < 4; ++a) {  // and A^T along the columns: columns 2J and 2J + 1
          const __m512 c0 = window_at(e[a][0], e[a][1], even), c1 = window_at(e[a][0], e[a][1], odd);
          float* o = out + a * 4 * pos_stride;
          _mm512_mask_storeu_ps(o, tiles, c0);
          _mm512_mask_storeu_ps(o + pos_stride, tiles, _mm512_add_ps(c0, c1));
          _mm512_mask_storeu_ps(o + 2 * pos_stride, tiles, _mm512_sub_ps(c0, c1));
          _mm512_mask_storeu_ps(o + 3 * pos_stride, tiles, _mm512_sub_ps(zero, c1));
        }
      }
    }
  }

  // out (+)= A^T M A of each tile of M [16][Co][Tp] into the image out [Co][H][W].
  void output_transform(const float* M, int64_t Co, float* out, bool accumulate) const {
    const int64_t H = this->H, W = this->W, TH = this->TH, TW = this->TW, Tp = this->Tp, pos_stride = plane(Co);
    // Output columns 2J and 2J + 1 from lane J of two vectors: columns 0-15, then 16-31.
    const __m512i first = _mm512_setr_epi32(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
    const __m512i second = _mm512_add_epi32(first, _mm512_set1_epi32(8));
    const __mmask16 lo_mask = first_lanes(W), hi_mask = first_lanes(W - 16), tiles = first_lanes(TW);
    for (int64_t co = 0; co < Co; ++co)
      for (int64_t I = 0; I < TH; ++I) {
        const float* m = M + co * Tp + I * TW;
        __m512 r[2][4];  // A^T down the rows: m0 + m1 + m2, m1 - m2 - m3
#pragma GCC unroll 4
        for (int b = 0; b < 4; ++b) {
          const __m512 m0 = _mm512_maskz_loadu_ps(tiles, m + b * pos_stride);
          const __m512 m1 = _mm512_maskz_loadu_ps(tiles, m + (4 + b) * pos_stride);
          const __m512 m2 = _mm512_maskz_loadu_ps(tiles, m + (8 + b) * pos_stride);
          const __m512 m3 = _mm512_maskz_loadu_ps(tiles, m + (12 + b) * pos_stride);
          r[0][b] = _mm512_add_ps(_mm512_add_ps(m0, m1), m2);
          r[1][b] = _mm512_sub_ps(_mm512_sub_ps(m1, m2), m3);
        }
#pragma GCC unroll 2
        for (int i = 0; i < 2; ++i) {  // and A along the columns
          if (2 * I + i >= H) break;
          const __m512 y0 = _mm512_add_ps(_mm512_add_ps(r[i][0], r[i][1]), r[i][2]);
          const __m512 y1 = _mm512_sub_ps(_mm512_sub_ps(r[i][1], r[i][2]), r[i][3]);
          float* row = out + (co * H + 2 * I + i) * W;
          __m512 lo = _mm512_permutex2var_ps(y0, first, y1), hi = _mm512_permutex2var_ps(y0, second, y1);
          if (accumulate) {
            lo = _mm512_add_ps(_mm512_maskz_loadu_ps(lo_mask, row), lo);
            hi = _mm512_add_ps(_mm512_maskz_loadu_ps(hi_mask, row + 16), hi);
          }
          _mm512_mask_storeu_ps(row, lo_mask, lo);
          _mm512_mask_storeu_ps(row + 16, hi_mask, hi);
        }
      }
  }
};

// G g G^T of a 3x3 kernel g (rows of 3): u[p * 4 + q].
inline void weight_transform(const float* g, float* u) {
  float t[4][3];  // G g
  for (int b = 0; b < 3; ++b) {
    t[0][b] = g[b], t[3][b] = g[6 + b];
    t[1][b] = 0.5f * (g[b] + g[3 + b] + g[6 + b]), t[2][b] = 0.5f * (g[b] - g[3 + b] + g[6 + b]);
  }
  for (int p = 0; p < 4; ++p) {
    u[p * 4 + 0] = t[p][0], u[p * 4 + 3] = t[p][2];
    u[p * 4 + 1] = 0.5f * (t[p][0] + t[p][1] + t[p][2]), u[p * 4 + 2] = 0.5f * (t[p][0] - t[p][1] + t[p][2]);
  }
}

class Winograd {
 public:
  // x [N, C, H, W] -> y [N, Co, H, W] with w [Co, C, 3, 3]; or with input_grad, dy [N, Co, H, W] ->
  // dx [N, C, H, W] with w read as [C, Co, 3, 3] transposed and flipped (the input gradient's kernel).
  Winograd(const float* w, int64_t C, int64_t Co, int64_t H, int64_t W, bool input_grad)
      : C_(input_grad ? Co : C), Co_(input_grad ? C : Co), s_(H, W) {
    // U by blocks of 8 output channels, [pos][block][c][8], zeros past Co.
    const int64_t blocks = ceil_div(Co_, 8);
    thread_local std::vector<float> blocked;
    float* b = aligned_scratch(blocked, kTile * blocks * C_ * 8);
    std::fill(b, b + kTile * blocks * C_ * 8, 0.0f);
    for (int64_t co = 0; co < Co_; ++co)
      for (int64_t c = 0; c < C_; ++c) {
        float g[9], u[kTile];
        for (int t = 0; t < 9; ++t) g[t] = input_grad ? w[(c * C + co) * 9 + 8 - t] : w[(co * C + c) * 9 + t];
        weight_transform(g, u);
        for (int pos = 0; pos < kTile; ++pos) b[((pos * blocks + co / 8) * C_ + c) * 8 + co % 8] = u[pos];
      }
    weights_ = b;
  }

  void run(const float* x, float* y, int64_t N, bool accumulate, const Epilogue& e = {}) const {
    const int64_t HW = s_.H * s_.W, size = Co_ * HW;
    parallel_for(N, 1, [&](int64_t n0, int64_t n1) {
      for (int64_t n = n0; n < n1; ++n) {
        image(x + n * C_ * HW, y + n * size, accumulate, e.residual ? e.residual + n * size : nullptr);
        e.activate(y, n, Co_, HW);
      }
    });
  }

  // One image: out (+)= residual + the conv of in ([C][H][W] -> [Co][H][W]), the residual copied
  // in before the sums (the epilogue's order).
  void image(const float* in, float* out, bool accumulate, const float* residual) const {
    thread_local std::vector<float> v_buffer, m_buffer;
    float* V = aligned_scratch(v_buffer, s_.buffer(C_));
    float* M = aligned_scratch(m_buffer, s_.buffer(Co_));
    s_.input_transform(in, C_, V);
    for (int pos = 0; pos < kTile; ++pos) product(pos, V + pos * s_.plane(C_), M + pos * s_.plane(Co_));
    bool sum_into = accumulate;
    if (residual) {
      store_row(residual, out, Co_ * s_.H * s_.W, accumulate);
      sum_into = true;
    }
    s_.output_transform(M, Co_, out, sum_into);
  }

 private:
  // M [Co][Tp] = U[pos] [Co][C] V [C][Tp]: 8 output channels by up to 3 vectors of tiles.
  void product(int pos, const float* V, float* M) const {
    const int64_t vectors = s_.Tp / 16, blocks = ceil_div(Co_, 8);
    for (int64_t v = 0; v < vectors;) {
      const int64_t pv = vectors - v == 4 ? 2 : std::min<int64_t>(3, vectors - v);
      for (int64_t cb = 0; cb < blocks; ++cb) {
        const float* u = weights_ + (pos * blocks + cb) * C_ * 8;
        const int rows = static_cast<int>(std::min<int64_t>(8, Co_ - cb * 8));
        float* out = M + cb * 8 * s_.Tp + v * 16;
        if (pv == 3) tile<3>(V + v * 16, u, out, rows);
        else if (pv == 2) tile<2>(V + v * 16, u, out, rows);
        else tile<1>(V + v * 16, u, out, rows);
      }
      v += pv;
    }
  }

  template <int PV>
  void tile(const float* V, const float* u, float* out, int rows) const {
    const int64_t Tp = s_.Tp;
    __m512 acc[8][PV];
    block_sums(C_, [&](int64_t c, int r) { return u[c * 8 + r]; },
               [&](int64_t c, int j) { return _mm512_load_ps(V + c * Tp + 16 * j); }, acc);
#pragma GCC unroll 8
    for (int r = 0; r < 8; ++r)
      if (r < rows)
#pragma GCC unroll 3
        for (int j = 0; j < PV; ++j) _mm512_store_ps(out + r * Tp + 16 * j, acc[r][j]);
  }

  int64_t C_, Co_;
  WinogradShape s_;
  const float* weights_;  // the calling thread's buffer
};

// Where Winograd runs: AVX-512 chosen, a 3x3 kernel at stride 1 with padding 1 (the output the
// input's size), a row of tiles in one vector (W <= 30), and images and channels large enough
// that the 2.25x fewer multiply-adds pay for the transforms.
bool winograd(const Conv2dShape& s) {
  return cpu_isa().active == CpuIsa::Avx512 && s.kh == 3 && s.kw == 3 && s.stride == 1 && s.pad_top == 1 &&
         s.pad_left == 1 && s.Ho == s.H && s.Wo == s.W && s.W <= 30 && s.H * s.W >= kWinogradPixels &&
         std::min(s.Ci, s.Co) >= kWinogradChannels;
}

// Where SameConv (or, where winograd(s), Winograd) runs: AVX-512 chosen (GMN_CPU=avx2 takes the
// grid, with SameConv's bits), stride 1, the output the input's size, images of more than one run
// of 16 pixels.
bool same_size(const Conv2dShape& s) {
  return cpu_isa().active == CpuIsa::Avx512 && s.stride == 1 && s.Ho == s.H && s.Wo == s.W && s.H * s.W > 16;
}
#else
bool same_size(const Conv2dShape&) { return false; }
#endif

// The conv s as phases: x's planes, the phased kernel's size, and the output seen as planes.
struct Phased {
  Phases x, y;
  int64_t kh, kw;
  explicit Phased(const Conv2dShape& s)
      : kh(ceil_div(s.kh, s.stride)), kw(ceil_div(s.kw, s.stride)) {
    x = {s.Ci, s.H, s.W, s.stride, s.pad_top, s.pad_left, s.Ho + kh - 1, s.Wo + kw - 1};
    y = {s.Co, s.Ho, s.Wo, 1, 0, 0, s.Ho, s.Wo};
  }
  // Calls f(e, co, p, t, src) for tap t = a' * kw + b' of plane p and output channel co of the phased
  // kernel [Co, planes, kh, kw], e its index there, src the index of w's tap (co, ci, a' * stride +
  // pa, b' * stride + pb) for plane p = (pa * stride + pb) * Ci + ci, or -1 past the kernel. The
  // plane's decomposition once per plane: these tables are rebuilt at every call.
  template <typename F>
  void each_tap(const Conv2dShape& s, F f) const {
    const int64_t P = x.planes(), taps = kh * kw;
    for (int64_t co = 0; co < s.Co; ++co)
      for (int64_t p = 0; p < P; ++p) {
        const int64_t ci = p % s.Ci, phase = p / s.Ci, pa = phase / s.stride, pb = phase % s.stride;
        const int64_t channel = (co * s.Ci + ci) * s.kh;
        for (int64_t a = 0, t = 0; a < kh; ++a)
          for (int64_t b = 0; b < kw; ++b, ++t) {
            const int64_t ka = a * s.stride + pa, kb = b * s.stride + pb;
            f((co * P + p) * taps + t, co, p, t, ka < s.kh && kb < s.kw ? (channel + ka) * s.kw + kb : -1);
          }
      }
  }
};

// The phased kernel [Co, planes, kh, kw], or with flip its flipped transpose [planes, Co, kh, kw]
// (the input gradient's kernel).
// In the calling thread's buffer, valid until its next call.
const float* phased_weights(const float* w, const Conv2dShape& s, const Phased& ph, bool flip) {
  const int64_t P = ph.x.planes(), taps = ph.kh * ph.kw;
  thread_local std::vector<float> buffer;
  float* out = scratch(buffer, s.Co * P * taps);
  ph.each_tap(s, [&](int64_t e, int64_t co, int64_t p, int64_t t, int64_t src) {
    out[flip ? (p * s.Co + co) * taps + (taps - 1 - t) : e] = src < 0 ? 0.0f : w[src];
  });
  return out;
}

#ifdef __AVX512F__
// Where a same-size conv wastes fewer lanes with its output channels in lanes (lane_conv) than as
// flat runs (SameConv): two vectors of channels out, the first full, and pixels that fill blocks
// of kLanePixels better than runs of 16 (6x6: 36 of 36 against 36 of 48).
bool lanes_beat_runs(const Conv2dShape& s, bool input_grad) {
  const int64_t C = input_grad ? s.Ci : s.Co, P = s.H * s.W;
  if (C <= 16 || C > 32) return false;
  const double runs = static_cast<double>(P) / (16 * ceil_div(P, 16));
  const double lanes = static_cast<double>(P) / (kLanePixels * ceil_div(P, kLanePixels)) * C / 32;
  return lanes > runs;
}

void lane_conv_run(const float* w, const Conv2dShape& s, bool input_grad, const float* in, float* out,
                   bool accumulate, const Epilogue& e = {});

// Where same_size(s): out (+)= the conv s of in, or with input_grad its input gradient (the same
// size too, in padded by the kernel less the padding), by Winograd's form or in channel lanes
// where those run.
void same_size_conv(const float* w, const Conv2dShape& s, bool input_grad, const float* in, float* out,
                    bool accumulate, const Epilogue& e = {}) {
  if (winograd(s)) return Winograd(w, s.Ci, s.Co, s.H, s.W, input_grad).run(in, out, s.N, accumulate, e);
  if (lanes_beat_runs(s, input_grad)) return lane_conv_run(w, s, input_grad, in, out, accumulate, e);
  if (!input_grad)
    return SameConv(w, s.Ci, s.Co, s.H, s.W, s.kh, s.kw, s.pad_top, s.pad_left).run(in, out, s.N, accumulate, e);
  SameConv(phased_weights(w, s, Phased(s), true), s.Co, s.Ci, s.H, s.W, s.kh, s.kw, s.kh - 1 - s.pad_top,
           s.kw - 1 - s.pad_left)
      .run(in, out, s.N, accumulate, e);
}

// Image [C, H, W] into C planes of `height` rows ld apart, zero-padded: element (c, i, j) at row
// i + top, column j + left (what falls past the planes is dropped).
void padded_planes(const float* image, int64_t C, int64_t H, int64_t W, int64_t top, int64_t left, int64_t height,
                   int64_t ld, float* planes) {
  std::fill(planes, planes + C * height * ld, 0.0f);
  const int64_t rows = std::min(H, height - top), cols = std::min(W, ld - left);
  for (int64_t c = 0; c < C; ++c)
    for (int64_t i = 0; i < rows; ++i) {
      const float* from = image + (c * H + i) * W;
      float* to = planes + (c * height + i + top) * ld + left;
      for (int64_t j = 0; j < cols; j += 16) {  // rows of a few dozen floats: masked moves, not calls
        const __mmask16 m = first_lanes(cols - j);
        _mm512_mask_storeu_ps(to + j, m, _mm512_maskz_loadu_ps(m, from + j));
      }
    }
}

// dst [n][L] = the C rows of src (row c at src + c * ld, n values) transposed, lanes C..L zero.
void channels_to_lanes(const float* src, int64_t C, int64_t n, int64_t ld, int64_t L, float* dst) {
  if (C < L) std::fill(dst, dst + n * L, 0.0f);
  transpose_into([&](int64_t c) { return src + c * ld; }, C, n, dst, L);
}

// ---- Stride-2 convs of even kernels whose phase planes are 8 to 16 columns wide, on AVX-512: a
// plane row is one vector. Per image, the planes are copied into rows of kRow floats (zero-padded)
// and 8 output planes by up to 3 rows are summed in registers over the taps k = (plane, a, b),
// each a load of the plane's row at column b: no grid columns past the output and no result
// matrix to scatter. The forward sums x's phase planes into y's rows; the input gradient (the
// transposed conv's forward) sums dy, padded by the phased kernel less one, into dx's phase
// planes, a block holding both column phases of 4 channels' rows, which interleave in registers
// into dx's rows. One running sum per output (not the GEMM's slices), so other last bits than
// GMN_CPU=avx2; each image apart, so the same bits for any thread count.
constexpr int64_t kRow = 16;

// The taps' offsets in the planes' buffer: tap k = (p, a, b) of P planes of `rows` rows at p *
// rows * kRow + a * kRow + b.
struct RowTaps {
  std::vector<int64_t> off;
  RowTaps(int64_t P, int64_t rows, int64_t kh, int64_t kw) {
    for (int64_t p = 0; p < P; ++p)
      for (int64_t a = 0; a < kh; ++a)
        for (int64_t b = 0; b < kw; ++b) off.push_back((p * rows + a) * kRow + b);
  }
};

// The phase planes x of one image, rows of kRow floats: plane p's row i at (p * x.Hp + i) * kRow.
void phase_rows(const Phases& x, const float* image, float* planes) {
  for (int64_t p = 0; p < x.planes(); ++p) x.gather(image, p, planes + p * x.Hp * kRow, kRow);
}

// The sums of output rows [i0, i0 + R) of a block of 8 planes (in at row i0): acc[r][u] = sum over
// the taps k in order of wb[k * 8 + r] * in[off[k] + u * kRow]; then store(acc).
template <int R, typename Store>
void row_tile(const float* in, const int64_t* __restrict off, int64_t K, const float* wb, Store store) {
  __m512 acc[8][R];
  block_sums(K, [&](int64_t k, int r) { return wb[k * 8 + r]; },
             [&](int64_t k, int u) { return _mm512_loadu_ps(in + off[k] + u * kRow); }, acc);
  store(acc);
}

class RowConv {
 public:
  // The conv s's forward (x -> y) or its input gradient (dy -> dx), where row_planes(s, input_grad).
  RowConv(const float* w, const Conv2dShape& s, bool input_grad) : s_(s), ph_(s), input_grad_(input_grad) {
    // Input planes: x's phases, or dy padded by the phased kernel less one all round.
    in_planes_ = input_grad ? s.Co : ph_.x.planes();
    in_rows_ = input_grad ? s.Ho + 2 * (ph_.kh - 1) : ph_.x.Hp;
    out_rows_ = input_grad ? ph_.x.Hp : s.Ho;
    taps_ = &plan<RowTaps>(in_planes_, in_rows_, ph_.kh, ph_.kw);
    K_ = in_planes_ * ph_.kh * ph_.kw;
    // The weights by blocks of 8 output planes, [block][k][8], zeros past the planes. The forward's
    // blocks are 8 output channels; the input gradient's are (pa, 4 channels ci, pb) with lane
    // (ci % 4) * 2 + pb, block pa * ceil(Ci / 4) + ci / 4 (its weights the flipped transpose).
    const int64_t out_planes = input_grad ? 2 * 2 * ceil_div(s.Ci, 4) * 4 : ceil_div(s.Co, 8) * 8;
    blocks_ = out_planes / 8;
    const float* phased = phased_weights(w, s, ph_, input_grad);  // [planes][K]
    thread_local std::vector<float> blocked;
    float* b = scratch(blocked, out_planes * K_);
    std::fill(b, b + out_planes * K_, 0.0f);
    for (int64_t block = 0; block < blocks_; ++block)
      for (int64_t r = 0; r < 8; ++r) {
        const int64_t plane = source_plane(block, r);
        if (plane < 0) continue;
        for (int64_t k = 0; k < K_; ++k) b[(block * K_ + k) * 8 + r] = phased[plane * K_ + k];
      }
    weights_ = b;
  }

  void run(const float* in, float* out, bool accumulate) const {
    const int64_t in_image = input_grad_ ? s_.Co * s_.Ho * s_.Wo : s_.Ci * s_.H * s_.W;
    const int64_t out_image = input_grad_ ? s_.Ci * s_.H * s_.W : s_.Co * s_.Ho * s_.Wo;
    parallel_for(s_.N, 1, [&](int64_t n0, int64_t n1) {
      thread_local std::vector<float> buffer;
      float* planes = aligned_scratch(buffer, (in_planes_ * in_rows_ + 1) * kRow);  // a row of slack for the taps' columns
      for (int64_t n = n0; n < n1; ++n) {
        fill(in + n * in_image, planes);
        for (int64_t block = 0; block < blocks_; ++block)
          for (int64_t i0 = 0; i0 < out_rows_;) {
            const int64_t R = out_rows_ - i0 == 4 ? 2 : std::min<int64_t>(3, out_rows_ - i0);
            const auto store = [&](const auto& acc) { this->store(acc, block, i0, out + n * out_image, accumulate); };
            const float* at = planes + i0 * kRow;
            const float* wb = weights_ + block * K_ * 8;
            if (R == 3) row_tile<3>(at, taps_->off.data(), K_, wb, store);
            else if (R == 2) row_tile<2>(at, taps_->off.data(), K_, wb, store);
            else row_tile<1>(at, taps_->off.data(), K_, wb, store);
            i0 += R;
          }
      }
    });
  }

 private:
  // The row of phased weights (the flipped transpose's for the input gradient) of lane r of
  // `block`, or -1 past the planes.
  int64_t source_plane(int64_t block, int64_t r) const {
    if (!input_grad_) return block * 8 + r < s_.Co ? block * 8 + r : -1;
    const int64_t per_phase = ceil_div(s_.Ci, 4), pa = block / per_phase, ci = (block % per_phase) * 4 + r / 2;
    return ci < s_.Ci ? (pa * 2 + r % 2) * s_.Ci + ci : -1;
  }

  // One image's input planes, rows of kRow floats.
  void fill(const float* image, float* planes) const {
    if (!input_grad_) return phase_rows(ph_.x, image, planes);
    padded_planes(image, s_.Co, s_.Ho, s_.Wo, ph_.kh - 1, ph_.kw - 1, in_rows_, kRow, planes);
  }

  // Stores rows [i0, i0 + R) of a block's 8 output planes into the image.
  template <int R>
  void store(const __m512 (&acc)[8][R], int64_t block, int64_t i0, float* image, bool accumulate) const {
    const auto put = [accumulate](float* o, __mmask16 m, __m512 v) {
      if (accumulate) v = _mm512_add_ps(_mm512_maskz_loadu_ps(m, o), v);
      _mm512_mask_storeu_ps(o, m, v);
    };
    if (!input_grad_) {
      const __mmask16 m = first_lanes(s_.Wo);
#pragma GCC unroll 8
      for (int r = 0; r < 8; ++r)
        if (block * 8 + r < s_.Co)
#pragma GCC unroll 3
          for (int u = 0; u < R; ++u) put(image + ((block * 8 + r) * s_.Ho + i0 + u) * s_.Wo, m, acc[r][u]);
      return;
    }
    // Lanes 2j and 2j + 1 of the interleaved row: column phases 0 and 1 at plane column j.
    const __m512i lo = pair_lanes(), hi = _mm512_add_epi32(lo, _mm512_set1_epi32(8));
    const __mmask16 m0 = first_lanes(s_.W), m1 = first_lanes(s_.W - 16);
    const int64_t per_phase = ceil_div(s_.Ci, 4), pa = block / per_phase, ci0 = (block % per_phase) * 4;
#pragma GCC unroll 4
    for (int c = 0; c < 4; ++c)
      if (ci0 + c < s_.Ci)
#pragma GCC unroll 3
        for (int u = 0; u < R; ++u) {
          float* row = image + ((ci0 + c) * s_.H + 2 * (i0 + u) + pa) * s_.W;
          put(row, m0, _mm512_permutex2var_ps(acc[2 * c][u], lo, acc[2 * c + 1][u]));
          if (m1) put(row + 16, m1, _mm512_permutex2var_ps(acc[2 * c][u], hi, acc[2 * c + 1][u]));
        }
  }

  Conv2dShape s_;
  Phased ph_;
  bool input_grad_;
  int64_t in_planes_, in_rows_, out_rows_, K_, blocks_;
  const RowTaps* taps_;
  const float* weights_;  // the calling thread's buffer
};

// Where RowConv runs: AVX-512 chosen, stride 2, a kernel of even sides, phase planes 8 to 16
// columns wide; for the input gradient also no padding, the planes covering x exactly, and dy's
// padded rows in one vector.
bool row_planes(const Conv2dShape& s, bool input_grad) {
  if (cpu_isa().active != CpuIsa::Avx512 || s.stride != 2 || s.kh % 2 != 0 || s.kw % 2 != 0) return false;
  const int64_t Hp = s.Ho + s.kh / 2 - 1, Wp = s.Wo + s.kw / 2 - 1;
  if (Wp < 8 || Wp > kRow) return false;
  return !input_grad ||
         (s.pad_top == 0 && s.pad_left == 0 && s.H == 2 * Hp && s.W == 2 * Wp && s.Wo + s.kw - 2 <= kRow);
}
#endif

void conv_forward(const float* x, const float* w, float* y, const Conv2dShape& s, bool accumulate) {
#ifdef __AVX512F__
  if (same_size(s)) return same_size_conv(w, s, false, x, y, accumulate);
  if (row_planes(s, false)) return RowConv(w, s, false).run(x, y, accumulate);
#endif
  const Phased ph(s);
  // At stride 1 there is one phase, and the phased kernel is w itself.
  grid_conv(x, ph.x, s.stride == 1 ? w : phased_weights(w, s, ph, false), s.Co, ph.kh, ph.kw, y, ph.y, s.N, accumulate);
}

// The phased conv's input gradient is dy, zero-padded by the kernel less one, convolved with the
// flipped kernel; its planes are stored back into dx through the phases. At stride 1 only the plane
// rows and columns inside x are computed (from row pad_top, column pad_left on): the padding's
// gradient would be dropped anyway.
void conv_input_grad(const float* w, const float* dy, float* dx, const Conv2dShape& s, bool accumulate) {
#ifdef __AVX512F__
  if (same_size(s)) return same_size_conv(w, s, true, dy, dx, accumulate);
  if (row_planes(s, true)) return RowConv(w, s, true).run(dy, dx, accumulate);
#endif
  const Phased ph(s);
  const bool crop = s.stride == 1;
  const int64_t i0 = crop ? s.pad_top : 0, j0 = crop ? s.pad_left : 0;
  const int64_t rows = crop ? s.H : ph.x.Hp, cols = crop ? s.W : ph.x.Wp;
  const Phases padded_dy{s.Co, s.Ho, s.Wo, 1, ph.kh - 1 - i0, ph.kw - 1 - j0, rows + ph.kh - 1, cols + ph.kw - 1};
  Phases planes = ph.x;  // x's planes from plane row i0, column j0 on
  planes.top -= s.stride * i0, planes.left -= s.stride * j0, planes.Hp = rows, planes.Wp = cols;
  grid_conv(dy, padded_dy, phased_weights(w, s, ph, true), ph.x.planes(), ph.kh, ph.kw, dx, planes, s.N,
            accumulate);
}

#ifdef __AVX512F__
// out [K][Co] (+)= sum over grid columns q of a[k][q] d[co][q], row k of a at a + off[k], d
// [Co][Q]: in 16 lanes (q mod 16) over runs of 16 columns, then the lanes (_mm512_reduce_add_ps's
// fixed order). 4 output channels by 6 rows of a in registers: 10 vector loads for 24
// multiply-adds, where the GEMM's narrow kernel broadcasts an element of a per multiply-add.
void lane_sums(const float* a, const int64_t* off, int64_t K, const float* d, int64_t Co, int64_t Q, float* out,
               bool add) {
  constexpr int R = 4, J = 6;
  for (int64_t k0 = 0; k0 < K; k0 += J)
    for (int64_t c0 = 0; c0 < Co; c0 += R) {
      // Rows past the ends repeat the last (computed, not stored).
      const float* ak[J];
      const float* dc[R];
      for (int j = 0; j < J; ++j) ak[j] = a + off[std::min(K - 1, k0 + j)];
      for (int r = 0; r < R; ++r) dc[r] = d + std::min(Co - 1, c0 + r) * Q;
      __m512 acc[R][J];
#pragma GCC unroll 4
      for (int r = 0; r < R; ++r)
#pragma GCC unroll 6
        for (int j = 0; j < J; ++j) acc[r][j] = _mm512_setzero_ps();
      for (int64_t q = 0; q < Q; q += 16) {
        const __mmask16 m = first_lanes(Q - q);
        __m512 g[R];
#pragma GCC unroll 4
        for (int r = 0; r < R; ++r) g[r] = _mm512_maskz_loadu_ps(m, dc[r] + q);
#pragma GCC unroll 6
        for (int j = 0; j < J; ++j) {
          const __m512 v = _mm512_maskz_loadu_ps(m, ak[j] + q);
#pragma GCC unroll 4
          for (int r = 0; r < R; ++r) acc[r][j] = _mm512_fmadd_ps(g[r], v, acc[r][j]);
        }
      }
#pragma GCC unroll 4
      for (int r = 0; r < R; ++r)
#pragma GCC unroll 6
        for (int j = 0; j < J; ++j)
          if (c0 + r < Co && k0 + j < K) {
            float& o = out[(k0 + j) * Co + c0 + r];
            const float v = _mm512_reduce_add_ps(acc[r][j]);
            o = add ? o + v : v;
          }
    }
}

// dU rows [c0, c0 + rows) of one position, [rows][Co] at out (+)= sum over the image's T tiles of
// V[c][t] times D^T[t] (the tile's gradient transforms by output channel, in lanes m): 8 channels'
// sums in registers (rows past `rows` repeat the last, not stored), each tile one load of D^T and
// a multiply-add of V[c][t] broadcast per channel.
void winograd_channel_sums(const float* V, int64_t Tp, int64_t T, const float* Dt, int rows, float* out,
                           int64_t Co, __mmask16 m, bool first) {
  constexpr int R = 8;
  const float* v[R];
  for (int r = 0; r < R; ++r) v[r] = V + std::min(r, rows - 1) * Tp;
  __m512 acc[R];
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r) acc[r] = first ? _mm512_setzero_ps() : _mm512_maskz_loadu_ps(m, out + std::min(r, rows - 1) * Co);
  for (int64_t t = 0; t < T; ++t) {
    const __m512 d = _mm512_load_ps(Dt + t * 16);
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) acc[r] = _mm512_fmadd_ps(_mm512_set1_ps(v[r][t]), d, acc[r]);
  }
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r)
    if (r < rows) _mm512_mask_storeu_ps(out + r * Co, m, acc[r]);
}

// The weight gradient of the 3x3 same conv of Winograd's form, dU [16][C][Co], summed per part of
// the images (kWeightGradParts, as conv_weight_grad) an image at a time: the products of its
// patches' transforms V with its gradient tiles' transforms D, summed over the tiles with the
// output channels in lanes (winograd_channel_sums; lane_sums for more than 16); then the parts in
// order, and dw = G^T dU G.
class WinogradWeightGrad {
 public:
  explicit WinogradWeightGrad(const Conv2dShape& s)
      : ws_(s.H, s.W), C_(s.Ci), Co_(s.Co), parts_(std::min(s.N, kWeightGradParts)), size_(kTile * C_ * Co_),
        partial_(part_sums(parts_ * size_)) {}
  int64_t parts() const { return parts_; }
  // Part `part`'s sums (+)= image x [C][H][W] with its output gradient dy [Co][H][W].
  void add(int64_t part, const float* x, const float* dy, bool first) const {
    thread_local std::vector<float> v_buffer, d_buffer;
    float* V = aligned_scratch(v_buffer, ws_.buffer(C_));
    float* D = aligned_scratch(d_buffer, ws_.buffer(Co_));
    ws_.input_transform(x, C_, V);
    ws_.gradient_transform(dy, Co_, D);
    float* sums = partial_ + part * size_;
    if (Co_ > 16) {  // more output channels than lanes: the tiles in lanes, then the lanes summed
      thread_local std::vector<int64_t> rows;
      int64_t* off = scratch(rows, C_);
      for (int64_t c = 0; c < C_; ++c) off[c] = c * ws_.Tp;
      for (int pos = 0; pos < kTile; ++pos)
        lane_sums(V + pos * ws_.plane(C_), off, C_, D + pos * ws_.plane(Co_), Co_, ws_.Tp, sums + pos * C_ * Co_, !first);
      return;
    }
    // The output channels in lanes: D transposed per position, [T][16].
    thread_local std::vector<float> dt_buffer;
    float* Dt = aligned_scratch(dt_buffer, ws_.T * 16);
    for (int pos = 0; pos < kTile; ++pos) {
      channels_to_lanes(D + pos * ws_.plane(Co_), Co_, ws_.T, ws_.Tp, 16, Dt);
      for (int64_t c0 = 0; c0 < C_; c0 += 8)
        winograd_channel_sums(V + pos * ws_.plane(C_) + c0 * ws_.Tp, ws_.Tp, ws_.T, Dt,
                              static_cast<int>(std::min<int64_t>(8, C_ - c0)), sums + (pos * C_ + c0) * Co_, Co_,
                              first_lanes(Co_), first);
    }
  }
  // dw (+)= G^T dU G, dU the parts' sums in order.
  void finish(float* dw, bool accumulate) const {
    for (int64_t co = 0; co < Co_; ++co)
      for (int64_t c = 0; c < C_; ++c) {
        float m[kTile], t[3][4];
        for (int pos = 0; pos < kTile; ++pos) {
          const int64_t at = (pos * C_ + c) * Co_ + co;
          float v = partial_[at];
          for (int64_t p = 1; p < parts_; ++p) v += partial_[p * size_ + at];
          m[pos] = v;
        }
        for (int q = 0; q < 4; ++q) {  // G^T m down the rows
          t[0][q] = m[q] + 0.5f * (m[4 + q] + m[8 + q]);
          t[1][q] = 0.5f * (m[4 + q] - m[8 + q]);
          t[2][q] = 0.5f * (m[4 + q] + m[8 + q]) + m[12 + q];
        }
        float* g = dw + (co * C_ + c) * 9;
        for (int a = 0; a < 3; ++a) {  // and G along the columns
          const float v[3] = {t[a][0] + 0.5f * (t[a][1] + t[a][2]), 0.5f * (t[a][1] - t[a][2]),
                              0.5f * (t[a][1] + t[a][2]) + t[a][3]};
          for (int b = 0; b < 3; ++b) g[a * 3 + b] = accumulate ? g[a * 3 + b] + v[b] : v[b];
        }
      }
  }

 private:
  WinogradShape ws_;
  int64_t C_, Co_, parts_, size_;
  float* partial_;  // [parts][16][C][Co], the calling thread's buffer
};

// Calls f(part, n, first) for each image n of each part of the images (first: the part's first),
// the parts in parallel and each part's images in order.
template <typename F>
void each_part(int64_t N, int64_t parts, F f) {
  parallel_for(parts, 1, [&](int64_t p0, int64_t p1) {
    for (int64_t part = p0; part < p1; ++part) {
      const int64_t first = part * N / parts, end = (part + 1) * N / parts;
      for (int64_t n = first; n < end; ++n) f(part, n, n == first);
    }
  });
}

// ---- Weight gradients with the output channels in lanes, on AVX-512: dW^T [k][co] = sum over the
// images' output pixels of tap k = (plane, a, b) there times dy[co] there, with dy transposed per
// image ([pixel][Co], one or two vectors of 16 channels) and the input planes zero-padded so that
// every tap of every output pixel is a load (rows ld apart). The taps of a block of planes stay in
// registers over an image, each a multiply-add of its value broadcast: no lanes past the output
// and no lane sums to reduce. Summed per fixed part of the images, then the parts in order, so the
// same bits for any thread count; other sums than the grid's, so other last bits than
// GMN_CPU=avx2. Kernels of 2x2 and 3x3 (phased) taps; for same-size convs (input planes x's
// channels, padded) and where row_planes(s, false) (x's phase planes, rows of kRow).

// One image's operands: P input planes (plane p's row r at planes + p * plane + r * ld, output
// pixel (i, j)'s tap (a, b) at row step * i + a, column step * j + b), dy transposed [Ho * Wo][CV *
// 16], and the sums [P][taps][CV * 16] they add to (or start, first).
struct LaneGrid {
  const float* planes;
  int64_t plane, ld, step, P;
  const float* dyt;
  int64_t Ho, Wo;
  float* sums;
  bool first;
};

// The sums of planes [p0, p0 + B) (planes past P repeat the last, not stored).
template <int KH, int KW, int CV>
void channel_lane_grad(const LaneGrid& g, int64_t p0) {
  constexpr int T = KH * KW, B = std::max(1, 24 / (T * CV));
  const int64_t ld = g.ld;
  const float* base[B];
  for (int q = 0; q < B; ++q) base[q] = g.planes + std::min(g.P - 1, p0 + q) * g.plane;
  __m512 acc[B][T][CV];
#pragma GCC unroll 24
  for (int q = 0; q < B; ++q)
#pragma GCC unroll 9
    for (int t = 0; t < T; ++t)
#pragma GCC unroll 2
      for (int v = 0; v < CV; ++v)
        acc[q][t][v] = g.first || p0 + q >= g.P ? _mm512_setzero_ps()
                                                : _mm512_load_ps(g.sums + (((p0 + q) * T + t) * CV + v) * 16);
  for (int64_t i = 0; i < g.Ho; ++i)
    for (int64_t j = 0; j < g.Wo; ++j) {
      __m512 d[CV];
#pragma GCC unroll 2
      for (int v = 0; v < CV; ++v) d[v] = _mm512_load_ps(g.dyt + ((i * g.Wo + j) * CV + v) * 16);
      const int64_t at = g.step * (i * ld + j);
#pragma GCC unroll 24
      for (int q = 0; q < B; ++q)
#pragma GCC unroll 3
        for (int a = 0; a < KH; ++a)
#pragma GCC unroll 3
          for (int b = 0; b < KW; ++b) {
            const __m512 x = _mm512_set1_ps(base[q][at + a * ld + b]);
#pragma GCC unroll 2
            for (int v = 0; v < CV; ++v) acc[q][a * KW + b][v] = _mm512_fmadd_ps(x, d[v], acc[q][a * KW + b][v]);
          }
    }
#pragma GCC unroll 24
  for (int q = 0; q < B; ++q)
    if (p0 + q < g.P)
#pragma GCC unroll 9
      for (int t = 0; t < T; ++t)
#pragma GCC unroll 2
        for (int v = 0; v < CV; ++v) _mm512_store_ps(g.sums + (((p0 + q) * T + t) * CV + v) * 16, acc[q][t][v]);
}

// One image's products for all planes, by the kernel of (KH, KW) taps and CV vectors of channels.
template <int KH, int KW, int CV>
void channel_lane_image(const LaneGrid& g) {
  constexpr int B = std::max(1, 24 / (KH * KW * CV));
  for (int64_t p0 = 0; p0 < g.P; p0 += B) channel_lane_grad<KH, KW, CV>(g, p0);
}

// Where channel_lane_weight_grad runs: AVX-512 chosen, up to 32 output channels, square kernels
// of 2x2 or 3x3 taps (phased where row_planes(s, false)), and not where Winograd's form runs.
bool channel_lanes(const Conv2dShape& s) {
  if (cpu_isa().active != CpuIsa::Avx512 || s.Co > 32 || winograd(s)) return false;
  const bool rows = row_planes(s, false);
  const int64_t kh = rows ? s.kh / 2 : s.kh, kw = rows ? s.kw / 2 : s.kw;
  return kh == kw && (kh == 2 || kh == 3);
}

void channel_lane_weight_grad(const float* x, const float* dy, float* dw, const Conv2dShape& s, bool accumulate) {
  // The input planes: x's phase planes (rows of kRow) where row_planes(s, false), the taps at
  // stride 1 there; else x's channels zero-padded to the rows and columns the taps reach, at the
  // conv's stride.
  const Phased ph(s);
  const bool rows = row_planes(s, false);
  const int64_t P = rows ? ph.x.planes() : s.Ci, kh = rows ? ph.kh : s.kh, kw = rows ? ph.kw : s.kw;
  const int64_t step = rows ? 1 : s.stride, height = rows ? ph.x.Hp : step * (s.Ho - 1) + kh;
  const int64_t ld = rows ? kRow : step * (s.Wo - 1) + kw, plane = height * ld;
  const int64_t CV = ceil_div(s.Co, 16), taps = kh * kw, size = P * taps * CV * 16;
  const int64_t parts = std::min(s.N, kWeightGradParts), pixels = s.Ho * s.Wo, in = s.Ci * s.H * s.W;
  float* partial = part_sums(parts * size);  // [parts][P][taps][CV * 16]
  each_part(s.N, parts, [&](int64_t part, int64_t n, bool first) {
    thread_local std::vector<float> plane_buffer, dy_buffer;
    float* planes = aligned_scratch(plane_buffer, P * plane);
    float* dyt = aligned_scratch(dy_buffer, pixels * CV * 16);
    const float* image = x + n * in;
    if (rows) phase_rows(ph.x, image, planes);
    else padded_planes(image, s.Ci, s.H, s.W, s.pad_top, s.pad_left, height, ld, planes);
    channels_to_lanes(dy + n * s.Co * pixels, s.Co, pixels, pixels, CV * 16, dyt);
    float* sums = partial + part * size;
    const LaneGrid g{planes, plane, ld, step, P, dyt, s.Ho, s.Wo, sums, first};
    if (kh == 2 && CV == 1) channel_lane_image<2, 2, 1>(g);
    else if (kh == 2) channel_lane_image<2, 2, 2>(g);
    else if (CV == 1) channel_lane_image<3, 3, 1>(g);
    else channel_lane_image<3, 3, 2>(g);
  });
  const auto total = [&](int64_t p, int64_t t, int64_t co) {
    const int64_t at = (p * taps + t) * CV * 16 + co;
    float v = partial[at];
    for (int64_t q = 1; q < parts; ++q) v += partial[q * size + at];
    return v;
  };
  if (rows) {
    ph.each_tap(s, [&](int64_t, int64_t co, int64_t p, int64_t t, int64_t target) {
      if (target >= 0) dw[target] = accumulate ? dw[target] + total(p, t, co) : total(p, t, co);
    });
    return;
  }
  for (int64_t co = 0; co < s.Co; ++co)
    for (int64_t c = 0; c < P; ++c)
      for (int64_t t = 0; t < taps; ++t) {
        float& o = dw[(co * P + c) * taps + t];
        o = accumulate ? o + total(c, t, co) : total(c, t, co);
      }
}

void winograd_weight_grad(const float* x, const float* dy, float* dw, const Conv2dShape& s, bool accumulate) {
  const WinogradWeightGrad grad(s);
  const int64_t in = s.Ci * s.H * s.W, out = s.Co * s.H * s.W;
  each_part(s.N, grad.parts(), [&](int64_t part, int64_t n, bool first) { grad.add(part, x + n * in, dy + n * out, first); });
  grad.finish(dw, accumulate);
}
#endif

// dw^T [K, Co] = sum over images of xp-rows [K, Q] dy_grid^T [Q, Co], dy_grid being dy on the
// grid with zeros off the output, on grids of a fixed number of images (it fixes the sums' order);
// per part of the images, then the parts in order, then mapped from the phased kernel to w.
void conv_weight_grad(const float* x, const float* dy, float* dw, const Conv2dShape& s, bool accumulate) {
#ifdef __AVX512F__
  if (winograd(s)) return winograd_weight_grad(x, dy, dw, s, accumulate);
#endif
  const Phased ph(s);
  const int64_t plane = ph.x.Hp * ph.x.Wp, G = std::max<int64_t>(1, kGridColumns / plane);
  const int64_t K = ph.x.planes() * ph.kh * ph.kw, size = s.Co * K, parts = std::min(s.N, kWeightGradParts);
  const int64_t P = s.Ho * s.Wo;
  // Up to 16 output channels (one vector: the narrow GEMM kernel's worst case) on AVX-512 go to
  // lane_sums, with dy on the grid as [Co][Q]: not the GEMM's order of sums, so other bits than
  // GMN_CPU=avx2.
#ifdef __AVX512F__
  const bool lanes = cpu_isa().active == CpuIsa::Avx512 && s.Co <= 16;
#else
  const bool lanes = false;
#endif
  float* partial = part_sums(parts * size);  // [parts][K][Co]
  parallel_for(parts, 1, [&](int64_t p0, int64_t p1) {
    thread_local std::vector<float> xp, dyg;
    for (int64_t part = p0; part < p1; ++part) {
      const int64_t first = part * s.N / parts, end = (part + 1) * s.N / parts;
      for (int64_t n0 = first; n0 < end; n0 += G) {
        const Grid& grid = plan<Grid>(ph.x.planes(), ph.x.Hp, ph.x.Wp, ph.kh, ph.kw, std::min(G, end - n0));
        grid.fill(x, ph.x, n0, scratch(xp, grid.size()));
        float* d = aligned_scratch(dyg, grid.Q * s.Co);  // [Q][Co], or [Co][Q] for lane_sums
        const int64_t pixel = lanes ? 1 : s.Co, channel = lanes ? grid.Q : 1;  // d's strides
        for (int64_t g = 0; g < grid.G; ++g)
          for (int64_t i = 0; i < s.Ho; ++i) {
            const float* src = dy + (n0 + g) * s.Co * P + i * s.Wo;  // row i of channel co at src + co * P
            float* row = d + (g * plane + i * grid.Wp) * pixel;
            if (lanes)
              for (int64_t co = 0; co < s.Co; ++co) copy_row(src + co * P, row + co * channel, s.Wo);
            else
              transpose_into([&](int64_t co) { return src + co * P; }, s.Co, s.Wo, row, s.Co);
          }
        // Zeros off the output: the columns past it, then the rows past it.
        for (int64_t co = 0; co < (lanes ? s.Co : 1); ++co)
          for (int64_t g = 0; g < grid.G; ++g) {
            float* image = d + co * channel + g * plane * pixel;
            for (int64_t i = 0; i < s.Ho; ++i) zero_row(image + (i * grid.Wp + s.Wo) * pixel, (grid.Wp - s.Wo) * pixel);
            zero_row(image + s.Ho * grid.Wp * pixel, (plane - s.Ho * grid.Wp) * pixel);
          }
#ifdef __AVX512F__
        if (lanes) {
          lane_sums(xp.data(), grid.off.data(), K, d, s.Co, grid.Q, partial + part * size, n0 != first);
          continue;
        }
#endif
        sgemm_rows_a(K, s.Co, grid.Q, xp.data(), grid.off.data(), d, s.Co, n0 == first ? 0.0f : 1.0f,
                     partial + part * size, s.Co);
      }
    }
  });
  const int64_t taps = ph.kh * ph.kw;
  ph.each_tap(s, [&](int64_t, int64_t co, int64_t p, int64_t t, int64_t target) {
    if (target < 0) return;  // a tap past the kernel
    const int64_t at = (p * taps + t) * s.Co + co;
    float v = partial[at];
    for (int64_t p = 1; p < parts; ++p) v += partial[p * size + at];
    dw[target] = accumulate ? dw[target] + v : v;
  });
}

// ---- Small output images and strided convs: the grid's dropped columns and phase taps would
// cost more than they save (a 6x6 output on an 8x8 grid is 56% of its columns; a 3x3 kernel at
// stride 2 is 16 phase taps for 9), so the columns are gathered explicitly, a few images at a
// time, through a table made once per call: column (g, p) of row k = (ci, a, b) is image g's
// element src[k][p], or 0 where that is padding.
struct Columns {
  int64_t K, P, image;
  std::vector<int32_t> src;  // [K][P]: offset in the image, or -1

  explicit Columns(const Conv2dShape& s) : K(s.Ci * s.kh * s.kw), P(s.Ho * s.Wo), image(s.Ci * s.H * s.W) {
    src.resize(static_cast<size_t>(K * P));
    int32_t* t = src.data();
    for (int64_t ci = 0; ci < s.Ci; ++ci)
      for (int64_t a = 0; a < s.kh; ++a)
        for (int64_t b = 0; b < s.kw; ++b)
          for (int64_t i = 0; i < s.Ho; ++i)
            for (int64_t j = 0; j < s.Wo; ++j) {
              const int64_t y = s.stride * i + a - s.pad_top, x = s.stride * j + b - s.pad_left;
              *t++ = y < 0 || y >= s.H || x < 0 || x >= s.W ? -1 : static_cast<int32_t>((ci * s.H + y) * s.W + x);
            }
  }
  // col [K][G * P] from images [G][image].
  void gather(const float* images, int64_t G, float* col) const {
    const int64_t cols = G * P;
    for (int64_t k = 0; k < K; ++k) {
      const int32_t* t = src.data() + k * P;
      for (int64_t g = 0; g < G; ++g) {
        const float* img = images + g * image;
        float* __restrict dst = col + k * cols + g * P;
        for (int64_t p = 0; p < P; ++p) dst[p] = t[p] < 0 ? 0.0f : img[t[p] < 0 ? 0 : t[p]];
      }
    }
  }
  // images [G][image] += the columns col [K][G * P] summed onto the elements they came from.
  void scatter_add(const float* col, int64_t G, float* images) const {
    const int64_t cols = G * P;
    for (int64_t g = 0; g < G; ++g) {
      float* img = images + g * image;
      for (int64_t k = 0; k < K; ++k) {
        const int32_t* t = src.data() + k * P;
        const float* c = col + k * cols + g * P;
        for (int64_t p = 0; p < P; ++p)
          if (t[p] >= 0) img[t[p]] += c[p];
      }
    }
  }
};

// The table of a conv's shape (it does not depend on N), made on its first call and kept: a call
// of one image would otherwise spend longer making it than convolving.
const Columns& columns_of(const Conv2dShape& s) {
  Conv2dShape key = s;
  key.N = 0;
  return plan<Columns>(key);
}

// Images per group of the explicit columns: about kColumnsPerGroup columns.
constexpr int64_t kColumnsPerGroup = 512;

// Where they beat the grid (measured on the model's convs): outputs of up to 4x4 pixels, and
// kernels that are not a multiple of the stride (phase taps past the kernel).
bool explicit_columns(const Conv2dShape& s) {
  return s.Ho * s.Wo <= 16 || (s.stride > 1 && (s.kh % s.stride != 0 || s.kw % s.stride != 0));
}

// Runs f(n0, G) over groups of G images (a fixed split: it depends on N and P only); groups in
// parallel, or one group with the GEMM's own threads.
template <typename F>
void each_group(int64_t N, int64_t P, F f) {
  const int64_t G = std::max<int64_t>(1, kColumnsPerGroup / P), groups = ceil_div(N, G);
  const auto run = [&](int64_t g0, int64_t g1) {
    for (int64_t g = g0; g < g1; ++g) f(g * G, std::min(G, N - g * G));
  };
  if (groups == 1) run(0, 1);
  else parallel_for(groups, 1, run);
}

void columns_forward(const float* x, const float* w, float* y, const Conv2dShape& s, bool accumulate) {
  const Columns& cols = columns_of(s);
  const int64_t out_image = s.Co * cols.P;
  each_group(s.N, cols.P, [&](int64_t n0, int64_t G) {
    thread_local std::vector<float> col, result;
    const int64_t Q = G * cols.P;
    cols.gather(x + n0 * cols.image, G, scratch(col, cols.K * Q));
    float* r = scratch(result, s.Co * Q);
    sgemm(false, false, s.Co, Q, cols.K, 1.0f, w, cols.K, col.data(), Q, 0.0f, r, Q);
    for (int64_t g = 0; g < G; ++g)
      for (int64_t co = 0; co < s.Co; ++co) {
        float* dst = y + (n0 + g) * out_image + co * cols.P;
        const float* src = r + co * Q + g * cols.P;
        store_row(src, dst, cols.P, accumulate);
      }
  });
}

// dy of images [n0, n0 + G) as [Co][G * P] (transposed: [G * P][Co]).
void gather_dy(const float* dy, int64_t n0, int64_t G, int64_t Co, int64_t P, bool transposed, float* out) {
  const int64_t Q = G * P;
  for (int64_t g = 0; g < G; ++g) {
    const float* image = dy + (n0 + g) * Co * P;
    if (transposed)
      transpose_into([&](int64_t co) { return image + co * P; }, Co, P, out + g * P * Co, Co);
    else
      for (int64_t co = 0; co < Co; ++co) copy_row(image + co * P, out + co * Q + g * P, P);
  }
}

void columns_input_grad(const float* w, const float* dy, float* dx, const Conv2dShape& s, bool accumulate) {
  const Columns& cols = columns_of(s);
  each_group(s.N, cols.P, [&](int64_t n0, int64_t G) {
    thread_local std::vector<float> dyc, dcol;
    const int64_t Q = G * cols.P;
    gather_dy(dy, n0, G, s.Co, cols.P, false, scratch(dyc, s.Co * Q));
    float* d = scratch(dcol, cols.K * Q);
    sgemm(true, false, cols.K, Q, s.Co, 1.0f, w, cols.K, dyc.data(), Q, 0.0f, d, Q);
    float* images = dx + n0 * cols.image;
    if (!accumulate) std::fill(images, images + G * cols.image, 0.0f);
    cols.scatter_add(d, G, images);
  });
}

// dw^T [K, Co] = col [K, Q] dy^T [Q, Co] summed over groups of images in order, per fixed part of
// the images, then the parts in order (same bits for any thread count).
void columns_weight_grad(const float* x, const float* dy, float* dw, const Conv2dShape& s, bool accumulate) {
  const Columns& cols = columns_of(s);
  const int64_t G = std::max<int64_t>(1, kColumnsPerGroup / cols.P), size = s.Co * cols.K;
  const int64_t parts = std::min(s.N, kWeightGradParts);
  float* partial = part_sums(parts * size);  // [parts][K][Co]
  parallel_for(parts, 1, [&](int64_t p0, int64_t p1) {
    thread_local std::vector<float> col, dyt;
    thread_local std::vector<int64_t> row_buf;
    int64_t* rows = scratch(row_buf, cols.K);
    for (int64_t part = p0; part < p1; ++part) {
      const int64_t first = part * s.N / parts, end = (part + 1) * s.N / parts;
      for (int64_t n0 = first; n0 < end; n0 += G) {
        const int64_t g = std::min(G, end - n0), Q = g * cols.P;
        cols.gather(x + n0 * cols.image, g, scratch(col, cols.K * Q));
        gather_dy(dy, n0, g, s.Co, cols.P, true, scratch(dyt, Q * s.Co));
        for (int64_t k = 0; k < cols.K; ++k) rows[k] = k * Q;
        sgemm_rows_a(cols.K, s.Co, Q, col.data(), rows, dyt.data(), s.Co, n0 == first ? 0.0f : 1.0f,
                     partial + part * size, s.Co);
      }
    }
  });
  for (int64_t co = 0; co < s.Co; ++co)
    for (int64_t k = 0; k < cols.K; ++k) {
      float v = partial[k * s.Co + co];
      for (int64_t p = 1; p < parts; ++p) v += partial[p * size + k * s.Co + co];
      float& out = dw[co * cols.K + k];
      out = accumulate ? out + v : v;
    }
}

// A 1x1 conv at stride 1 without padding is a product per image, [Co, Ci] x_n [Ci, H*W]: read
// in place, no grid. Images of fewer than 16 pixels (3x3) go to explicit columns, which batch them.
bool pointwise(const Conv2dShape& s) {
  return s.kh == 1 && s.kw == 1 && s.stride == 1 && s.pad_top == 0 && s.pad_left == 0 && s.Ho == s.H &&
         s.Wo == s.W && s.H * s.W >= 16;
}

#ifdef __AVX512F__
// pointwise_product on AVX-512: R (8 or 1) rows of out by up to 3 vectors of 16 columns in
// registers, the last vector's lanes past P masked (no padded copy). The same sums in the same
// order (a fused multiply-add per k, in order, from zero) as the 8-float version, so the same bits.
template <int R, int PV>
void pointwise_tile(const float* const* a, int64_t ak, const float* in, float* out, int rows, int64_t K, int64_t P,
                    int64_t p0, bool accumulate) {
  __mmask16 mask[PV];
  __m512 acc[R][PV];
#pragma GCC unroll 3
  for (int u = 0; u < PV; ++u) mask[u] = first_lanes(P - p0 - 16 * u);
  block_sums(K, [&](int64_t k, int r) { return a[r][k * ak]; },
             [&](int64_t k, int u) { return _mm512_maskz_loadu_ps(mask[u], in + k * P + p0 + 16 * u); }, acc);
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r)
    if (r < rows)
#pragma GCC unroll 3
      for (int u = 0; u < PV; ++u) {
        float* o = out + r * P + p0 + 16 * u;
        const __m512 sum = accumulate ? _mm512_add_ps(_mm512_maskz_loadu_ps(mask[u], o), acc[r][u]) : acc[r][u];
        _mm512_mask_storeu_ps(o, mask[u], sum);
      }
}

void pointwise_product_avx512(const float* A, int64_t am, int64_t ak, const float* in, float* out, int64_t M,
                              int64_t K, int64_t P, bool accumulate) {
  const int64_t vectors = ceil_div(P, 16);
  const auto runs = [&](auto R, const float* const* a, float* o, int rows) {
    for (int64_t v = 0; v < vectors;) {
      const int64_t pv = vectors - v == 4 ? 2 : std::min<int64_t>(3, vectors - v);
      if (pv == 3) pointwise_tile<R, 3>(a, ak, in, o, rows, K, P, 16 * v, accumulate);
      else if (pv == 2) pointwise_tile<R, 2>(a, ak, in, o, rows, K, P, 16 * v, accumulate);
      else pointwise_tile<R, 1>(a, ak, in, o, rows, K, P, 16 * v, accumulate);
      v += pv;
    }
  };
  for (int64_t m0 = 0; m0 < M;) {
    const int rows = static_cast<int>(std::min<int64_t>(8, M - m0));
    const float* a[8];  // rows past M repeat the last (computed, not stored)
    for (int r = 0; r < 8; ++r) a[r] = A + std::min(M - 1, m0 + r) * am;
    if (rows >= 4) runs(std::integral_constant<int, 8>{}, a, out + m0 * P, rows), m0 += rows;
    else runs(std::integral_constant<int, 1>{}, a, out + m0 * P, 1), ++m0;  // fewer rows one at a time
  }
}
#endif

// out [M, P] (+)= A in, in [K, P], element (m, k) of A at A[m * am + k * ak]: 4 rows of out by 16
// columns at a time in registers (vec8.h), the sum over k in order; the last columns (fewer than
// 16) through a zero-padded copy of their inputs, as whole vectors too. Small K and M (channels)
// and P of one image: a GEMM's packing would cost more than the product.
void pointwise_product(const float* A, int64_t am, int64_t ak, const float* in, float* out, int64_t M, int64_t K,
                       int64_t P, bool accumulate) {
#ifdef __AVX512F__
  if (cpu_isa().active == CpuIsa::Avx512) return pointwise_product_avx512(A, am, ak, in, out, M, K, P, accumulate);
#endif
  const int64_t full = P / 16 * 16, rest = P - full;
  float* tail_in = nullptr;  // [K][16]: columns [full, P) of in, then zeros
  if (rest) {
    thread_local std::vector<float> buf;
    tail_in = scratch(buf, K * 16);
    for (int64_t k = 0; k < K; ++k) {
      copy_row(in + k * P + full, tail_in + k * 16, rest);
      zero_row(tail_in + k * 16 + rest, 16 - rest);
    }
  }
  // Rows [m0, m0 + R) by the 16 columns at src (row stride ld) into out's columns [p, p + cols).
  const auto tile = [&](auto rows, int64_t m0, const float* src, int64_t ld, int64_t p, int64_t cols) {
    constexpr int R = decltype(rows)::value;
    Floats8 acc[R][2] = {};
    for (int64_t k = 0; k < K; ++k) {
      const Floats8 v0 = load8(src + k * ld), v1 = load8(src + k * ld + 8);
      for (int i = 0; i < R; ++i) {
        const float a = A[(m0 + i) * am + k * ak];
        acc[i][0] += a * v0, acc[i][1] += a * v1;
      }
    }
    for (int i = 0; i < R; ++i) {
      float* o = out + (m0 + i) * P + p;
      if (cols == 16) {
        store8(o, accumulate ? load8(o) + acc[i][0] : acc[i][0]);
        store8(o + 8, accumulate ? load8(o + 8) + acc[i][1] : acc[i][1]);
      } else {
        float v[16];
        store8(v, acc[i][0]), store8(v + 8, acc[i][1]);
        for (int64_t j = 0; j < cols; ++j) o[j] = accumulate ? o[j] + v[j] : v[j];
      }
    }
  };
  const auto rows = [&](auto R, int64_t m0) {
    for (int64_t p = 0; p < full; p += 16) tile(R, m0, in + p, P, p, 16);
    if (rest) tile(R, m0, tail_in, 16, full, rest);
  };
  int64_t m0 = 0;
  for (; m0 + 4 <= M; m0 += 4) rows(std::integral_constant<int, 4>{}, m0);
  for (; m0 < M; ++m0) rows(std::integral_constant<int, 1>{}, m0);  // the last rows, one at a time
}

void pointwise_forward(const float* x, const float* w, float* y, const Conv2dShape& s, bool accumulate) {
  const int64_t P = s.H * s.W;
  parallel_for(s.N, 4, [&](int64_t n0, int64_t n1) {
    for (int64_t n = n0; n < n1; ++n) pointwise_product(w, s.Ci, 1, x + n * s.Ci * P, y + n * s.Co * P, s.Co, s.Ci, P, accumulate);
  });
}

void pointwise_input_grad(const float* w, const float* dy, float* dx, const Conv2dShape& s, bool accumulate) {
  const int64_t P = s.H * s.W;
  parallel_for(s.N, 4, [&](int64_t n0, int64_t n1) {
    for (int64_t n = n0; n < n1; ++n) pointwise_product(w, 1, s.Ci, dy + n * s.Co * P, dx + n * s.Ci * P, s.Ci, s.Co, P, accumulate);
  });
}

// dw[co, ci] = sum over images and pixels of dy[n, co] x[n, ci]: per fixed part of the images in
// 8 float lanes per (co, ci), the lanes and then the parts summed in order (same bits for any
// thread count).
void pointwise_weight_grad(const float* x, const float* dy, float* dw, const Conv2dShape& s, bool accumulate) {
  const int64_t P = s.H * s.W, size = s.Co * s.Ci, parts = std::min(s.N, kWeightGradParts);
  float* partial = part_sums(parts * size);
  parallel_for(parts, 1, [&](int64_t p0, int64_t p1) {
    thread_local std::vector<Floats8> lane_buf;
    thread_local std::vector<float> tail_buf;
    Floats8* lanes = scratch(lane_buf, size);
    float* tail = scratch(tail_buf, size);
    for (int64_t part = p0; part < p1; ++part) {
      std::fill(lanes, lanes + size, Floats8{});
      std::fill(tail, tail + size, 0.0f);
      for (int64_t n = part * s.N / parts; n < (part + 1) * s.N / parts; ++n) {
        const float* dyn = dy + n * s.Co * P;
        const float* xn = x + n * s.Ci * P;
        // Input channels in fours: four independent chains of sums on each row of dy.
        const auto sums = [&](auto count, int64_t co, int64_t ci) {
          constexpr int C = decltype(count)::value;
          const float* a = dyn + co * P;
          const int64_t e = co * s.Ci + ci;
          Floats8 acc[C];
          for (int j = 0; j < C; ++j) acc[j] = lanes[e + j];
          int64_t q = 0;
          for (; q + 8 <= P; q += 8) {
            const Floats8 av = load8(a + q);
            for (int j = 0; j < C; ++j) acc[j] += av * load8(xn + (ci + j) * P + q);
          }
          for (int j = 0; j < C; ++j) {
            lanes[e + j] = acc[j];
            for (int64_t r = q; r < P; ++r) tail[e + j] += a[r] * xn[(ci + j) * P + r];
          }
        };
        for (int64_t co = 0; co < s.Co; ++co) {
          int64_t ci = 0;
          for (; ci + 4 <= s.Ci; ci += 4) sums(std::integral_constant<int, 4>{}, co, ci);
          for (; ci < s.Ci; ++ci) sums(std::integral_constant<int, 1>{}, co, ci);
        }
      }
      for (int64_t e = 0; e < size; ++e) {
        float v = tail[e];
        for (int l = 0; l < 8; ++l) v += lanes[e][l];
        partial[part * size + e] = v;
      }
    }
  });
  for (int64_t e = 0; e < size; ++e) {
    float v = partial[e];
    for (int64_t p = 1; p < parts; ++p) v += partial[p * size + e];
    dw[e] = accumulate ? dw[e] + v : v;
  }
}

#ifdef __AVX512F__
// ---- Convs with the channels they output in lanes, on AVX-512 (the small strided convs, and
// images of 16 pixels or fewer): out^T [pixel][channel] = sum over taps k of in[pixel's tap k]
// W^T [k][channel], an implicit GEMM whose input operand is read in place from zero-padded planes
// (pixel p's tap k at pixel[p] + tap[k]): 12 pixels by one or two vectors of 16 channels in
// registers, each a multiply-add of the input broadcast. The forward's pixels are y's; the input
// gradient's are dx's, by phase (the residues of its row and column modulo the stride), each
// phase's taps the kernel taps that reach it, over dy zero-padded. Per image, in order of taps: the
// same bits for any thread count; not the grid's or the explicit columns' sums, so other last bits
// than GMN_CPU=avx2.

// The tables of one conv shape (N aside) and direction, made once: planes of `height` rows ld
// apart (top, left: the padding before the input), the pixels by phase (offset in a plane, index
// in the output image), each phase's taps (offset, and the weight's (co, ci, a, b) index minus
// the lane's channel: lanes are ci for the input gradient, co for the forward).
struct LanePlan {
  int64_t planes, height, ld, top, left, lanes;  // lanes: the output image's channels
  std::vector<int64_t> pixel, out, tap, weight;
  std::vector<int64_t> pixel_end, tap_end;  // per phase: one past its last pixel and tap
  int64_t weight_stride;                    // between the lanes' channels in w

  LanePlan(const Conv2dShape& s, bool input_grad) {
    const int64_t st = s.stride, kh = s.kh, kw = s.kw;
    if (!input_grad) {
      planes = s.Ci, height = st * (s.Ho - 1) + kh, ld = st * (s.Wo - 1) + kw, top = s.pad_top, left = s.pad_left;
      lanes = s.Co, weight_stride = s.Ci * kh * kw;
      for (int64_t i = 0; i < s.Ho; ++i)
        for (int64_t j = 0; j < s.Wo; ++j) pixel.push_back(st * (i * ld + j)), out.push_back(i * s.Wo + j);
      for (int64_t c = 0; c < s.Ci; ++c)
        for (int64_t a = 0; a < kh; ++a)
          for (int64_t b = 0; b < kw; ++b) tap.push_back((c * height + a) * ld + b), weight.push_back((c * kh + a) * kw + b);
      pixel_end.push_back(static_cast<int64_t>(pixel.size())), tap_end.push_back(static_cast<int64_t>(tap.size()));
      return;
    }
    // dx (y, x) with (y + pad_top) = st * u + py gets the taps a = py + st * m (m < Mh) from dy row
    // u - m: dy padded by the most m before it (Mt rows, Ml columns), so pixel (u, v) of a phase is
    // at u * ld + v and tap (co, m, n) at co's plane, row Mt - m, column Ml - n from there.
    const int64_t Mt = ceil_div(kh, st) - 1, Ml = ceil_div(kw, st) - 1;
    const int64_t um = (s.H - 1 + s.pad_top) / st, vm = (s.W - 1 + s.pad_left) / st;
    planes = s.Co, top = Mt, left = Ml, lanes = s.Ci, weight_stride = kh * kw;
    height = std::max(s.Ho, um + 1) + Mt, ld = std::max(s.Wo, vm + 1) + Ml;
    for (int64_t py = 0; py < st; ++py)
      for (int64_t px = 0; px < st; ++px) {
        for (int64_t y = 0; y < s.H; ++y)
          for (int64_t x = 0; x < s.W; ++x)
            if ((y + s.pad_top) % st == py && (x + s.pad_left) % st == px)
              pixel.push_back((y + s.pad_top) / st * ld + (x + s.pad_left) / st), out.push_back(y * s.W + x);
        for (int64_t co = 0; co < s.Co; ++co)
          for (int64_t a = py; a < kh; a += st)
            for (int64_t b = px; b < kw; b += st) {
              tap.push_back((co * height + Mt - (a - py) / st) * ld + Ml - (b - px) / st);
              weight.push_back(co * s.Ci * kh * kw + a * kw + b);
            }
        pixel_end.push_back(static_cast<int64_t>(pixel.size())), tap_end.push_back(static_cast<int64_t>(tap.size()));
      }
  }
};

// out [index[p]][CV * 16] = the sums of pixels pixel[p], p < n (n <= kLanePixels; the rest repeat
// the last, not stored) over taps [0, K), w [K][CV * 16].
template <int CV>
void lane_block(const float* planes, const int64_t* pixel, const int64_t* index, int n, const int64_t* __restrict tap,
                int64_t K, const float* __restrict w, float* out) {
  constexpr int PX = kLanePixels;
  const float* at[PX];
  for (int p = 0; p < PX; ++p) at[p] = planes + pixel[std::min(p, n - 1)];
  __m512 acc[PX][CV];
  block_sums(K, [&](int64_t k, int p) { return at[p][tap[k]]; },
             [&](int64_t k, int v) { return _mm512_load_ps(w + (k * CV + v) * 16); }, acc);
#pragma GCC unroll 12
  for (int p = 0; p < PX; ++p)
    if (p < n)
#pragma GCC unroll 2
      for (int v = 0; v < CV; ++v) _mm512_store_ps(out + (index[p] * CV + v) * 16, acc[p][v]);
}

// Where lane_conv runs: AVX-512 chosen, up to 32 output channels (input channels for the input
// gradient), and none of the kernels above for this conv (1x1, plane rows; same-size convs choose
// theirs in same_size_conv).
bool lane_conv(const Conv2dShape& s, bool input_grad) {
  return cpu_isa().active == CpuIsa::Avx512 && (input_grad ? s.Ci : s.Co) <= 32 && !pointwise(s) &&
         !same_size(s) && !row_planes(s, input_grad);
}

// y (+)= the conv s of x, or with input_grad dx (+)= its input gradient of dy (in: x or dy, out: y
// or dx), with SameConv's epilogue.
void lane_conv_run(const float* w, const Conv2dShape& s, bool input_grad, const float* in, float* out,
                   bool accumulate, const Epilogue& e) {
  Conv2dShape key = s;
  key.N = 0;
  const LanePlan& plan_ = plan<LanePlan>(key, input_grad);
  const int64_t CV = ceil_div(plan_.lanes, 16), L = CV * 16, K = static_cast<int64_t>(plan_.tap.size());
  // The weights [phase taps][L], zeros past the lanes' channels.
  thread_local std::vector<float> weight_buffer;
  float* wt = aligned_scratch(weight_buffer, K * L);
  for (int64_t k = 0; k < K; ++k)
    for (int64_t c = 0; c < L; ++c) wt[k * L + c] = c < plan_.lanes ? w[plan_.weight[k] + c * plan_.weight_stride] : 0.0f;
  const int64_t in_image = input_grad ? s.Co * s.Ho * s.Wo : s.Ci * s.H * s.W;
  const int64_t in_h = input_grad ? s.Ho : s.H, in_w = input_grad ? s.Wo : s.W;
  const int64_t pixels = input_grad ? s.H * s.W : s.Ho * s.Wo, out_image = plan_.lanes * pixels;
  parallel_for(s.N, 1, [&](int64_t n0, int64_t n1) {
    thread_local std::vector<float> plane_buffer, sums_buffer, image_buffer;
    // The input in place where it needs no padding (its rows the planes' rows).
    const bool in_place = plan_.top == 0 && plan_.left == 0 && plan_.ld == in_w && plan_.height <= in_h;
    float* planes = in_place ? nullptr : aligned_scratch(plane_buffer, plan_.planes * plan_.height * plan_.ld);
    float* sums = aligned_scratch(sums_buffer, pixels * L);  // [output pixel][L]
    float* image = accumulate || e.residual ? scratch(image_buffer, out_image) : nullptr;
    for (int64_t n = n0; n < n1; ++n) {
      const float* src = in + n * in_image;
      if (!in_place) padded_planes(src, plan_.planes, in_h, in_w, plan_.top, plan_.left, plan_.height, plan_.ld, planes);
      for (size_t phase = 0, p0 = 0, k0 = 0; phase < plan_.pixel_end.size(); ++phase) {
        const size_t p1 = plan_.pixel_end[phase], k1 = plan_.tap_end[phase];
        for (size_t p = p0; p < p1; p += kLanePixels) {
          const int count = static_cast<int>(std::min<size_t>(kLanePixels, p1 - p));
          const int64_t* pixel = plan_.pixel.data() + p, * index = plan_.out.data() + p, * tap = plan_.tap.data() + k0;
          const int64_t taps = static_cast<int64_t>(k1 - k0);
          if (CV == 1) lane_block<1>(in_place ? src : planes, pixel, index, count, tap, taps, wt + k0 * L, sums);
          else lane_block<2>(in_place ? src : planes, pixel, index, count, tap, taps, wt + k0 * L, sums);
        }
        p0 = p1, k0 = k1;
      }
      float* dst = out + n * out_image;
      bool add = accumulate;
      if (e.residual) {
        store_row(e.residual + n * out_image, dst, out_image, accumulate);
        add = true;
      }
      transpose_into([&](int64_t p) { return sums + p * L; }, pixels, plan_.lanes, add ? image : dst, pixels);
      if (add) store_row(image, dst, out_image, true);
      e.activate(out, n, plan_.lanes, pixels);
    }
  });
}
#endif

}  // namespace

void conv2d_forward(const float* x, const float* w, float* y, const Conv2dShape& s, bool accumulate) {
#ifdef __AVX512F__
  if (lane_conv(s, false)) return lane_conv_run(w, s, false, x, y, accumulate);
#endif
  if (pointwise(s)) pointwise_forward(x, w, y, s, accumulate);
  else if (explicit_columns(s)) columns_forward(x, w, y, s, accumulate);
  else conv_forward(x, w, y, s, accumulate);
}

void conv2d_backward(const float* x, const float* w, const float* dy, float* dx, float* dw, const Conv2dShape& s,
                     bool accumulate) {
#ifdef __AVX512F__
  if (dw && channel_lanes(s)) {
    channel_lane_weight_grad(x, dy, dw, s, accumulate);
    dw = nullptr;
  }
  if (dx && lane_conv(s, true)) {
    lane_conv_run(w, s, true, dy, dx, accumulate);
    dx = nullptr;
  }
#endif
  if (pointwise(s)) {
    if (dx) pointwise_input_grad(w, dy, dx, s, accumulate);
    if (dw) pointwise_weight_grad(x, dy, dw, s, accumulate);
    return;
  }
  if (explicit_columns(s)) {
    if (dx) columns_input_grad(w, dy, dx, s, accumulate);
    if (dw) columns_weight_grad(x, dy, dw, s, accumulate);
    return;
  }
  if (dx) conv_input_grad(w, dy, dx, s, accumulate);
  if (dw) conv_weight_grad(x, dy, dw, s, accumulate);
}

#ifdef __AVX512F__
namespace {

// residual_block_backward where Winograd runs, in one pass over the images by the weight
// gradient's parts: an image's PReLU gradient dz (in cache, not a tensor), its weight gradient
// sums, and dx (+)= dz + the conv's input gradient of dz. The same bits as the passes one after the
// other (prelu_backward, the weight gradient, the input gradient with dz as residual).
void winograd_block_backward(const float* x, const float* w, const float* alpha, const float* z, const float* dy,
                             float* dx, float* dw, float* dalpha, const Conv2dShape& s, bool accumulate) {
  const int64_t HW = s.H * s.W, image = s.Ci * HW;
  const WinogradWeightGrad grad(s);
  const Winograd input_grad(w, s.Ci, s.Co, s.H, s.W, true);
  thread_local std::vector<double> slope_buffer;  // [N][C]: each image's slope gradient sums
  double* slope = dalpha ? scratch(slope_buffer, s.N * s.Ci) : nullptr;
  each_part(s.N, grad.parts(), [&](int64_t part, int64_t n, bool first) {
    thread_local std::vector<float> dz_buffer;
    float* dz = aligned_scratch(dz_buffer, image);
    prelu_backward_image(z + n * image, alpha, dy + n * image, dz, slope ? slope + n * s.Ci : nullptr, s.Ci, HW);
    if (dw) grad.add(part, x + n * image, dz, first);
    if (dx) input_grad.image(dz, dx + n * image, accumulate, dz);
  });
  if (dalpha) prelu_slope_total(slope, dalpha, s.N, s.Ci, HW, accumulate);
  if (dw) grad.finish(dw, accumulate);
}

}  // namespace
#endif

// The residual block: the same-size kernel's epilogue (SameConv's or Winograd's) adds the input and
// applies the PReLU where it runs; elsewhere the conv, then the add and prelu kernels, which
// compute the same bits.
void residual_block_forward(const float* x, const float* w, const float* alpha, const float* addend, float* z,
                            float* y, const Conv2dShape& s) {
#ifdef __AVX512F__
  if (same_size(s)) return same_size_conv(w, s, false, x, z, false, {x, alpha, y, addend});
#endif
  const int64_t n = s.N * s.Co * s.H * s.W;
  conv2d_forward(x, w, z, s, false);
  add_forward(x, z, z, n);
  prelu_forward(z, alpha, y, s.N, s.Co, s.H * s.W);
  if (addend) add_forward(y, addend, y, n);
}

// dz = prelu's input gradient (in the calling thread's buffer); dw from dz; dx = dz + the conv's
// input gradient of dz, in the three ops' order: dz first (the add's gradient), the conv's sums
// added onto it.
void residual_block_backward(const float* x, const float* w, const float* alpha, const float* z, const float* dy,
                             float* dx, float* dw, float* dalpha, const Conv2dShape& s, bool accumulate) {
#ifdef __AVX512F__
  if (winograd(s)) return winograd_block_backward(x, w, alpha, z, dy, dx, dw, dalpha, s, accumulate);
#endif
  const int64_t HW = s.H * s.W, n = s.N * s.Co * HW;
  thread_local std::vector<float> dz_buffer, slope_buffer;
  float* dz = scratch(dz_buffer, n);
  float* slope = dalpha ? scratch(slope_buffer, s.Co) : nullptr;
  prelu_backward(z, alpha, dy, dz, slope, s.N, s.Co, HW, false);
  if (dalpha)
    for (int64_t c = 0; c < s.Co; ++c) dalpha[c] = accumulate ? dalpha[c] + slope[c] : slope[c];
  if (dw) conv2d_backward(x, w, dz, nullptr, dw, s, accumulate);
  if (!dx) return;
#ifdef __AVX512F__
  if (same_size(s)) return same_size_conv(w, s, true, dz, dx, accumulate, {dz, nullptr, nullptr});
#endif
  add_scaled(dz, 1.0f, dx, n, accumulate);
  conv2d_backward(x, w, dz, dx, nullptr, s, true);
}

}  // namespace gmn::cpu
