// The CPU thread pool every kernel shares. parallel_for splits [0, n) into chunks whose
// boundaries depend only on n and grain (never on the thread count), so kernels that reduce per
// chunk give the same bits with any number of threads.
#pragma once
#include <cstdint>
#include <type_traits>

namespace gmn {

// A callable f(begin, end), borrowed for the length of a call: two pointers, no copy. (A
// std::function would copy a lambda that captures more than two references onto the heap at
// every parallel_for.)
class RangeFn {
 public:
  template <typename F, typename = std::enable_if_t<!std::is_same_v<std::decay_t<F>, RangeFn>>>
  RangeFn(const F& f)  // NOLINT: implicit, so that a lambda passes as it is
      : f_(&f), call_([](const void* f, int64_t begin, int64_t end) { (*static_cast<const F*>(f))(begin, end); }) {}
  void operator()(int64_t begin, int64_t end) const { call_(f_, begin, end); }

 private:
  const void* f_;
  void (*call_)(const void*, int64_t, int64_t);
};

// Runs fn over [0, n) in chunks of `grain` items on the pool (the caller takes part).
// Nested calls from inside a chunk run serially on the calling thread.
void parallel_for(int64_t n, int64_t grain, const RangeFn& fn);

// A grain of rows of `width` floats: about 4096 elements a chunk.
inline int64_t row_grain(int64_t width) { return width >= 4096 ? 1 : 4096 / (width < 1 ? 1 : width); }

// Wakes sleeping workers to spin for the next region: called at the start of a pass of many
// regions (a recorded program), so that its first regions find them awake.
void wake_workers();

// While alive with `on`, parallel_for on this thread runs serially and parallel_width() is 1: for
// a pass measured to run faster on one thread (chunk bounds are unchanged: the same bits).
class SerialScope {
 public:
  explicit SerialScope(bool on);
  ~SerialScope();
  SerialScope(const SerialScope&) = delete;
  SerialScope& operator=(const SerialScope&) = delete;

 private:
  bool previous_;
};

// Number of threads (including the caller). Default: GMN_THREADS, else all cores.
int num_threads();
// The threads a parallel_for called here would use: 1 inside a parallel region (it runs serially).
int parallel_width();
// Resizes the pool; n >= 1. Waits for a running parallel_for to finish.
void set_num_threads(int n);

}  // namespace gmn
