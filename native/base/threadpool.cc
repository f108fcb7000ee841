#include "threadpool.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

namespace gmn {

namespace {

thread_local bool in_parallel_region = false;

int default_threads() {
  if (const char* env = std::getenv("GMN_THREADS")) {
    char* end = nullptr;
    long v = std::strtol(env, &end, 10);
    if (end != env && *end == '\0' && v >= 1 && v <= 1024) return static_cast<int>(v);
  }
  unsigned hw = std::thread::hardware_concurrency();
  return hw == 0 ? 1 : static_cast<int>(hw);
}

class Pool {
 public:
  Pool() { start(default_threads()); }
  ~Pool() { stop(); }

  // Lock-free, so that a kernel inside a parallel region may ask.
  int size() const { return size_.load(); }

  // Sleeping workers wake and spin for the next region (about kSpinMicros).
  void wake() {
    if (asleep_.load() == 0) return;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      ++wakes_;
    }
    wake_.notify_all();
  }

  void resize(int n) {
    std::lock_guard<std::mutex> run(run_mutex_);
    stop();
    start(n);
  }

  // Whether a worker was asleep when the region began (it paid a wake-up).
  bool run(int64_t n, int64_t grain, const RangeFn& fn) {
    std::lock_guard<std::mutex> run(run_mutex_);  // one parallel region at a time
    const bool woke = asleep_.load() > 0;
    const int64_t chunks = (n + grain - 1) / grain;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      fn_ = &fn;
      n_ = n;
      grain_ = grain;
      chunks_ = chunks;
      next_.store(0);
      pending_.store(static_cast<int>(workers_.size()));
      error_ = nullptr;
      generation_.fetch_add(1);
    }
    wake_.notify_all();
    work();
    // Spin a little before sleeping: the other threads usually finish within microseconds, and
    // waking a sleeping thread costs tens of microseconds (an inter-processor interrupt in a VM).
    if (!spin_until([&] { return pending_.load() == 0; })) {
      std::unique_lock<std::mutex> lock(mutex_);
      done_.wait(lock, [&] { return pending_.load() == 0; });
    }
    fn_ = nullptr;
    if (error_) std::rethrow_exception(error_);
    return woke;
  }

 private:
  // Called with run_mutex_ held, so no parallel region is in flight. New workers start from the
  // current generation: otherwise they would take the last finished region for a new one and
  // throw off the count of workers still busy in the next.
  void start(int n) {
    uint64_t current;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      quit_ = false;
      current = generation_;
    }
    for (int i = 1; i < n; ++i) workers_.emplace_back([this, current] { loop(current); });
    size_.store(n);
  }

  void stop() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      quit_ = true;
    }
    wake_.notify_all();
    for (auto& w : workers_) w.join();
    workers_.clear();
  }

  // Calls done() until it is true or about kSpinMicros have passed; whether it became true.
  // Longer spins were measured and dropped: 1 ms kept the workers awake between ops awaited one at
  // a time (a small product awaited in a loop: 126 against 400-500 us a call), but made the
  // training step 2x slower beside one busy process (660-810 against 330-340 ms), and yielding
  // while spinning gave up that gain again.
  template <typename F>
  static bool spin_until(F done) {
    constexpr int64_t kSpinMicros = 100;
    const auto until = std::chrono::steady_clock::now() + std::chrono::microseconds(kSpinMicros);
    for (int i = 0;; ++i) {
      if (done()) return true;
#if defined(__x86_64__) || defined(__i386__)
      __builtin_ia32_pause();
#endif
      if ((i & 63) == 63 && std::chrono::steady_clock::now() > until) return false;
    }
  }

  void loop(uint64_t seen) {
    for (;;) {
      // The next region usually follows within microseconds (a step issues hundreds): spin first.
      if (!spin_until([&] { return quit_.load() || generation_.load() != seen; })) {
        std::unique_lock<std::mutex> lock(mutex_);
        const uint64_t woken = wakes_;
        asleep_.fetch_add(1);
        wake_.wait(lock, [&] { return quit_.load() || generation_.load() != seen || wakes_ != woken; });
        asleep_.fetch_sub(1);
        if (!quit_.load() && generation_.load() == seen) continue;  // wake(): spin for the next region
      }
      if (quit_.load()) return;
      seen = generation_.load();
      work();
      if (pending_.fetch_sub(1) == 1) {
        std::lock_guard<std::mutex> lock(mutex_);  // the caller may be about to wait
        done_.notify_one();
      }
    }
  }

  // Takes chunks until none are left.
  void work() {
    in_parallel_region = true;
    for (;;) {
      const int64_t c = next_.fetch_add(1);
      if (c >= chunks_) break;
      const int64_t begin = c * grain_;
      const int64_t end = std::min(n_, begin + grain_);
      try {
        (*fn_)(begin, end);
      } catch (...) {
        std::lock_guard<std::mutex> lock(mutex_);
        if (!error_) error_ = std::current_exception();
      }
    }
    in_parallel_region = false;
  }

  std::mutex run_mutex_;
  std::mutex mutex_;
  std::condition_variable wake_, done_;
  std::vector<std::thread> workers_;
  std::atomic<bool> quit_{false};
  std::atomic<uint64_t> generation_{0};
  std::atomic<int> pending_{0};
  std::atomic<int> asleep_{0};  // workers waiting on wake_ (not spinning)
  uint64_t wakes_ = 0;          // calls of wake() that found a worker asleep; guarded by mutex_
  const RangeFn* fn_ = nullptr;
  int64_t n_ = 0, grain_ = 1, chunks_ = 0;
  std::atomic<int64_t> next_{0};
  std::atomic<int> size_{1};
  std::exception_ptr error_;
};

