// CUDA emulation on the CPU: a drop-in <cuda_runtime.h> for the host compiler, so that the CUDA
// kernels compile with g++ and run the CUDA execution model without a GPU (the emulation build
// puts -Inative/emulation first and defines GMN_CUDA_EMULATION=1). README.md in this folder
// describes the model and the subset of CUDA that kernels may use; emulation.cc holds the
// scheduler, the warp collectives and the runtime API.
#pragma once

#if !defined(GMN_CUDA_EMULATION) || !GMN_CUDA_EMULATION
#error "native/emulation/cuda_runtime.h is the CPU emulation of CUDA: build with -DGMN_CUDA_EMULATION=1, or drop -Inative/emulation"
#endif

#include <math.h>  // libstdc++'s <math.h> also puts the float overloads (exp(float), ...) in the global namespace, as CUDA does

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <tuple>
#include <utility>

// ---------------------------------------------------------------------------------------------
// Keywords

#define __global__
#define __device__
#define __host__
#define __forceinline__ inline __attribute__((always_inline))
#define __launch_bounds__(...)
#define __align__(n) __attribute__((aligned(n)))
// Block-shared storage. A block's threads are fibers on the launching OS thread, so a
// thread_local is one object for all of them. All thread_locals of this module form one region
// (its TLS block) that the emulator can find: it saves that region at launch, fills it with a
// poison pattern before each block and restores it afterwards (see README.md, "__shared__").
#define __shared__ static thread_local

// ---------------------------------------------------------------------------------------------
// Vector types and built-in variables

struct uint3 {
  unsigned x, y, z;
};

struct dim3 {
  unsigned x, y, z;
  constexpr dim3(unsigned vx = 1, unsigned vy = 1, unsigned vz = 1) : x(vx), y(vy), z(vz) {}
  constexpr dim3(uint3 v) : x(v.x), y(v.y), z(v.z) {}
  constexpr operator uint3() const { return {x, y, z}; }
};

namespace gmn_emu::detail {
// The running thread's built-in variables, written by the scheduler at every switch. A plain
// global is enough: the launches of the process are serialised and a block runs one fiber at a time.
struct Builtins {
  uint3 thread_idx, block_idx;
  dim3 block_dim, grid_dim;
};
extern Builtins builtins;
}  // namespace gmn_emu::detail

#define threadIdx (static_cast<const uint3&>(::gmn_emu::detail::builtins.thread_idx))
#define blockIdx (static_cast<const uint3&>(::gmn_emu::detail::builtins.block_idx))
#define blockDim (static_cast<const dim3&>(::gmn_emu::detail::builtins.block_dim))
#define gridDim (static_cast<const dim3&>(::gmn_emu::detail::builtins.grid_dim))
constexpr int warpSize = 32;

// ---------------------------------------------------------------------------------------------
// Block barriers and warp collectives. These switch fibers, so they are out-of-line calls the
// compiler must treat as possibly writing any shared variable (never mark them pure or leaf).

void __syncthreads();
int __syncthreads_count(int predicate);
int __syncthreads_and(int predicate);
int __syncthreads_or(int predicate);
void __syncwarp(unsigned mask = 0xffffffffu);
unsigned __activemask();

namespace gmn_emu::detail {
enum class WarpOp : int {
  ShflIdx, ShflUp, ShflDown, ShflXor,
  Ballot, Any, All, Sync,
  ReduceAdd, ReduceMinSigned, ReduceMaxSigned, ReduceMinUnsigned, ReduceMaxUnsigned,
};
// Meets the lanes named in mask (they must all arrive with the same mask and op), each bringing
// value and its own arg (source lane, delta or lane mask) and width; returns this lane's result.
uint64_t warp_op(WarpOp op, unsigned mask, uint64_t value, int arg, int width);

template <class T>
uint64_t to_bits(T v) {
  uint64_t bits = 0;
  std::memcpy(&bits, &v, sizeof v);
  return bits;
}
template <class T>
T from_bits(uint64_t bits) {
  T v;
  std::memcpy(&v, &bits, sizeof v);
  return v;
}
}  // namespace gmn_emu::detail

