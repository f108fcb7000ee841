// conv2d by im2col + sgemm, one image at a time with images in parallel. The transposed conv
// (native/ops/conv_transpose2d.cc) is composed from these kernels: its output is a conv2d's input
// gradient.
#include <algorithm>
#include <cstring>
#include <vector>

#include "../base/threadpool.h"
#include "../kernels/kernels.h"

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

// produce(p) writes n values at p: into dst, or, when accumulating, into a buffer then added to
// dst, so that accumulating adds exactly the values an overwrite gives.
template <typename F>
void write_or_add(float* dst, int64_t n, bool accumulate, F produce) {
  if (!accumulate) return produce(dst);
  thread_local std::vector<float> tmp;
  produce(scratch(tmp, n));
  add_scaled(tmp.data(), 1.0f, dst, n, true);
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

// dw [Co, K] = sum over n of dy[n] [Co, Ho*Wo] col(x[n])^T
void conv_weight_grad(const float* x, const float* dy, float* dw, const Conv2dShape& s, bool accumulate) {
  const int64_t K = s.Ci * s.kh * s.kw, P = s.Ho * s.Wo, size = s.Co * K;
  const int64_t parts = std::min(s.N, kWeightGradParts);
  std::vector<float> partial(static_cast<size_t>(parts * size));
  parallel_for(parts, 1, [&](int64_t p0, int64_t p1) {
    thread_local std::vector<float> col;
    for (int64_t p = p0; p < p1; ++p) {
      const int64_t first = p * s.N / parts, end = (p + 1) * s.N / parts;
      for (int64_t n = first; n < end; ++n) {
        im2col(x + n * s.Ci * s.H * s.W, scratch(col, K * P), s);
        sgemm(false, true, s.Co, K, P, 1.0f, dy + n * s.Co * P, P, col.data(), P, n == first ? 0.0f : 1.0f,
              partial.data() + p * size, K);
      }
    }
  });
  parallel_for(size, 4096, [&](int64_t e0, int64_t e1) {
    for (int64_t e = e0; e < e1; ++e) {
      float v = partial[e];
      for (int64_t p = 1; p < parts; ++p) v += partial[p * size + e];
      dw[e] = accumulate ? dw[e] + v : v;
    }
  });
}

}  // namespace

void conv2d_forward(const float* x, const float* w, float* y, const Conv2dShape& s, bool accumulate) {
  conv_output(x, w, y, s, accumulate);
}

void conv2d_backward(const float* x, const float* w, const float* dy, float* dx, float* dw, const Conv2dShape& s,
                     bool accumulate) {
  if (dx) conv_input_grad(w, dy, dx, s, accumulate);
  if (dw) conv_weight_grad(x, dy, dw, s, accumulate);
}

}  // namespace gmn::cpu
