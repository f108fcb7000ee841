// Checks of the CUDA emulation (native/emulation): the execution model, the detection of racy or
// divergent kernels, and the runtime API's error model. A standalone program, from the repository root:
//
//   g++ -std=c++17 -O1 -Inative/emulation -DGMN_CUDA_EMULATION=1 test/emulation/emulation_test.cc
//       native/emulation/emulation.cc -o /tmp/emu_test && /tmp/emu_test
//
// One line per check; the exit status is the number of failed checks (capped at 100). A watchdog
// fails the run if the emulator hangs instead of reporting a deadlock.
#include "../../native/emulation/launch.h"

#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

namespace {

int g_failures = 0;

void check(bool ok, const std::string& name, const std::string& detail = "") {
  std::printf("%s %s%s%s\n", ok ? "ok  " : "FAIL", name.c_str(), detail.empty() ? "" : ": ", detail.c_str());
  if (!ok) ++g_failures;
}

bool contains(const char* text, const char* part) { return std::strstr(text, part) != nullptr; }

// Device memory holding a copy of a host vector.
template <class T>
class DeviceArray {
 public:
  explicit DeviceArray(const std::vector<T>& host) : n_(host.size()) {
    cudaMalloc(&ptr_, n_ * sizeof(T));
    cudaMemcpy(ptr_, host.data(), n_ * sizeof(T), cudaMemcpyHostToDevice);
  }
  explicit DeviceArray(size_t n, T value = T{}) : DeviceArray(std::vector<T>(n, value)) {}
  DeviceArray(const DeviceArray&) = delete;
  DeviceArray& operator=(const DeviceArray&) = delete;
  ~DeviceArray() { cudaFree(ptr_); }
  T* get() const { return ptr_; }
  std::vector<T> read() const {
    std::vector<T> host(n_);
    cudaMemcpy(host.data(), ptr_, n_ * sizeof(T), cudaMemcpyDeviceToHost);
    return host;
  }

 private:
  size_t n_;
  T* ptr_ = nullptr;
};

template <class T>
size_t count_mismatches(const std::vector<T>& got, const std::vector<T>& want) {
  size_t bad = 0;
  for (size_t i = 0; i < got.size(); ++i) bad += !(got[i] == want[i]);
  return bad;
}

// Largest |got - want| relative to scale[i] (a bound on the magnitude of the terms summed).
double max_relative_error(const std::vector<float>& got, const std::vector<double>& want, const std::vector<double>& scale) {
  double worst = 0;
  for (size_t i = 0; i < got.size(); ++i) worst = std::max(worst, std::fabs(got[i] - want[i]) / (scale[i] + 1e-30));
  return worst;
}

// =============================================================================================
// Kernels

__global__ void saxpy_kernel(int64_t n, float a, const float* x, float* y) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x)
    y[i] = a * x[i] + y[i];
}

__global__ void index_kernel(unsigned* out) {
  const unsigned block = blockIdx.x + gridDim.x * (blockIdx.y + gridDim.y * blockIdx.z);
  const unsigned thread = threadIdx.x + blockDim.x * (threadIdx.y + blockDim.y * threadIdx.z);
  const unsigned threads = blockDim.x * blockDim.y * blockDim.z;
  out[block * threads + thread] = block * 1000 + thread;
}

constexpr int kTile = 16;

// C = A B for n x n matrices (n a multiple of kTile), staged through shared-memory tiles. Without
// the barriers a thread reads tile entries that other threads have not written yet.
template <bool Barriers>
__global__ void tiled_matmul_kernel(int n, const float* A, const float* B, float* C) {
  __shared__ float As[kTile][kTile];
  __shared__ float Bs[kTile][kTile];
  const unsigned tx = threadIdx.x, ty = threadIdx.y;
  const unsigned row = blockIdx.y * kTile + ty, col = blockIdx.x * kTile + tx;
  float acc = 0.0f;
  for (int k0 = 0; k0 < n; k0 += kTile) {
    As[ty][tx] = A[row * n + k0 + tx];
    Bs[ty][tx] = B[(k0 + ty) * n + col];
    if (Barriers) __syncthreads();
    for (int k = 0; k < kTile; ++k) acc += As[ty][k] * Bs[k][tx];
    if (Barriers) __syncthreads();
  }
  C[row * n + col] = acc;
}

// Sum of each warp's 32 values by a shuffle tree; Skew != 0 reads the wrong lanes.
template <int Skew>
__global__ void warp_sum_kernel(const int* in, int* out) {
  const unsigned i = blockIdx.x * blockDim.x + threadIdx.x;
  int v = in[i];
  for (int offset = 16; offset > 0; offset /= 2) v += __shfl_down_sync(0xffffffffu, v, offset + Skew);
  if (threadIdx.x % 32 == 0) out[i / 32] = v;
}