// One overload per type, as CUDA declares them, so that e.g. a short argument promotes to int.
#define GMN_EMU_SHUFFLES(T)                                                                                      \
  inline T __shfl_sync(unsigned mask, T var, int src_lane, int width = warpSize) {                              \
    using namespace ::gmn_emu::detail;                                                                           \
    return from_bits<T>(warp_op(WarpOp::ShflIdx, mask, to_bits(var), src_lane, width));                         \
  }                                                                                                              \
  inline T __shfl_up_sync(unsigned mask, T var, unsigned delta, int width = warpSize) {                         \
    using namespace ::gmn_emu::detail;                                                                           \
    return from_bits<T>(warp_op(WarpOp::ShflUp, mask, to_bits(var), static_cast<int>(delta), width));           \
  }                                                                                                              \
  inline T __shfl_down_sync(unsigned mask, T var, unsigned delta, int width = warpSize) {                       \
    using namespace ::gmn_emu::detail;                                                                           \
    return from_bits<T>(warp_op(WarpOp::ShflDown, mask, to_bits(var), static_cast<int>(delta), width));         \
  }                                                                                                              \
  inline T __shfl_xor_sync(unsigned mask, T var, int lane_mask, int width = warpSize) {                         \
    using namespace ::gmn_emu::detail;                                                                           \
    return from_bits<T>(warp_op(WarpOp::ShflXor, mask, to_bits(var), lane_mask, width));                        \
  }
GMN_EMU_SHUFFLES(int)
GMN_EMU_SHUFFLES(unsigned)
GMN_EMU_SHUFFLES(long)
GMN_EMU_SHUFFLES(unsigned long)
GMN_EMU_SHUFFLES(long long)
GMN_EMU_SHUFFLES(unsigned long long)
GMN_EMU_SHUFFLES(float)
GMN_EMU_SHUFFLES(double)
#undef GMN_EMU_SHUFFLES

inline unsigned __ballot_sync(unsigned mask, int predicate) {
  using namespace ::gmn_emu::detail;
  return static_cast<unsigned>(warp_op(WarpOp::Ballot, mask, predicate != 0, 0, warpSize));
}
inline int __any_sync(unsigned mask, int predicate) {
  using namespace ::gmn_emu::detail;
  return static_cast<int>(warp_op(WarpOp::Any, mask, predicate != 0, 0, warpSize));
}
inline int __all_sync(unsigned mask, int predicate) {
  using namespace ::gmn_emu::detail;
  return static_cast<int>(warp_op(WarpOp::All, mask, predicate != 0, 0, warpSize));
}
// Reductions over 32-bit values (sm_80+). The value travels sign-extended for the signed forms.
inline unsigned __reduce_add_sync(unsigned mask, unsigned value) {
  using namespace ::gmn_emu::detail;
  return static_cast<unsigned>(warp_op(WarpOp::ReduceAdd, mask, value, 0, warpSize));
}
inline int __reduce_add_sync(unsigned mask, int value) {
  return static_cast<int>(__reduce_add_sync(mask, static_cast<unsigned>(value)));
}
inline unsigned __reduce_min_sync(unsigned mask, unsigned value) {
  using namespace ::gmn_emu::detail;
  return static_cast<unsigned>(warp_op(WarpOp::ReduceMinUnsigned, mask, value, 0, warpSize));
}
inline int __reduce_min_sync(unsigned mask, int value) {
  using namespace ::gmn_emu::detail;
  return static_cast<int>(warp_op(WarpOp::ReduceMinSigned, mask, static_cast<uint64_t>(int64_t{value}), 0, warpSize));
}
inline unsigned __reduce_max_sync(unsigned mask, unsigned value) {
  using namespace ::gmn_emu::detail;
  return static_cast<unsigned>(warp_op(WarpOp::ReduceMaxUnsigned, mask, value, 0, warpSize));
}
inline int __reduce_max_sync(unsigned mask, int value) {
  using namespace ::gmn_emu::detail;
  return static_cast<int>(warp_op(WarpOp::ReduceMaxSigned, mask, static_cast<uint64_t>(int64_t{value}), 0, warpSize));
}

// ---------------------------------------------------------------------------------------------
// Memory fences and atomics. Fibers of a launch share one OS thread, but the atomics are real
// (relaxed, like CUDA's) so that they stay correct if blocks ever run on several OS threads.

