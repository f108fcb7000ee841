// conv2d as GEMMs. Stride 1 (the residual blocks, the 1x1 shortcuts, and the input gradient of
// either) reads the column matrix in place from zero-padded copies of the images (Grid below);
// other strides use im2col + sgemm, one image at a time with images in parallel. The transposed
// conv (native/ops/conv_transpose2d.cc) is composed from these kernels: its output is a conv2d's
// input gradient.
#include <algorithm>
#include <cstring>
#include <vector>

#include "../base/threadpool.h"
#include "../kernels/kernels.h"
#include "sgemm.h"

namespace gmn::cpu {

namespace {

// The weight gradient is summed per part of the images, then the parts in order: a fixed split
// (it depends on N only), so the result does not depend on the thread count.
constexpr int64_t kWeightGradParts = 16;

// Calls row(c, src, lo, hi) for every row (ci, a, b, i) of one image's column matrix
// [Ci*kh*kw, Ho*Wo], in order: the row's entries start at column c; entries j in [lo, hi) read
// src[j * stride] (src points into the image [Ci, H, W]; null for a row wholly in the padding),
// the others are the zero padding.
template <typename T, typename F>
inline void for_each_row(T* img, const Conv2dShape& s, F row) {
  int64_t c = 0;
  for (int64_t ci = 0; ci < s.Ci; ++ci)
    for (int64_t a = 0; a < s.kh; ++a)
      for (int64_t b = 0; b < s.kw; ++b) {
        // Columns j with 0 <= j*stride - pad_left + b < W.
        const int64_t off = b - s.pad_left;
        const int64_t lo = std::min(s.Wo, off >= 0 ? 0 : (-off + s.stride - 1) / s.stride);
        const int64_t hi = std::max(lo, std::min(s.Wo, off < s.W ? (s.W - 1 - off) / s.stride + 1 : 0));
        for (int64_t i = 0; i < s.Ho; ++i, c += s.Wo) {
          const int64_t y = i * s.stride - s.pad_top + a;
          if (y < 0 || y >= s.H) row(c, static_cast<T*>(nullptr), 0, 0);
          else row(c, img + (ci * s.H + y) * s.W + off, lo, hi);
        }
      }
}

void im2col(const float* img, float* col, const Conv2dShape& s) {
  const int64_t stride = s.stride, Wo = s.Wo;
  for_each_row(img, s, [&](int64_t c, const float* src, int64_t lo, int64_t hi) {
    float* out = col + c;
    for (int64_t j = 0; j < lo; ++j) out[j] = 0.0f;
    if (stride == 1) std::memcpy(out + lo, src + lo, (hi - lo) * sizeof(float));
    else
      for (int64_t j = lo; j < hi; ++j) out[j] = src[j * stride];
    for (int64_t j = hi; j < Wo; ++j) out[j] = 0.0f;
  });
}

// img = the sum of the column entries read from each pixel (the adjoint of im2col), added in
// column-matrix order.
void col2im(const float* col, float* img, const Conv2dShape& s) {
  std::fill(img, img + s.Ci * s.H * s.W, 0.0f);
  const int64_t stride = s.stride;
  for_each_row(img, s, [&](int64_t c, float* dst, int64_t lo, int64_t hi) {
    for (int64_t j = lo; j < hi; ++j) dst[j * stride] += col[c + j];
  });
}

float* scratch(std::vector<float>& buf, int64_t n) {
  buf.resize(static_cast<size_t>(n));
  return buf.data();
}

inline void add_row(const float* src, float* dst, int64_t n) {
  for (int64_t i = 0; i < n; ++i) dst[i] += src[i];
}

// produce(p) writes n values at p: into dst, or, when accumulating, into a buffer then added to
// dst, so that accumulating adds exactly the values an overwrite gives.
template <typename F>
void write_or_add(float* dst, int64_t n, bool accumulate, F produce) {
  if (!accumulate) return produce(dst);
  thread_local std::vector<float> tmp;
  produce(scratch(tmp, n));
  add_scaled(tmp.data(), 1.0f, dst, n, true);
}

// A stride-1 conv computed on a grid. The G images of a group are copied, zero-padded to Hp x Wp
// = (Ho + kh - 1) x (Wo + kw - 1), channel by channel: xp[ci][g][Hp][Wp]. Output (g, i, j) is grid
// column q = (g * Hp + i) * Wp + j, and the column matrix's row (ci, a, b) at column q is
// xp[off(ci, a, b) + q] with off = ci * G * Hp * Wp + a * Wp + b: the GEMM reads those rows in place
// (sgemm_rows), with no im2col. Columns outside the output (j >= Wo or i >= Ho) are computed and
// dropped; for the weight gradient their output gradient is zero.
struct Grid {
  const Conv2dShape& s;
  int64_t G, Hp, Wp, plane, Q;
  std::vector<int64_t> off;