// Other shuffle forms, each result written per thread: xor all-reduce, up-scan, segmented
// broadcast, a 64-bit shuffle, and the sm_80 reductions.
__global__ void warp_forms_kernel(float* xor_sum, int* scan, int* broadcast, double* wide, int* reductions) {
  const unsigned t = threadIdx.x, lane = t % 32;
  float s = static_cast<float>(lane);
  for (int m = 16; m > 0; m /= 2) s += __shfl_xor_sync(0xffffffffu, s, m);
  xor_sum[t] = s;
  int p = static_cast<int>(lane) + 1;
  for (unsigned d = 1; d < 32; d *= 2) {
    const int up = __shfl_up_sync(0xffffffffu, p, d);
    if (lane >= d) p += up;
  }
  scan[t] = p;
  broadcast[t] = __shfl_sync(0xffffffffu, static_cast<int>(lane) * 10, 3, 8);
  wide[t] = __shfl_sync(0xffffffffu, 1e300 + lane, 31 - static_cast<int>(lane));
  const int signed_value = static_cast<int>(lane) - 5;
  reductions[t * 3 + 0] = __reduce_add_sync(0xffffffffu, signed_value);
  reductions[t * 3 + 1] = __reduce_min_sync(0xffffffffu, signed_value);
  reductions[t * 3 + 2] = static_cast<int>(__reduce_max_sync(0xffffffffu, lane * 2u));
}

// Votes per warp; blocks of 48 threads, so warp 1 has only 16 lanes.
__global__ void vote_kernel(unsigned* ballot, int* any, int* all_true, int* all_mixed, unsigned* active) {
  const unsigned lane = threadIdx.x % 32, warp = threadIdx.x / 32;
  const unsigned b = __ballot_sync(0xffffffffu, lane % 3 == 0);
  const int a = __any_sync(0xffffffffu, lane == 20);
  const int t = __all_sync(0xffffffffu, lane < 32);
  const int m = __all_sync(0xffffffffu, lane != 5);
  const unsigned act = __activemask();
  __syncwarp();
  if (lane == 0) {
    ballot[warp] = b;
    any[warp] = a;
    all_true[warp] = t;
    all_mixed[warp] = m;
    active[warp] = act;
  }
}

__global__ void barrier_votes_kernel(int* out) {
  const int count = __syncthreads_count(threadIdx.x % 3 == 0);
  const int all_true = __syncthreads_and(threadIdx.x < 1000);
  const int any = __syncthreads_or(threadIdx.x == 77);
  const int all_false = __syncthreads_and(threadIdx.x != 5);
  if (threadIdx.x == 0) {
    out[0] = count;
    out[1] = all_true;
    out[2] = any;
    out[3] = all_false;
  }
}

// A quarter of the block returns before the barrier; the barrier waits only for the others.
__global__ void early_exit_kernel(const int* in, int* out) {
  __shared__ int values[128];
  if (threadIdx.x >= 96) return;
  values[threadIdx.x] = in[threadIdx.x];
  __syncthreads();
  out[threadIdx.x] = values[95 - threadIdx.x];
}

__global__ void atomics_kernel(int* count, float* fsum, unsigned long long* usum, double* dsum, int* imax,
                               unsigned* umin, int* cas_slot, int* cas_wins, int* sub, unsigned* bits) {
  const int i = static_cast<int>(blockIdx.x * blockDim.x + threadIdx.x);
  atomicAdd(count, 1);
  atomicAdd(fsum, 1.0f);
  atomicAdd(usum, static_cast<unsigned long long>(i));
  atomicAdd(dsum, 0.5);
  atomicMax(imax, i);
  atomicMin(umin, static_cast<unsigned>(i) + 7u);
  if (atomicCAS(cas_slot, -1, i) == -1) atomicAdd(cas_wins, 1);
  atomicSub(sub, 2);
  atomicOr(bits, 1u << (i % 32));
}

// Reverses each block's slice through dynamic shared memory.
__global__ void reverse_kernel(const float* in, float* out) {
  GMN_DYNAMIC_SHARED(float, buffer);
  GMN_DYNAMIC_SHARED(unsigned, same_bytes);
  const unsigned t = threadIdx.x, base = blockIdx.x * blockDim.x;
  buffer[t] = in[base + t];
  __syncthreads();
  out[base + t] = buffer[blockDim.x - 1 - t];
  if (t == 0 && same_bytes[0] != __float_as_uint(buffer[0])) out[base] = -1.0f;
}

// Each block reads a shared word before writing it: it must see that block's poison.
__global__ void read_before_write_kernel(unsigned* out) {
  __shared__ unsigned word;
  out[blockIdx.x] = word;
  word = 1234;
}

__global__ void divergent_shuffle_kernel(int* out) {
  if (threadIdx.x % 32 >= 16) return;  // half of each warp leaves, the rest names it in the mask
  out[threadIdx.x] = __shfl_sync(0xffffffffu, static_cast<int>(threadIdx.x), 0);
}