inline void __threadfence_block() { __atomic_thread_fence(__ATOMIC_SEQ_CST); }
inline void __threadfence() { __atomic_thread_fence(__ATOMIC_SEQ_CST); }
inline void __threadfence_system() { __atomic_thread_fence(__ATOMIC_SEQ_CST); }

namespace gmn_emu::detail {
// Read-modify-write through compare-and-swap, for the operations GCC has no builtin for.
template <class T, class F>
T atomic_update(T* address, F update) {
  T old;
  __atomic_load(address, &old, __ATOMIC_RELAXED);
  T desired;
  do {
    desired = update(old);
  } while (!__atomic_compare_exchange(address, &old, &desired, false, __ATOMIC_RELAXED, __ATOMIC_RELAXED));
  return old;
}
}  // namespace gmn_emu::detail

#define GMN_EMU_INTEGER_ATOMICS(T)                                                                     \
  inline T atomicAdd(T* address, T val) { return __atomic_fetch_add(address, val, __ATOMIC_RELAXED); } \
  inline T atomicExch(T* address, T val) { return __atomic_exchange_n(address, val, __ATOMIC_RELAXED); } \
  inline T atomicAnd(T* address, T val) { return __atomic_fetch_and(address, val, __ATOMIC_RELAXED); } \
  inline T atomicOr(T* address, T val) { return __atomic_fetch_or(address, val, __ATOMIC_RELAXED); }   \
  inline T atomicXor(T* address, T val) { return __atomic_fetch_xor(address, val, __ATOMIC_RELAXED); } \
  inline T atomicCAS(T* address, T compare, T val) {                                                   \
    __atomic_compare_exchange_n(address, &compare, val, false, __ATOMIC_RELAXED, __ATOMIC_RELAXED);     \
    return compare; /* the old value, whether or not the swap happened */                              \
  }                                                                                                    \
  inline T atomicMax(T* address, T val) {                                                              \
    return ::gmn_emu::detail::atomic_update(address, [val](T old) { return old < val ? val : old; });  \
  }                                                                                                    \
  inline T atomicMin(T* address, T val) {                                                              \
    return ::gmn_emu::detail::atomic_update(address, [val](T old) { return val < old ? val : old; });  \
  }
GMN_EMU_INTEGER_ATOMICS(int)
GMN_EMU_INTEGER_ATOMICS(unsigned)
GMN_EMU_INTEGER_ATOMICS(unsigned long long)
#undef GMN_EMU_INTEGER_ATOMICS

inline int atomicSub(int* address, int val) { return __atomic_fetch_sub(address, val, __ATOMIC_RELAXED); }
inline unsigned atomicSub(unsigned* address, unsigned val) { return __atomic_fetch_sub(address, val, __ATOMIC_RELAXED); }
inline long long atomicMax(long long* address, long long val) {
  return ::gmn_emu::detail::atomic_update(address, [val](long long old) { return old < val ? val : old; });
}
inline long long atomicMin(long long* address, long long val) {
  return ::gmn_emu::detail::atomic_update(address, [val](long long old) { return val < old ? val : old; });
}
inline float atomicAdd(float* address, float val) {
  return ::gmn_emu::detail::atomic_update(address, [val](float old) { return old + val; });
}
inline double atomicAdd(double* address, double val) {
  return ::gmn_emu::detail::atomic_update(address, [val](double old) { return old + val; });
}
inline float atomicExch(float* address, float val) {
  float old;
  __atomic_exchange(address, &val, &old, __ATOMIC_RELAXED);
  return old;
}

// ---------------------------------------------------------------------------------------------
// Math and bit intrinsics. The fast-math forms are evaluated at full precision, so results can
// differ from a GPU's in the last bits; compare against references with a tolerance.

inline float rsqrtf(float x) { return 1.0f / sqrtf(x); }
inline float __fdividef(float a, float b) { return a / b; }
inline float __saturatef(float x) { return x > 0.0f ? (x < 1.0f ? x : 1.0f) : 0.0f; }  // NaN gives 0, as on the GPU
inline float __fmaf_rn(float a, float b, float c) { return fmaf(a, b, c); }
inline float __fadd_rn(float a, float b) { return a + b; }
inline float __fsub_rn(float a, float b) { return a - b; }
inline float __fmul_rn(float a, float b) { return a * b; }
inline float __fdiv_rn(float a, float b) { return a / b; }
inline float __frcp_rn(float x) { return 1.0f / x; }
inline float __fsqrt_rn(float x) { return sqrtf(x); }

