// The optimizer kernels (sum_squares, adam, sgd) each make one pass over all the tensors of a call:
// the elements are cut into fixed chunks (never across tensors) that depend only on the sizes, so
// the chunks run in parallel and any reduction is summed per chunk, then in chunk order.
#pragma once
#include <algorithm>
#include <vector>

#include "../base/threadpool.h"

namespace gmn::cpu::chunks {

constexpr int64_t kChunk = 16384;

struct Chunk {
  int64_t tensor, begin, end;
};

inline std::vector<Chunk> chunks_of(const int64_t* sizes, int64_t count) {
  std::vector<Chunk> chunks;
  for (int64_t t = 0; t < count; ++t)
    for (int64_t b = 0; b < sizes[t]; b += kChunk) chunks.push_back({t, b, std::min(sizes[t], b + kChunk)});
  return chunks;
}

// fn(chunk index, chunk) for every chunk, in parallel.
template <typename F>
inline void for_each_chunk(const std::vector<Chunk>& chunks, F&& fn) {
  parallel_for(static_cast<int64_t>(chunks.size()), 1, [&](int64_t c0, int64_t c1) {
    for (int64_t c = c0; c < c1; ++c) fn(c, chunks[c]);
  });
}

}  // namespace gmn::cpu::chunks