__global__ void barrier_versus_syncwarp_kernel() {
  if (threadIdx.x % 32 < 16) __syncthreads();
  else __syncwarp();
}

__global__ void mask_without_caller_kernel(int* out) {
  out[threadIdx.x] = __shfl_sync(0x1u, 1, 0);
}

__global__ void flag_kernel(int* flag) { *flag = 1; }

__global__ void nested_launch_kernel(int* flag) { GMN_LAUNCH(flag_kernel, 1, 1, 0, 0, flag); }

// --- equivalents of native/cuda's kernels (written for this test, same contracts) -------------

// C = alpha op(A) op(B) + beta C (beta == 0 ignores C), row-major; 64x64 tiles of C per block of
// 256 threads, each thread owning 4x4 entries strided by 16; K staged in slices of 16.
constexpr int kGemmTile = 64, kGemmSlice = 16;

template <bool TA, bool TB>
__global__ void __launch_bounds__(256) gemm_kernel(int64_t M, int64_t N, int64_t K, float alpha, const float* __restrict__ A,
                                                   int64_t lda, const float* __restrict__ B, int64_t ldb, float beta,
                                                   float* __restrict__ C, int64_t ldc) {
  __shared__ float a_slice[kGemmSlice][kGemmTile + 1];  // a_slice[k][i] = op(A)(i0 + i, k0 + k)
  __shared__ float b_slice[kGemmSlice][kGemmTile + 1];  // b_slice[k][j] = op(B)(k0 + k, j0 + j)
  const int64_t tiles_n = (N + kGemmTile - 1) / kGemmTile;
  const int64_t i0 = blockIdx.x / tiles_n * kGemmTile, j0 = blockIdx.x % tiles_n * kGemmTile;
  const int tx = static_cast<int>(threadIdx.x % 16), ty = static_cast<int>(threadIdx.x / 16);
  float acc[4][4] = {};
  for (int64_t k0 = 0; k0 < K; k0 += kGemmSlice) {
    for (int e = static_cast<int>(threadIdx.x); e < kGemmTile * kGemmSlice; e += static_cast<int>(blockDim.x)) {
      const int i = e / kGemmSlice, k = e % kGemmSlice;
      const int64_t gi = i0 + i, gk = k0 + k;
      a_slice[k][i] = gi < M && gk < K ? (TA ? A[gk * lda + gi] : A[gi * lda + gk]) : 0.0f;
      const int j = e % kGemmTile, kb = e / kGemmTile;
      const int64_t gj = j0 + j, gkb = k0 + kb;
      b_slice[kb][j] = gj < N && gkb < K ? (TB ? B[gj * ldb + gkb] : B[gkb * ldb + gj]) : 0.0f;
    }
    __syncthreads();
    for (int k = 0; k < kGemmSlice; ++k)
      for (int r = 0; r < 4; ++r)
        for (int c = 0; c < 4; ++c) acc[r][c] += a_slice[k][ty + 16 * r] * b_slice[k][tx + 16 * c];
    __syncthreads();
  }
  for (int r = 0; r < 4; ++r)
    for (int c = 0; c < 4; ++c) {
      const int64_t i = i0 + ty + 16 * r, j = j0 + tx + 16 * c;
      if (i < M && j < N) C[i * ldc + j] = alpha * acc[r][c] + (beta == 0.0f ? 0.0f : beta * C[i * ldc + j]);
    }
}

__global__ void prelu_forward_kernel(const float* x, const float* alpha, float* y, int64_t n, int64_t C, int64_t inner) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x)
    y[i] = x[i] > 0.0f ? x[i] : alpha[i / inner % C] * x[i];
}

constexpr int kReduceThreads = 256;

// dalpha[c] = sum of dy * x over the entries of channel c where x <= 0; one block per channel and
// a fixed tree. LoopBarrier = false drops the barrier between the tree's levels.
template <bool LoopBarrier>
__global__ void prelu_alpha_grad_kernel(const float* x, const float* dy, float* dalpha, int64_t outer, int64_t C, int64_t inner) {
  __shared__ float partial[kReduceThreads];
  const int64_t c = blockIdx.x;
  float s = 0.0f;
  for (int64_t k = threadIdx.x; k < outer * inner; k += blockDim.x) {
    const int64_t i = (k / inner * C + c) * inner + k % inner;
    if (x[i] <= 0.0f) s += dy[i] * x[i];
  }
  partial[threadIdx.x] = s;
  __syncthreads();
  for (unsigned stride = kReduceThreads / 2; stride > 0; stride /= 2) {
    if (threadIdx.x < stride) partial[threadIdx.x] += partial[threadIdx.x + stride];
    if (LoopBarrier) __syncthreads();
  }
  if (threadIdx.x == 0) dalpha[c] = partial[0];
}

// =============================================================================================
// Checks

