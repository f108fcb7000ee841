#include "executor.h"

#include "../base/threadpool.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

namespace gmn::addon {

namespace {

// One per Node environment (the main thread, each worker thread). `alive` and `tsfn` are guarded
// by `mutex`: the executor thread settles through tsfn only while the environment is alive.
struct EnvState {
  std::mutex mutex;
  bool alive = true;
  Napi::ThreadSafeFunction tsfn;
  int64_t pending = 0;  // jobs issued and not yet settled; touched on the environment's thread only
  std::shared_ptr<Program> recording;  // while recording (begin_recording); the environment's thread only
};

struct Task {
  Submission job;
  std::shared_ptr<EnvState> env;
  Napi::Promise::Deferred deferred;
  std::string error;  // empty when the job succeeded
};

// The CUDA ops issued since the device last synchronised: a fault found at a sync is reported
// with them, as any of them may have caused it. Executor thread only.
struct Unsynced {
  std::vector<const char*> ops;
  size_t count = 0;
  void add(const char* op) {
    if (ops.size() < 8) ops.push_back(op);
    ++count;
  }
  std::string describe() const {
    std::string s;
    for (const char* op : ops) s += (s.empty() ? "" : ", ") + std::string(op);
    if (count > ops.size()) s += " and " + std::to_string(count - ops.size()) + " more";
    return s;
  }
};

class Executor {
 public:
  Executor() : thread_([this] { loop(); }) { thread_.detach(); }

  void push(Task* task) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      queue_.push_back(task);
    }
    cv_.notify_one();
  }

