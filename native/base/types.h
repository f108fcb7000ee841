// Backend-neutral types that kernel signatures and op checks share.
#pragma once
#include <cstdint>

namespace gmn {

// The sizes of one conv2d: x [N, Ci, H, W], weight [Co, Ci, kh, kw], y [N, Co, Ho, Wo]. Output row i
// reads input rows i*stride - pad_top + a for a < kh (zero outside the input); likewise columns.
struct Conv2dShape {
  int64_t N, Ci, H, W, Co, kh, kw, Ho, Wo, stride, pad_top, pad_left;
};

inline bool operator==(const Conv2dShape& a, const Conv2dShape& b) {
  return a.N == b.N && a.Ci == b.Ci && a.H == b.H && a.W == b.W && a.Co == b.Co && a.kh == b.kh && a.kw == b.kw &&
         a.Ho == b.Ho && a.Wo == b.Wo && a.stride == b.stride && a.pad_top == b.pad_top && a.pad_left == b.pad_left;
}

// How the attention read compares a query with its keys.
enum class Similarity { Dot, Cosine, Average };

}  // namespace gmn