// glibc's <math.h> declares __expf, __logf, ... (extern "C", noexcept) without exporting them, so
// they are defined here with that same signature.
extern "C" {
inline float __expf(float x) noexcept { return expf(x); }
inline float __exp10f(float x) noexcept { return exp10f(x); }
inline float __logf(float x) noexcept { return logf(x); }
inline float __log2f(float x) noexcept { return log2f(x); }
inline float __log10f(float x) noexcept { return log10f(x); }
inline float __powf(float x, float y) noexcept { return powf(x, y); }
inline float __sinf(float x) noexcept { return sinf(x); }
inline float __cosf(float x) noexcept { return cosf(x); }
inline float __tanf(float x) noexcept { return tanf(x); }
}

inline int __float_as_int(float x) { return gmn_emu::detail::from_bits<int>(gmn_emu::detail::to_bits(x)); }
inline float __int_as_float(int x) { return gmn_emu::detail::from_bits<float>(gmn_emu::detail::to_bits(x)); }
inline unsigned __float_as_uint(float x) { return gmn_emu::detail::from_bits<unsigned>(gmn_emu::detail::to_bits(x)); }
inline float __uint_as_float(unsigned x) { return gmn_emu::detail::from_bits<float>(gmn_emu::detail::to_bits(x)); }
inline long long __double_as_longlong(double x) { return gmn_emu::detail::from_bits<long long>(gmn_emu::detail::to_bits(x)); }
inline double __longlong_as_double(long long x) { return gmn_emu::detail::from_bits<double>(gmn_emu::detail::to_bits(x)); }

inline int __popc(unsigned x) { return __builtin_popcount(x); }
inline int __popcll(unsigned long long x) { return __builtin_popcountll(x); }
inline int __clz(int x) { return x == 0 ? 32 : __builtin_clz(static_cast<unsigned>(x)); }
inline int __clzll(long long x) { return x == 0 ? 64 : __builtin_clzll(static_cast<unsigned long long>(x)); }
inline int __ffs(int x) { return __builtin_ffs(x); }
inline int __ffsll(long long x) { return __builtin_ffsll(x); }

template <class T>
inline T __ldg(const T* address) {
  return *address;
}

// Device-side min/max: plain (non-template) overloads in the global namespace, like CUDA's, so
// that std::min/std::max are untouched and an unqualified call with `using namespace std`
// prefers these rather than being ambiguous. Mixed signed/unsigned pairs give the unsigned type.
namespace gmn_emu::detail {
template <class R>
R smaller(R a, R b) {
  return b < a ? b : a;
}
template <class R>
R larger(R a, R b) {
  return a < b ? b : a;
}
}  // namespace gmn_emu::detail
#define GMN_EMU_MIN_MAX(R, A, B)                                                \
  inline R min(A a, B b) { return ::gmn_emu::detail::smaller<R>(a, b); } \
  inline R max(A a, B b) { return ::gmn_emu::detail::larger<R>(a, b); }
GMN_EMU_MIN_MAX(int, int, int)
GMN_EMU_MIN_MAX(unsigned, unsigned, unsigned)
GMN_EMU_MIN_MAX(unsigned, int, unsigned)
GMN_EMU_MIN_MAX(unsigned, unsigned, int)
GMN_EMU_MIN_MAX(long, long, long)
GMN_EMU_MIN_MAX(unsigned long, unsigned long, unsigned long)
GMN_EMU_MIN_MAX(unsigned long, long, unsigned long)
GMN_EMU_MIN_MAX(unsigned long, unsigned long, long)
GMN_EMU_MIN_MAX(long long, long long, long long)
GMN_EMU_MIN_MAX(unsigned long long, unsigned long long, unsigned long long)
GMN_EMU_MIN_MAX(unsigned long long, long long, unsigned long long)
GMN_EMU_MIN_MAX(unsigned long long, unsigned long long, long long)
#undef GMN_EMU_MIN_MAX
inline float min(float a, float b) { return fminf(a, b); }
inline float max(float a, float b) { return fmaxf(a, b); }
inline double min(double a, double b) { return fmin(a, b); }
inline double max(double a, double b) { return fmax(a, b); }
inline double min(float a, double b) { return fmin(a, b); }
inline double max(float a, double b) { return fmax(a, b); }
inline double min(double a, float b) { return fmin(a, b); }
inline double max(double a, float b) { return fmax(a, b); }