void check_grid_stride() {
  const int64_t n = 100003;
  std::vector<float> x(n), y(n), want(n);
  for (int64_t i = 0; i < n; ++i) {
    x[i] = static_cast<float>(i % 17);
    y[i] = static_cast<float>(i % 5);
    want[i] = 2.0f * x[i] + y[i];
  }
  DeviceArray<float> dx(x), dy(y);
  GMN_LAUNCH(saxpy_kernel, 64, 256, 0, 0, n, 2.0f, dx.get(), dy.get());
  const cudaError_t e = cudaGetLastError();
  check(e == cudaSuccess && count_mismatches(dy.read(), want) == 0, "grid-stride saxpy (64 blocks x 256, n = 100003)");

  const dim3 grid(3, 2, 2), block(8, 4, 2);
  const unsigned threads = block.x * block.y * block.z, blocks = grid.x * grid.y * grid.z;
  DeviceArray<unsigned> out(threads * blocks);
  GMN_LAUNCH(index_kernel, grid, block, 0, 0, out.get());
  std::vector<unsigned> want_index(threads * blocks);
  for (unsigned b = 0; b < blocks; ++b)
    for (unsigned t = 0; t < threads; ++t) want_index[b * threads + t] = b * 1000 + t;
  check(count_mismatches(out.read(), want_index) == 0, "3-d grid and block indices (3x2x2 blocks of 8x4x2)");
}

void check_tiled_matmul() {
  const int n = 64;
  std::vector<float> a(n * n), b(n * n), want(n * n, 0.0f);
  for (int i = 0; i < n * n; ++i) {
    a[i] = static_cast<float>(i % 7) - 3.0f;
    b[i] = static_cast<float>(i % 5) - 2.0f;
  }
  for (int i = 0; i < n; ++i)
    for (int k = 0; k < n; ++k)
      for (int j = 0; j < n; ++j) want[i * n + j] += a[i * n + k] * b[k * n + j];  // small integers: exact
  DeviceArray<float> da(a), db(b);
  const dim3 grid(n / kTile, n / kTile), block(kTile, kTile);
  const struct {
    gmn_emu_schedule schedule;
    const char* name;
  } schedules[] = {{gmn_emu_schedule::shuffled, "shuffled"}, {gmn_emu_schedule::forward, "forward"}, {gmn_emu_schedule::reverse, "reverse"}};
  for (const auto& s : schedules) {
    gmn_emu_set_schedule(s.schedule);
    DeviceArray<float> with(n * n), without(n * n);
    GMN_LAUNCH((tiled_matmul_kernel<true>), grid, block, 0, 0, n, da.get(), db.get(), with.get());
    GMN_LAUNCH((tiled_matmul_kernel<false>), grid, block, 0, 0, n, da.get(), db.get(), without.get());
    const bool launched = cudaGetLastError() == cudaSuccess;
    const size_t bad_with = count_mismatches(with.read(), want), bad_without = count_mismatches(without.read(), want);
    check(launched && bad_with == 0, std::string("tiled matmul with barriers is right (") + s.name + " order)");
    check(launched && bad_without > 0, std::string("tiled matmul without barriers is wrong (") + s.name + " order)",
          std::to_string(bad_without) + " of " + std::to_string(n * n) + " entries differ");
  }
  gmn_emu_set_schedule(gmn_emu_schedule::shuffled);
}

void check_warp_collectives() {
  const int threads = 128, blocks = 4, warps = threads * blocks / 32;
  std::vector<int> in(threads * blocks), want(warps, 0);
  for (int i = 0; i < threads * blocks; ++i) {
    in[i] = (i * 37) % 101 - 50;
    want[i / 32] += in[i];
  }
  DeviceArray<int> din(in), right(warps), skewed(warps);
  GMN_LAUNCH((warp_sum_kernel<0>), blocks, threads, 0, 0, din.get(), right.get());
  GMN_LAUNCH((warp_sum_kernel<1>), blocks, threads, 0, 0, din.get(), skewed.get());
  const bool launched = cudaGetLastError() == cudaSuccess;
  check(launched && count_mismatches(right.read(), want) == 0, "warp sum with __shfl_down_sync is right");
  check(launched && count_mismatches(skewed.read(), want) > 0, "warp sum with a wrong lane offset is wrong");

  const int n = 64;
  DeviceArray<float> xor_sum(n);
  DeviceArray<int> scan(n), broadcast(n), reductions(3 * n);
  DeviceArray<double> wide(n);
  GMN_LAUNCH(warp_forms_kernel, 1, n, 0, 0, xor_sum.get(), scan.get(), broadcast.get(), wide.get(), reductions.get());
  const auto xs = xor_sum.read();
  const auto sc = scan.read();
  const auto bc = broadcast.read();
  const auto wd = wide.read();
  const auto rd = reductions.read();
  bool ok = cudaGetLastError() == cudaSuccess;
  for (int t = 0; t < n; ++t) {
    const int lane = t % 32;
    ok = ok && xs[t] == 496.0f && sc[t] == (lane + 1) * (lane + 2) / 2 && bc[t] == (lane / 8 * 8 + 3) * 10 &&
         wd[t] == 1e300 + (31 - lane) && rd[3 * t] == 496 - 160 && rd[3 * t + 1] == -5 && rd[3 * t + 2] == 62;
  }
  check(ok, "__shfl_xor_sync, __shfl_up_sync, __shfl_sync with width 8, double shuffle, __reduce_*_sync");
}