  // Removes the queued (not started) tasks of `env`; they are dropped unsettled.
  void cancel(const EnvState* env) {
    std::vector<Task*> dropped;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      for (auto it = queue_.begin(); it != queue_.end();) {
        if ((*it)->env.get() == env) {
          dropped.push_back(*it);
          it = queue_.erase(it);
        } else {
          ++it;
        }
      }
    }
    for (Task* t : dropped) delete t;
  }

  // Runs the task on the calling thread when nothing is queued or running (the caller has checked
  // that its environment has no unsettled job); false, the task untouched, otherwise. The executor
  // thread starts nothing meanwhile, so jobs still run one at a time.
  bool run_here_if_idle(Task& task) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (busy_ || !queue_.empty()) return false;
      busy_ = true;
    }
    execute(task);
    bool queued;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      busy_ = false;
      queued = !queue_.empty();  // pushed meanwhile by another environment
    }
    if (queued) cv_.notify_one();  // a needless wake of the executor costs a system call and an interrupt
    return true;
  }

  void set_profiling(bool enabled) { profiling_.store(enabled, std::memory_order_relaxed); }
  bool profiling() const { return profiling_.load(std::memory_order_relaxed); }

  void add_time(const char* what, std::chrono::steady_clock::duration d) {
    std::lock_guard<std::mutex> lock(profile_mutex_);
    ProfileEntry& e = profile_[what];
    e.calls += 1;
    e.seconds += std::chrono::duration<double>(d).count();
  }

  std::vector<OpTime> take_profile() {
    std::vector<OpTime> list;
    {
      std::lock_guard<std::mutex> lock(profile_mutex_);
      for (const auto& [op, entry] : profile_) list.push_back({op, entry.calls, entry.seconds});
      profile_.clear();
    }
    std::sort(list.begin(), list.end(), [](const OpTime& a, const OpTime& b) { return a.seconds > b.seconds; });
    return list;
  }

 private:
  struct ProfileEntry {
    int64_t calls = 0;
    double seconds = 0;
  };

  void loop() {
    for (;;) {
      Task* task;
      bool waited = false;  // with profiling on: the time with nothing to run (the JS thread idle or too slow)
      const auto start = std::chrono::steady_clock::now();
      {
        std::unique_lock<std::mutex> lock(mutex_);
        waited = queue_.empty() && profiling_.load(std::memory_order_relaxed);
        cv_.wait(lock, [this] { return !queue_.empty() && !busy_; });
        task = queue_.front();
        queue_.pop_front();
        busy_ = true;
      }
      if (waited) add_time("(executor idle)", std::chrono::steady_clock::now() - start);
      execute(*task);
      {
        std::lock_guard<std::mutex> lock(mutex_);
        busy_ = false;
      }
      settle(task);
    }
  }

  void execute(Task& t) {
    const bool cuda = t.job.device == Device::CUDA;
    const bool profiling = profiling_.load(std::memory_order_relaxed);
    const auto start = profiling ? std::chrono::steady_clock::now() : std::chrono::steady_clock::time_point{};
    try {
      t.job.run();
      if (profiling) add_time(t.job.op, std::chrono::steady_clock::now() - start);
      if (cuda && t.job.synchronizes) unsynced_ = {};
      else if (cuda) unsynced_.add(t.job.op);
    } catch (const std::bad_alloc&) {
      t.error = std::string(t.job.op) + ": out of memory: the allocation could not be satisfied";
    } catch (const std::exception& e) {
      t.error = std::string(t.job.op) + ": " + e.what();
      if (cuda && t.job.synchronizes && unsynced_.count > 0)
        t.error += " (found when the device synchronised; CUDA ops issued since the last synchronisation: " +
                   unsynced_.describe() + ")";
    } catch (...) {
      t.error = std::string(t.job.op) + ": unknown native error";
    }
    t.job.run = nullptr;  // release the tensors' storage here, not on the JS thread
  }

  static void settle(Task* task) {
    std::shared_ptr<EnvState> env = task->env;
    std::lock_guard<std::mutex> lock(env->mutex);
    if (!env->alive || env->tsfn.NonBlockingCall(task, on_js_thread) != napi_ok) delete task;
  }

  // Runs on the environment's thread; env is null when the thread-safe function is being torn down.
  static void on_js_thread(Napi::Env env, Napi::Function, Task* task) {
    std::unique_ptr<Task> owned(task);
    if (env == nullptr) return;
    try {
      settle_promise(env, task);
    } catch (...) {
      // The environment is terminating (a worker being stopped): JS can no longer run, and the
      // Promise does not matter any more.
    }
  }

  static void settle_promise(Napi::Env env, Task* task) {
    resolve(env, *task);
    EnvState& state = *task->env;
    if (--state.pending == 0) state.tsfn.Unref(env);  // an idle addon does not keep the process alive
  }

 public:
  // Settles the task's Promise with its result or error; on the environment's thread.
  static void resolve(Napi::Env env, Task& task) {
    if (!task.error.empty()) return task.deferred.Reject(Napi::Error::New(env, task.error).Value());
    if (!task.job.result) return task.deferred.Resolve(env.Undefined());
    try {
      task.deferred.Resolve(task.job.result(env));
    } catch (const Napi::Error& e) {
      task.deferred.Reject(e.Value());
    }
  }

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<Task*> queue_;
  bool busy_ = false;  // a task is running (on the executor thread, or on a caller: run_here_if_idle)
  Unsynced unsynced_;
  std::atomic<bool> profiling_{false};
  std::mutex profile_mutex_;
  std::unordered_map<std::string, ProfileEntry> profile_;
  std::thread thread_;
};

Executor& executor() {
  static Executor* e = new Executor();  // never destroyed: it may be running a job while the process exits
  return *e;
}

// Environments by napi_env; an entry lives from module initialisation to the environment's end.
std::mutex envs_mutex;
std::unordered_map<napi_env, std::shared_ptr<EnvState>>& envs() {
  static auto* m = new std::unordered_map<napi_env, std::shared_ptr<EnvState>>();
  return *m;
}

std::shared_ptr<EnvState> env_state(napi_env env) {
  std::lock_guard<std::mutex> lock(envs_mutex);
  auto it = envs().find(env);
  if (it == envs().end()) throw std::runtime_error("gmn: the addon was not initialised in this environment");
  return it->second;
}