// ---------------------------------------------------------------------------------------------
// Runtime API. Work runs synchronously inside the call that issues it, so every stream is always
// idle: a legal schedule for any correct CUDA program.

enum cudaError {
  cudaSuccess = 0,
  cudaErrorInvalidValue = 1,
  cudaErrorMemoryAllocation = 2,
  cudaErrorInvalidConfiguration = 9,
  cudaErrorInsufficientDriver = 35,
  cudaErrorNoDevice = 100,
  cudaErrorInvalidDevice = 101,
  cudaErrorInvalidResourceHandle = 400,
  cudaErrorNotReady = 600,
  cudaErrorIllegalAddress = 700,
  cudaErrorLaunchFailure = 719,
};
using cudaError_t = cudaError;

enum cudaMemcpyKind {
  cudaMemcpyHostToHost = 0,
  cudaMemcpyHostToDevice = 1,
  cudaMemcpyDeviceToHost = 2,
  cudaMemcpyDeviceToDevice = 3,
  cudaMemcpyDefault = 4,
};

enum cudaMemPoolAttr {
  cudaMemPoolReuseFollowEventDependencies = 1,
  cudaMemPoolReuseAllowOpportunistic = 2,
  cudaMemPoolReuseAllowInternalDependencies = 3,
  cudaMemPoolAttrReleaseThreshold = 4,
};

using cudaStream_t = struct CUstream_st*;
using cudaEvent_t = struct CUevent_st*;
using cudaMemPool_t = struct CUmemPoolHandle_st*;
using cudaHostFn_t = void (*)(void* user_data);

constexpr unsigned cudaStreamDefault = 0x0;
constexpr unsigned cudaStreamNonBlocking = 0x1;
constexpr unsigned cudaEventDefault = 0x0;
constexpr unsigned cudaEventBlockingSync = 0x1;
constexpr unsigned cudaEventDisableTiming = 0x2;

struct cudaDeviceProp {
  char name[256];
  size_t totalGlobalMem;
  size_t sharedMemPerBlock;
  int warpSize;
  int maxThreadsPerBlock;
  int maxThreadsDim[3];
  int maxGridSize[3];
  int major;
  int minor;
  int multiProcessorCount;
};

const char* cudaGetErrorName(cudaError_t error);
// For cudaErrorLaunchFailure and cudaErrorInvalidConfiguration the text ends with the detail of
// the most recent such event (valid until the next one).
const char* cudaGetErrorString(cudaError_t error);
cudaError_t cudaGetLastError();
cudaError_t cudaPeekAtLastError();

cudaError_t cudaRuntimeGetVersion(int* version);
cudaError_t cudaDriverGetVersion(int* version);
cudaError_t cudaGetDeviceCount(int* count);
cudaError_t cudaSetDevice(int device);
cudaError_t cudaGetDevice(int* device);
cudaError_t cudaGetDeviceProperties(cudaDeviceProp* prop, int device);
cudaError_t cudaDeviceSynchronize();
// Clears a kernel fault so the process can go on (allocations stay valid, unlike on a GPU).
cudaError_t cudaDeviceReset();