void check_votes() {
  DeviceArray<unsigned> ballot(2), active(2);
  DeviceArray<int> any(2), all_true(2), all_mixed(2);
  GMN_LAUNCH(vote_kernel, 1, 48, 0, 0, ballot.get(), any.get(), all_true.get(), all_mixed.get(), active.get());
  const auto b = ballot.read();
  const auto a = any.read();
  const auto t = all_true.read();
  const auto m = all_mixed.read();
  const auto act = active.read();
  check(cudaGetLastError() == cudaSuccess && b[0] == 0x49249249u && b[1] == 0x9249u, "__ballot_sync (full warp, 16-lane warp)");
  check(a[0] == 1 && a[1] == 0 && t[0] == 1 && t[1] == 1 && m[0] == 0 && m[1] == 0 && act[0] == 0xffffffffu && act[1] == 0xffffu,
        "__any_sync, __all_sync, __activemask");

  DeviceArray<int> votes(4);
  GMN_LAUNCH(barrier_votes_kernel, 1, 100, 0, 0, votes.get());
  const auto v = votes.read();
  check(cudaGetLastError() == cudaSuccess && v[0] == 34 && v[1] == 1 && v[2] == 1 && v[3] == 0,
        "__syncthreads_count, __syncthreads_and, __syncthreads_or");

  std::vector<int> in(128);
  for (int i = 0; i < 128; ++i) in[i] = i * 3;
  DeviceArray<int> din(in), out(128, -7);
  GMN_LAUNCH(early_exit_kernel, 1, 128, 0, 0, din.get(), out.get());
  const auto o = out.read();
  bool ok = cudaGetLastError() == cudaSuccess;
  for (int i = 0; i < 128; ++i) ok = ok && o[i] == (i < 96 ? (95 - i) * 3 : -7);
  check(ok, "__syncthreads releases once the threads that have not exited arrive");
}

void check_atomics() {
  const int blocks = 37, threads = 128, total = blocks * threads;
  DeviceArray<int> count(1), imax(1, -1), cas_slot(1, -1), cas_wins(1), sub(1, 0);
  DeviceArray<float> fsum(1);
  DeviceArray<unsigned long long> usum(1);
  DeviceArray<double> dsum(1);
  DeviceArray<unsigned> umin(1, 0xffffffffu), bits(1);
  GMN_LAUNCH(atomics_kernel, blocks, threads, 0, 0, count.get(), fsum.get(), usum.get(), dsum.get(), imax.get(), umin.get(),
             cas_slot.get(), cas_wins.get(), sub.get(), bits.get());
  const int slot = cas_slot.read()[0];
  const bool ok = cudaGetLastError() == cudaSuccess && count.read()[0] == total && fsum.read()[0] == float(total) &&
                  usum.read()[0] == 1ull * total * (total - 1) / 2 && dsum.read()[0] == total * 0.5 &&
                  imax.read()[0] == total - 1 && umin.read()[0] == 7u && slot >= 0 && slot < total && cas_wins.read()[0] == 1 &&
                  sub.read()[0] == -2 * total && bits.read()[0] == 0xffffffffu;
  check(ok, "atomicAdd (int, float, unsigned long long, double), atomicMax/Min/CAS/Sub/Or from 37 blocks");
}

void check_dynamic_shared() {
  const int threads = 200, blocks = 5;
  std::vector<float> in(threads * blocks), want(threads * blocks);
  for (int i = 0; i < threads * blocks; ++i) in[i] = static_cast<float>(i);
  for (int b = 0; b < blocks; ++b)
    for (int t = 0; t < threads; ++t) want[b * threads + t] = in[b * threads + threads - 1 - t];
  DeviceArray<float> din(in), out(threads * blocks);
  GMN_LAUNCH(reverse_kernel, blocks, threads, threads * sizeof(float), 0, din.get(), out.get());
  check(cudaGetLastError() == cudaSuccess && count_mismatches(out.read(), want) == 0, "dynamic shared memory (GMN_DYNAMIC_SHARED)");
}

thread_local int t_host_value = 42;