// The environment is ending (worker terminated, or the process exiting): settle nothing more.
void on_env_end(void* arg) {
  const napi_env env = static_cast<napi_env>(arg);
  std::shared_ptr<EnvState> state;
  {
    std::lock_guard<std::mutex> lock(envs_mutex);
    auto it = envs().find(env);
    if (it == envs().end()) return;
    state = it->second;
    envs().erase(it);
  }
  {
    std::lock_guard<std::mutex> lock(state->mutex);
    state->alive = false;
  }
  executor().cancel(state.get());
  state->tsfn.Abort();
}

}  // namespace

void init_executor(Napi::Env env) {
  auto state = std::make_shared<EnvState>();
  state->tsfn = Napi::ThreadSafeFunction::New(env, Napi::Function::New(env, [](const Napi::CallbackInfo&) {}), "gmn", 0, 1);
  state->tsfn.Unref(env);
  {
    std::lock_guard<std::mutex> lock(envs_mutex);
    envs()[env] = state;
  }
  napi_add_env_cleanup_hook(env, on_env_end, static_cast<napi_env>(env));
  executor();  // start the thread now rather than inside the first call
}

void set_profiling(bool enabled) { executor().set_profiling(enabled); }

std::vector<OpTime> take_profile() { return executor().take_profile(); }

Napi::Promise submit(Napi::Env env, Submission job) {
  std::shared_ptr<EnvState> state = env_state(env);
  if (state->recording) {
    if (job.result || job.synchronizes)
      throw std::runtime_error(std::string(job.op) + " returns a value, which a recorded program cannot: end the recording first");
    state->recording->jobs.push_back(std::move(job));
    auto done = Napi::Promise::Deferred::New(env);
    done.Resolve(env.Undefined());
    return done.Promise();
  }
  const bool here = job.quick && job.device == Device::CPU && state->pending == 0;
  auto* task = new Task{std::move(job), std::move(state), Napi::Promise::Deferred::New(env), {}};
  Napi::Promise promise = task->deferred.Promise();
  if (here) {
    std::unique_ptr<Task> owned(task);
    if (executor().run_here_if_idle(*task)) {
      Executor::resolve(env, *task);
      return promise;
    }
    owned.release();
  }
  if (task->env->pending++ == 0) task->env->tsfn.Ref(env);
  executor().push(task);
  return promise;
}

void begin_recording(Napi::Env env) {
  std::shared_ptr<EnvState> state = env_state(env);
  if (state->recording) throw std::runtime_error("beginRecording: already recording (call endRecording first)");
  state->recording = std::make_shared<Program>();
}

std::shared_ptr<Program> end_recording(Napi::Env env) {
  std::shared_ptr<EnvState> state = env_state(env);
  if (!state->recording) throw std::runtime_error("endRecording: not recording (call beginRecording first)");
  return std::exchange(state->recording, nullptr);
}

bool Program::next_serial() const {
  const uint32_t run = runs_.fetch_add(1);
  const double serial = serial_seconds_, parallel = parallel_seconds_;
  if (parallel < 0 || parallel >= kQuickSeconds || num_threads() == 1) return false;  // a larger pass: the pool
  if (serial < 0) return true;
  const bool faster = serial <= parallel;
  return run % kRetime == 0 ? !faster : faster;
}

void Program::ran(bool serial, double seconds) const {
  (serial ? serial_seconds_ : parallel_seconds_) = seconds;
  last_seconds = seconds;
}

std::function<void()> program_work(std::shared_ptr<const Program> program) {
  // With profiling on, each recorded job's time is added to its op too (the enclosing job's entry is their total).
  return [program] {
    if (parallel_width() > 1) wake_workers();
    const bool profiling = executor().profiling();
    for (const Submission& job : program->jobs) {
      try {
        if (!profiling) {
          job.run();
          continue;
        }
        const auto start = std::chrono::steady_clock::now();
        job.run();
        executor().add_time(job.op, std::chrono::steady_clock::now() - start);
      } catch (const std::bad_alloc&) {
        throw std::runtime_error(std::string(job.op) + ": out of memory: the allocation could not be satisfied");
      } catch (const std::exception& e) {
        throw std::runtime_error(std::string(job.op) + ": " + e.what());
      }
    }
  };
}

}  // namespace gmn::addon
