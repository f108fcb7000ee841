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

  void resize(int n) {
    std::lock_guard<std::mutex> run(run_mutex_);
    stop();
    start(n);
  }

  void run(int64_t n, int64_t grain, const RangeFn& fn) {
    std::lock_guard<std::mutex> run(run_mutex_);  // one parallel region at a time
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
        wake_.wait(lock, [&] { return quit_.load() || generation_.load() != seen; });
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

void parallel_for(int64_t n, int64_t grain, const RangeFn& fn) {
  if (n <= 0) return;
  grain = std::max<int64_t>(1, grain);
  if (in_parallel_region || n <= grain) {
    for (int64_t b = 0; b < n; b += grain) fn(b, std::min(n, b + grain));
    return;
  }
  pool().run(n, grain, fn);
}

int num_threads() { return pool().size(); }

int parallel_width() { return in_parallel_region ? 1 : pool().size(); }

void set_num_threads(int n) { pool().resize(std::max(1, n)); }

}  // namespace gmn