void check_poison() {
  DeviceArray<unsigned> out(3);
  GMN_LAUNCH(read_before_write_kernel, 3, 1, 0, 0, out.get());
  const auto o = out.read();
  check(o[0] == 0x7F7F7F7Fu && o[1] == 0xFF7F7F7Fu && o[2] == 0xFFFFFFFFu, "every block starts with poisoned shared memory",
        "read " + std::to_string(o[0]) + ", " + std::to_string(o[1]) + ", " + std::to_string(o[2]));
  float* fresh = nullptr;
  cudaMalloc(&fresh, 4 * sizeof(float));
  float host[4] = {};
  cudaMemcpy(host, fresh, sizeof host, cudaMemcpyDeviceToHost);
  cudaFree(fresh);
  check(std::isnan(host[0]) && std::isnan(host[3]), "fresh cudaMalloc memory reads as NaN");

  // The arena is this module's TLS block: the launch must give the host's thread_locals back.
  cudaSetDevice(7);  // leaves cudaErrorInvalidDevice as the last error
  GMN_LAUNCH(read_before_write_kernel, 3, 1, 0, 0, out.get());
  check(t_host_value == 42 && cudaGetLastError() == cudaErrorInvalidDevice && cudaGetLastError() == cudaSuccess,
        "host thread_locals and the pending last error survive a launch");
}

// A fault: the launch ends, cudaGetLastError and every synchronising call report it until
// cudaDeviceReset, and the detail names what went wrong.
void check_fault(const char* name, const char* expected_detail) {
  const char* detail = gmn_emu_last_fault();
  const cudaError_t last = cudaGetLastError(), again = cudaGetLastError(), sync = cudaDeviceSynchronize();
  int host = 0;
  const cudaError_t copy = cudaMemcpy(&host, &host, sizeof host, cudaMemcpyHostToHost);
  const bool ok = last == cudaErrorLaunchFailure && again == cudaErrorLaunchFailure && sync == cudaErrorLaunchFailure &&
                  copy == cudaErrorLaunchFailure && contains(detail, expected_detail) &&
                  contains(cudaGetErrorString(last), expected_detail);
  check(ok, name, detail);
  cudaDeviceReset();
}

void check_faults() {
  DeviceArray<int> out(64), flag(1);
  GMN_LAUNCH(divergent_shuffle_kernel, 1, 64, 0, 0, out.get());
  check_fault("divergent __shfl_sync (lanes 16-31 returned) is a launch failure, not a hang", "that have exited");

  GMN_LAUNCH(barrier_versus_syncwarp_kernel, 2, 64, 0, 0);
  check_fault("__syncwarp against __syncthreads in one warp is reported as a deadlock", "wait at __syncthreads");

  GMN_LAUNCH(mask_without_caller_kernel, 1, 32, 0, 0, out.get());
  check_fault("a mask without the calling lane is reported", "does not name the calling lane");

  GMN_LAUNCH(nested_launch_kernel, 1, 1, 0, 0, flag.get());
  check_fault("a launch from inside a kernel is reported", "dynamic parallelism");

  GMN_LAUNCH(flag_kernel, 1, 1, 0, 0, flag.get());
  check(cudaGetLastError() == cudaSuccess && flag.read()[0] == 1, "launches work again after cudaDeviceReset");
}

void check_launch_config() {
  struct Case {
    dim3 grid, block;
    size_t shared;
    const char* what;
  };
  const Case cases[] = {
      {1, 0, 0, "0 threads per block"},
      {1, 1025, 0, "1025 threads per block"},
      {1, dim3(1, 1, 65), 0, "block.z = 65"},
      {0, 32, 0, "grid.x = 0"},
      {dim3(1, 65536), 32, 0, "grid.y = 65536"},
      {1, 32, 48 * 1024 + 1, "48 KiB + 1 of dynamic shared memory"},
  };
  for (const Case& c : cases) {
    DeviceArray<int> flag(1);
    GMN_LAUNCH(flag_kernel, c.grid, c.block, c.shared, 0, flag.get());
    const cudaError_t peek = cudaPeekAtLastError(), first = cudaGetLastError(), second = cudaGetLastError();
    check(peek == cudaErrorInvalidConfiguration && first == cudaErrorInvalidConfiguration && second == cudaSuccess &&
              flag.read()[0] == 0 && cudaDeviceSynchronize() == cudaSuccess,
          std::string("invalid launch (") + c.what + ") sets cudaGetLastError and does not run",
          cudaGetErrorString(cudaErrorInvalidConfiguration));
  }
}