cudaError_t cudaMalloc(void** ptr, size_t bytes);
cudaError_t cudaFree(void* ptr);
cudaError_t cudaMallocAsync(void** ptr, size_t bytes, cudaStream_t stream);
cudaError_t cudaFreeAsync(void* ptr, cudaStream_t stream);
cudaError_t cudaMallocHost(void** ptr, size_t bytes);
cudaError_t cudaFreeHost(void* ptr);
cudaError_t cudaMemGetInfo(size_t* free_bytes, size_t* total_bytes);
cudaError_t cudaMemcpy(void* dst, const void* src, size_t bytes, cudaMemcpyKind kind);
cudaError_t cudaMemcpyAsync(void* dst, const void* src, size_t bytes, cudaMemcpyKind kind, cudaStream_t stream = nullptr);
cudaError_t cudaMemset(void* dst, int value, size_t bytes);
cudaError_t cudaMemsetAsync(void* dst, int value, size_t bytes, cudaStream_t stream = nullptr);
template <class T>
cudaError_t cudaMalloc(T** ptr, size_t bytes) {
  return cudaMalloc(reinterpret_cast<void**>(ptr), bytes);
}
template <class T>
cudaError_t cudaMallocAsync(T** ptr, size_t bytes, cudaStream_t stream) {
  return cudaMallocAsync(reinterpret_cast<void**>(ptr), bytes, stream);
}
template <class T>
cudaError_t cudaMallocHost(T** ptr, size_t bytes) {
  return cudaMallocHost(reinterpret_cast<void**>(ptr), bytes);
}

cudaError_t cudaStreamCreate(cudaStream_t* stream);
cudaError_t cudaStreamCreateWithFlags(cudaStream_t* stream, unsigned flags);
cudaError_t cudaStreamDestroy(cudaStream_t stream);
cudaError_t cudaStreamSynchronize(cudaStream_t stream);
cudaError_t cudaStreamQuery(cudaStream_t stream);
cudaError_t cudaStreamWaitEvent(cudaStream_t stream, cudaEvent_t event, unsigned flags = 0);
cudaError_t cudaLaunchHostFunc(cudaStream_t stream, cudaHostFn_t fn, void* user_data);

cudaError_t cudaEventCreate(cudaEvent_t* event);
cudaError_t cudaEventCreateWithFlags(cudaEvent_t* event, unsigned flags);
cudaError_t cudaEventDestroy(cudaEvent_t event);
cudaError_t cudaEventRecord(cudaEvent_t event, cudaStream_t stream = nullptr);
cudaError_t cudaEventQuery(cudaEvent_t event);
cudaError_t cudaEventSynchronize(cudaEvent_t event);
cudaError_t cudaEventElapsedTime(float* ms, cudaEvent_t start, cudaEvent_t end);

cudaError_t cudaDeviceGetDefaultMemPool(cudaMemPool_t* pool, int device);
cudaError_t cudaMemPoolSetAttribute(cudaMemPool_t pool, cudaMemPoolAttr attr, void* value);

// ---------------------------------------------------------------------------------------------
// Kernel launch (through GMN_LAUNCH in launch.h) and emulator controls

namespace gmn_emu {
struct LaunchSite {
  const char* kernel;  // as written in GMN_LAUNCH
  const char* file;
  int line;
};
namespace detail {
// Runs invoke(call) once per thread of every block; reports errors through cudaGetLastError.
void launch(const LaunchSite& site, dim3 grid, dim3 block, size_t dynamic_shared, cudaStream_t stream,
            void (*invoke)(const void*), const void* call);
void* dynamic_shared();  // the launch's dynamic shared bytes, poisoned like __shared__ before each block
}  // namespace detail
}  // namespace gmn_emu

// args: the kernel arguments, evaluated once at the launch as CUDA does; call: a captureless
// lambda that calls the kernel with them (it is generic, so kernel templates deduce as usual).
template <class Args, class Call>
void gmn_emu_launch(const gmn_emu::LaunchSite& site, dim3 grid, dim3 block, size_t dynamic_shared,
                    cudaStream_t stream, const Args& args, Call call) {
  struct Bound {
    const Args& args;
    Call call;
  } bound{args, call};
  gmn_emu::detail::launch(
      site, grid, block, dynamic_shared, stream,
      [](const void* p) {
        const Bound& b = *static_cast<const Bound*>(p);
        std::apply(b.call, b.args);  // each thread gets its own copies of the parameters
      },
      &bound);
}

// The detail of the last kernel fault ("" if none yet): which kernel, launch site, block, and what
// went wrong. Valid until the next fault.
const char* gmn_emu_last_fault();

// Order in which the threads of a block run between barriers. The default, shuffled, is a fixed
// pseudo-random permutation per block and barrier phase; the environment variable
// GMN_EMU_SCHEDULE=forward|reverse|shuffled sets the initial value.
enum class gmn_emu_schedule { shuffled, forward, reverse };
void gmn_emu_set_schedule(gmn_emu_schedule schedule);