Pool& pool() {
  static Pool* p = new Pool();  // never destroyed: worker threads must not be joined during static teardown
  return *p;
}

}  // namespace

namespace {

// Whether a region runs on the pool or on the caller alone is learnt per call site and size: waking
// the other threads costs tens of microseconds in a VM, more than a small region's whole work (a
// convolution of one image, a linear layer of one row). Each site times the way it ran; a region
// of the pool under kTryMicros is tried on the caller next, after which the faster way is kept and
// the other retimed every kRetime runs. A run of the pool that had to wake a sleeping worker is
// followed by one more run of the pool: that time may be the wake-up's, not the region's (after a
// pause, the first regions of a pass would otherwise learn to shun the pool for kRetime runs). Only
// where the chunks run changes, never their bounds, so the results are the same bits either way.
struct Site {
  const void* at = nullptr;
  int64_t n = 0, grain = 0;
  float pool_us = -1, caller_us = -1;  // the last time of each way; -1: not yet timed
  uint32_t runs = 0;
  uint8_t woke = 0;  // how many runs of the pool in a row woke a worker (counted to 2)
};
// Only regions about as short as the pool's synchronisation are tried on the caller: each way is
// timed by single runs, and on a noisy machine one slowed run of the pool sent regions of 20-150
// us to one thread for the next kRetime runs (with 150 us the training step was 1-3 ms slower on
// an Intel Xeon). Recorded passes of a few images choose one thread as a whole (Program::next_serial).
constexpr float kTryMicros = 20;
constexpr uint32_t kRetime = 64;
thread_local Site sites[256];

Site& site_of(const void* at, int64_t n, int64_t grain) {
  const uint64_t h = (reinterpret_cast<uintptr_t>(at) >> 2) ^ (static_cast<uint64_t>(n) * 0x9E3779B97F4A7C15ull) ^ static_cast<uint64_t>(grain);
  Site& s = sites[(h ^ (h >> 29)) & 255];
  if (s.at != at || s.n != n || s.grain != grain) s = Site{at, n, grain};
  return s;
}

bool on_caller(Site& s) {
  ++s.runs;
  if (s.pool_us < 0 || s.woke == 1) return false;
  if (s.caller_us < 0) return s.pool_us < kTryMicros;
  const bool caller = s.caller_us <= s.pool_us;
  return s.runs % kRetime == 0 ? !caller : caller;
}

void run_serially(int64_t n, int64_t grain, const RangeFn& fn) {
  for (int64_t b = 0; b < n; b += grain) fn(b, std::min(n, b + grain));
}

}  // namespace

__attribute__((noinline)) void parallel_for(int64_t n, int64_t grain, const RangeFn& fn) {
  if (n <= 0) return;
  grain = std::max<int64_t>(1, grain);
  if (in_parallel_region || n <= grain) return run_serially(n, grain, fn);
  Site& s = site_of(__builtin_return_address(0), n, grain);
  const bool caller = on_caller(s);
  const auto start = std::chrono::steady_clock::now();
  if (caller) {
    in_parallel_region = true;  // nested regions run serially, as they would on the pool
    try {
      run_serially(n, grain, fn);
    } catch (...) {
      in_parallel_region = false;
      throw;
    }
    in_parallel_region = false;
  } else {
    const bool woke = pool().run(n, grain, fn);
    s.woke = woke ? std::min(2, s.woke + 1) : 0;
  }
  const float us = std::chrono::duration<float, std::micro>(std::chrono::steady_clock::now() - start).count();
  (caller ? s.caller_us : s.pool_us) = us;
}

void wake_workers() { pool().wake(); }

SerialScope::SerialScope(bool on) : previous_(in_parallel_region) { in_parallel_region = previous_ || on; }
SerialScope::~SerialScope() { in_parallel_region = previous_; }

int num_threads() { return pool().size(); }

int parallel_width() { return in_parallel_region ? 1 : pool().size(); }

void set_num_threads(int n) { pool().resize(std::max(1, n)); }

}  // namespace gmn