// CPU references in double precision; scale bounds the magnitude of the summed terms.
void check_gemm() {
  const int64_t M = 100, N = 70, K = 40;
  const float alpha = 0.75f, beta = -0.5f;
  std::vector<float> a(M * K), b(K * N), c0(M * N);
  for (size_t i = 0; i < a.size(); ++i) a[i] = std::sin(0.37f * static_cast<float>(i));
  for (size_t i = 0; i < b.size(); ++i) b[i] = std::cos(0.11f * static_cast<float>(i));
  for (size_t i = 0; i < c0.size(); ++i) c0[i] = static_cast<float>(i % 9) - 4.0f;
  for (int variant = 0; variant < 4; ++variant) {
    const bool ta = variant & 1, tb = variant & 2;
    const int64_t lda = ta ? M : K, ldb = tb ? K : N;  // stored as op(A)^T / op(B)^T when transposed
    auto A = [&](int64_t i, int64_t k) { return double(ta ? a[k * lda + i] : a[i * lda + k]); };
    auto B = [&](int64_t k, int64_t j) { return double(tb ? b[j * ldb + k] : b[k * ldb + j]); };
    std::vector<double> want(M * N), scale(M * N);
    for (int64_t i = 0; i < M; ++i)
      for (int64_t j = 0; j < N; ++j) {
        double s = 0, m = 0;
        for (int64_t k = 0; k < K; ++k) {
          s += A(i, k) * B(k, j);
          m += std::fabs(A(i, k) * B(k, j));
        }
        want[i * N + j] = alpha * s + beta * c0[i * N + j];
        scale[i * N + j] = std::fabs(alpha) * m + std::fabs(beta * c0[i * N + j]);
      }
    DeviceArray<float> da(a), db(b), dc(c0);
    const dim3 grid(static_cast<unsigned>(((M + 63) / 64) * ((N + 63) / 64)));
    if (ta && tb) GMN_LAUNCH((gemm_kernel<true, true>), grid, 256, 0, 0, M, N, K, alpha, da.get(), lda, db.get(), ldb, beta, dc.get(), N);
    else if (ta) GMN_LAUNCH((gemm_kernel<true, false>), grid, 256, 0, 0, M, N, K, alpha, da.get(), lda, db.get(), ldb, beta, dc.get(), N);
    else if (tb) GMN_LAUNCH((gemm_kernel<false, true>), grid, 256, 0, 0, M, N, K, alpha, da.get(), lda, db.get(), ldb, beta, dc.get(), N);
    else GMN_LAUNCH((gemm_kernel<false, false>), grid, 256, 0, 0, M, N, K, alpha, da.get(), lda, db.get(), ldb, beta, dc.get(), N);
    const double err = max_relative_error(dc.read(), want, scale);
    check(cudaGetLastError() == cudaSuccess && err < 1e-5,
          std::string("tiled sgemm (ta=") + (ta ? "1" : "0") + ", tb=" + (tb ? "1" : "0") + ", 100x70x40) matches the CPU reference",
          "max relative error " + std::to_string(err));
  }
}

void check_prelu() {
  const int64_t outer = 3, C = 5, inner = 300, n = outer * C * inner;
  std::vector<float> x(n), dy(n), alpha(C);
  for (int64_t i = 0; i < n; ++i) {
    x[i] = std::sin(0.7f * static_cast<float>(i));
    dy[i] = std::cos(0.3f * static_cast<float>(i));
  }
  for (int64_t c = 0; c < C; ++c) alpha[c] = 0.1f * static_cast<float>(c + 1);
  std::vector<double> y_want(n), y_scale(n), da_want(C, 0.0), da_scale(C, 0.0);
  for (int64_t i = 0; i < n; ++i) {
    const int64_t c = i / inner % C;
    y_want[i] = x[i] > 0 ? x[i] : double(alpha[c]) * x[i];
    y_scale[i] = std::fabs(y_want[i]);
    if (x[i] <= 0) {
      da_want[c] += double(dy[i]) * x[i];
      da_scale[c] += std::fabs(double(dy[i]) * x[i]);
    }
  }
  DeviceArray<float> dx(x), ddy(dy), dalpha(alpha), y(n), grad(C), racy_grad(C);
  GMN_LAUNCH(prelu_forward_kernel, 8, 256, 0, 0, dx.get(), dalpha.get(), y.get(), n, C, inner);
  GMN_LAUNCH((prelu_alpha_grad_kernel<true>), static_cast<unsigned>(C), kReduceThreads, 0, 0, dx.get(), ddy.get(), grad.get(), outer, C, inner);
  GMN_LAUNCH((prelu_alpha_grad_kernel<false>), static_cast<unsigned>(C), kReduceThreads, 0, 0, dx.get(), ddy.get(), racy_grad.get(), outer, C, inner);
  const bool launched = cudaGetLastError() == cudaSuccess;
  const double y_err = max_relative_error(y.read(), y_want, y_scale);
  const double grad_err = max_relative_error(grad.read(), da_want, da_scale);
  const double racy_err = max_relative_error(racy_grad.read(), da_want, da_scale);
  check(launched && y_err < 1e-6, "prelu forward matches the CPU reference");
  check(launched && grad_err < 1e-5, "prelu alpha gradient (tree reduction) matches the CPU reference",
        "max relative error " + std::to_string(grad_err));
  check(launched && racy_err > 1e-3, "the same reduction without the barrier between levels is wrong",
        "max relative error " + std::to_string(racy_err));
}