  Grid(const Conv2dShape& shape, int64_t images)
      : s(shape), G(images), Hp(shape.Ho + shape.kh - 1), Wp(shape.Wo + shape.kw - 1), plane(Hp * Wp), Q(G * plane) {
    for (int64_t ci = 0; ci < s.Ci; ++ci)
      for (int64_t a = 0; a < s.kh; ++a)
        for (int64_t b = 0; b < s.kw; ++b) off.push_back(ci * Q + a * Wp + b);
  }
  // Rows of the last channel read past Ci * Q by up to this much: zeros.
  int64_t tail() const { return (s.kh - 1) * Wp + s.kw; }

  // xp for images x[n0, n0 + G) of x [N, Ci, H, W].
  void pad(const float* x, int64_t n0, float* xp) const {
    std::fill(xp, xp + s.Ci * Q + tail(), 0.0f);
    const int64_t rows = std::min(s.H, Hp - s.pad_top), cols = std::min(s.W, Wp - s.pad_left);
    for (int64_t ci = 0; ci < s.Ci; ++ci)
      for (int64_t g = 0; g < G; ++g) {
        const float* src = x + ((n0 + g) * s.Ci + ci) * s.H * s.W;
        float* dst = xp + ci * Q + g * plane + s.pad_top * Wp + s.pad_left;
        for (int64_t y = 0; y < rows; ++y) std::memcpy(dst + y * Wp, src + y * s.W, cols * sizeof(float));
      }
  }
  // Visits output (n0 + g, c, i, j) of [N, C, Ho, Wo] with its grid position g * plane + i * Wp + j.
  template <typename F>
  void each_output(int64_t C, int64_t n0, F f) const {
    for (int64_t g = 0; g < G; ++g)
      for (int64_t c = 0; c < C; ++c)
        for (int64_t i = 0; i < s.Ho; ++i)
          f(((n0 + g) * C + c) * s.Ho * s.Wo + i * s.Wo, c * Q + g * plane + i * Wp, s.Wo);
  }
};

// Images per grid GEMM: about kGridColumns columns; the forward's groups are also rounded to a
// multiple of the threads (its sums do not depend on the grouping).
constexpr int64_t kGridColumns = 2048;

// y (+)= the stride-1 conv s of x with w [Co, K], on grids of G images.
void grid_conv(const float* x, const float* w, float* y, const Conv2dShape& s, bool accumulate) {
  const int64_t plane = (s.Ho + s.kh - 1) * (s.Wo + s.kw - 1), threads = parallel_width();
  const int64_t wanted = (s.N * plane + kGridColumns - 1) / kGridColumns;
  const int64_t groups = std::min(s.N, (wanted + threads - 1) / threads * threads), G = (s.N + groups - 1) / groups;
  const int64_t K = s.Ci * s.kh * s.kw;
  const auto run = [&](int64_t i0, int64_t i1) {
    thread_local std::vector<float> xp, out;
    for (int64_t n0 = i0 * G; n0 < std::min(s.N, i1 * G); n0 += G) {
      const Grid grid(s, std::min(G, s.N - n0));
      grid.pad(x, n0, scratch(xp, s.Ci * grid.Q + grid.tail()));
      sgemm_rows(false, false, s.Co, grid.Q, K, 1.0f, w, K, xp.data(), grid.off.data(), 0.0f, scratch(out, s.Co * grid.Q),
                 grid.Q);
      grid.each_output(s.Co, n0, [&](int64_t o, int64_t q, int64_t n) {
        if (accumulate) add_row(out.data() + q, y + o, n);
        else std::memcpy(y + o, out.data() + q, n * sizeof(float));
      });
    }
  };
  const int64_t chunks = (s.N + G - 1) / G;
  if (chunks == 1) run(0, 1);  // one GEMM: its own threads
  else parallel_for(chunks, 1, run);
}

// y[n] = w [Co, K] col(x[n]) [K, Ho*Wo]
void conv_output(const float* x, const float* w, float* y, const Conv2dShape& s, bool accumulate) {
  const int64_t K = s.Ci * s.kh * s.kw, P = s.Ho * s.Wo;
  parallel_for(s.N, 1, [&](int64_t n0, int64_t n1) {
    thread_local std::vector<float> col;
    for (int64_t n = n0; n < n1; ++n) {
      im2col(x + n * s.Ci * s.H * s.W, scratch(col, K * P), s);
      write_or_add(y + n * s.Co * P, s.Co * P, accumulate,
                   [&](float* out) { sgemm(false, false, s.Co, P, K, 1.0f, w, K, col.data(), P, 0.0f, out, P); });
    }
  });
}

// dx[n] = col2im(w^T [K, Co] dy[n] [Co, Ho*Wo])
void conv_input_grad(const float* w, const float* dy, float* dx, const Conv2dShape& s, bool accumulate) {
  const int64_t K = s.Ci * s.kh * s.kw, P = s.Ho * s.Wo, image = s.Ci * s.H * s.W;
  parallel_for(s.N, 1, [&](int64_t n0, int64_t n1) {
    thread_local std::vector<float> col;
    for (int64_t n = n0; n < n1; ++n) {
      sgemm(true, false, K, P, s.Co, 1.0f, w, K, dy + n * s.Co * P, P, 0.0f, scratch(col, K * P), P);
      write_or_add(dx + n * image, image, accumulate, [&](float* out) { col2im(col.data(), out, s); });
    }
  });
}

// The conv whose output is a stride-1 conv's input gradient: dy correlated with the weights
// flipped and transposed (flipped_weights), padded by the rest of the kernel.
Conv2dShape input_grad_conv(const Conv2dShape& s) {
  return {s.N, s.Co, s.Ho, s.Wo, s.Ci, s.kh, s.kw, s.H, s.W, 1, s.kh - 1 - s.pad_top, s.kw - 1 - s.pad_left};
}

// wt [Ci, Co, kh, kw] with wt[ci][co][a][b] = w[co][ci][kh - 1 - a][kw - 1 - b].
std::vector<float> flipped_weights(const float* w, const Conv2dShape& s) {
  std::vector<float> wt(static_cast<size_t>(s.Co * s.Ci * s.kh * s.kw));
  for (int64_t co = 0; co < s.Co; ++co)
    for (int64_t ci = 0; ci < s.Ci; ++ci)
      for (int64_t a = 0; a < s.kh; ++a)
        for (int64_t b = 0; b < s.kw; ++b)
          wt[((ci * s.Co + co) * s.kh + a) * s.kw + b] = w[((co * s.Ci + ci) * s.kh + s.kh - 1 - a) * s.kw + s.kw - 1 - b];
  return wt;
}

// dw [Co, K] = sum over n of dy[n] [Co, Ho*Wo] col(x[n])^T. The images are split into fixed parts
// (add_part(p, first, end, out) writes part p's sum), summed in order.
template <typename AddPart>
void weight_grad_by_parts(float* dw, const Conv2dShape& s, bool accumulate, AddPart add_part) {
  const int64_t size = s.Co * s.Ci * s.kh * s.kw, parts = std::min(s.N, kWeightGradParts);
  std::vector<float> partial(static_cast<size_t>(parts * size));
  parallel_for(parts, 1, [&](int64_t p0, int64_t p1) {
    for (int64_t p = p0; p < p1; ++p) add_part(p * s.N / parts, (p + 1) * s.N / parts, partial.data() + p * size);
  });
  parallel_for(size, 4096, [&](int64_t e0, int64_t e1) {
    for (int64_t e = e0; e < e1; ++e) {
      float v = partial[e];
      for (int64_t p = 1; p < parts; ++p) v += partial[p * size + e];
      dw[e] = accumulate ? dw[e] + v : v;
    }
  });
}

void conv_weight_grad(const float* x, const float* dy, float* dw, const Conv2dShape& s, bool accumulate) {
  const int64_t K = s.Ci * s.kh * s.kw, P = s.Ho * s.Wo;
  weight_grad_by_parts(dw, s, accumulate, [&](int64_t first, int64_t end, float* out) {
    thread_local std::vector<float> col;
    for (int64_t n = first; n < end; ++n) {
      im2col(x + n * s.Ci * s.H * s.W, scratch(col, K * P), s);
      sgemm(false, true, s.Co, K, P, 1.0f, dy + n * s.Co * P, P, col.data(), P, n == first ? 0.0f : 1.0f, out, K);
    }
  });
}

// The weight gradient at stride 1 on grids of a fixed number of images (it fixes the sums' order):
// dw += dy_grid [Co, Q] xp-rows^T, dy_grid being dy on the grid with zeros off the output.
void grid_weight_grad(const float* x, const float* dy, float* dw, const Conv2dShape& s, bool accumulate) {
  const int64_t K = s.Ci * s.kh * s.kw, plane = (s.Ho + s.kh - 1) * (s.Wo + s.kw - 1);
  const int64_t G = std::max<int64_t>(1, kGridColumns / plane);
  weight_grad_by_parts(dw, s, accumulate, [&](int64_t first, int64_t end, float* out) {
    thread_local std::vector<float> xp, dyg;
    for (int64_t n0 = first; n0 < end; n0 += G) {
      const Grid grid(s, std::min(G, end - n0));
      grid.pad(x, n0, scratch(xp, s.Ci * grid.Q + grid.tail()));
      float* d = scratch(dyg, s.Co * grid.Q);
      std::fill(d, d + s.Co * grid.Q, 0.0f);
      grid.each_output(s.Co, n0, [&](int64_t o, int64_t q, int64_t n) { std::memcpy(d + q, dy + o, n * sizeof(float)); });
      sgemm_rows(false, true, s.Co, K, grid.Q, 1.0f, d, grid.Q, xp.data(), grid.off.data(), n0 == first ? 0.0f : 1.0f,
                 out, K);
    }
  });
}

}  // namespace

void conv2d_forward(const float* x, const float* w, float* y, const Conv2dShape& s, bool accumulate) {
  if (s.stride == 1) grid_conv(x, w, y, s, accumulate);
  else conv_output(x, w, y, s, accumulate);
}

void conv2d_backward(const float* x, const float* w, const float* dy, float* dx, float* dw, const Conv2dShape& s,
                     bool accumulate) {
  if (s.stride == 1) {
    if (dx) grid_conv(dy, flipped_weights(w, s).data(), dx, input_grad_conv(s), accumulate);
    if (dw) grid_weight_grad(x, dy, dw, s, accumulate);
    return;
  }
  if (dx) conv_input_grad(w, dy, dx, s, accumulate);
  if (dw) conv_weight_grad(x, dy, dw, s, accumulate);
}

}  // namespace gmn::cpu