void check_runtime_api() {
  int count = 0, device = -1, runtime = 0, driver = 0;
  cudaDeviceProp prop{};
  const bool queries = cudaGetDeviceCount(&count) == cudaSuccess && count == 1 && cudaSetDevice(0) == cudaSuccess &&
                       cudaGetDevice(&device) == cudaSuccess && device == 0 && cudaRuntimeGetVersion(&runtime) == cudaSuccess &&
                       cudaDriverGetVersion(&driver) == cudaSuccess && runtime == 13000 && driver == 13000 &&
                       cudaGetDeviceProperties(&prop, 0) == cudaSuccess && std::strcmp(prop.name, "CUDA emulation on the CPU") == 0 &&
                       prop.major == 9 && prop.minor == 0 && prop.sharedMemPerBlock == 48 * 1024 && prop.maxThreadsPerBlock == 1024 &&
                       prop.warpSize == 32 && prop.totalGlobalMem > 0 && prop.multiProcessorCount >= 1 && cudaFree(nullptr) == cudaSuccess;
  check(queries, "device queries, versions, properties, cudaFree(nullptr)");

  const bool bad_device = cudaSetDevice(1) == cudaErrorInvalidDevice && cudaGetLastError() == cudaErrorInvalidDevice &&
                          cudaGetLastError() == cudaSuccess;
  int host[4] = {1, 2, 3, 4};
  int* d = nullptr;
  cudaMalloc(&d, sizeof host);
  const bool bad_copies = cudaMemcpy(host, host, sizeof host, cudaMemcpyHostToDevice) == cudaErrorInvalidValue &&
                          cudaMemcpy(host, d, 2 * sizeof host, cudaMemcpyDeviceToHost) == cudaErrorInvalidValue &&
                          cudaMemset(host, 0, sizeof host) == cudaErrorInvalidValue && cudaFree(host) == cudaErrorInvalidValue &&
                          cudaGetLastError() == cudaErrorInvalidValue && cudaGetLastError() == cudaSuccess;
  check(bad_device && bad_copies, "invalid device, host pointers as device pointers, out-of-range copies are errors");

  cudaStream_t stream = nullptr;
  cudaEvent_t start = nullptr, end = nullptr;
  cudaMemPool_t pool = nullptr;
  uint64_t threshold = ~0ull;
  int back[4] = {};
  bool host_fn_ran = false;
  float ms = -1.0f;
  const bool streams =
      cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking) == cudaSuccess && cudaEventCreate(&start) == cudaSuccess &&
      cudaEventCreateWithFlags(&end, cudaEventDefault) == cudaSuccess && cudaEventRecord(start, stream) == cudaSuccess &&
      cudaMemcpyAsync(d, host, sizeof host, cudaMemcpyHostToDevice, stream) == cudaSuccess &&
      cudaMemsetAsync(d, 0, sizeof(int), stream) == cudaSuccess &&
      cudaMemcpyAsync(back, d, sizeof back, cudaMemcpyDeviceToHost, stream) == cudaSuccess &&
      cudaLaunchHostFunc(stream, [](void* p) { *static_cast<bool*>(p) = true; }, &host_fn_ran) == cudaSuccess &&
      cudaEventRecord(end, stream) == cudaSuccess && cudaStreamWaitEvent(stream, end) == cudaSuccess &&
      cudaEventSynchronize(end) == cudaSuccess && cudaEventElapsedTime(&ms, start, end) == cudaSuccess && ms >= 0.0f &&
      cudaStreamSynchronize(stream) == cudaSuccess && cudaDeviceGetDefaultMemPool(&pool, 0) == cudaSuccess &&
      cudaMemPoolSetAttribute(pool, cudaMemPoolAttrReleaseThreshold, &threshold) == cudaSuccess &&
      cudaEventDestroy(start) == cudaSuccess && cudaEventDestroy(end) == cudaSuccess && cudaStreamDestroy(stream) == cudaSuccess;
  check(streams && host_fn_ran && back[0] == 0 && back[1] == 2 && back[3] == 4, "streams, events, async copies, host functions, memory pool");
  void* async = nullptr;
  check(cudaMallocAsync(&async, 1000, nullptr) == cudaSuccess && async && cudaFreeAsync(async, nullptr) == cudaSuccess &&
            cudaFree(d) == cudaSuccess,
        "cudaMallocAsync / cudaFreeAsync");
}

}  // namespace

int main() {
  alarm(120);  // a hang (the failure the deadlock detection exists to prevent) kills the run
  const auto t0 = std::chrono::steady_clock::now();
  check_grid_stride();
  check_tiled_matmul();
  check_warp_collectives();
  check_votes();
  check_atomics();
  check_dynamic_shared();
  check_poison();
  check_faults();
  check_launch_config();
  check_gemm();
  check_prelu();
  check_runtime_api();
  const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  std::printf("%d check(s) failed, %.0f ms\n", g_failures, ms);
  return g_failures > 100 ? 100 : g_failures;
}
