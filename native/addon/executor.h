// The addon's executor: every job (an op, a tensor read, write or fill) runs in issue order on one
// thread the addon owns (not libuv's pool, so the process's file and zlib work never waits behind
// a training step). CPU jobs run there; CUDA jobs issue their kernels to the device's stream and
// return without waiting, so the host only waits when it reads a tensor. Promises are settled on
// the JS thread of the environment that issued the job, through a thread-safe function.
//
// Environments end safely: when a worker thread is terminated (or the process exits) with jobs
// queued, the jobs it issued that have not started are cancelled, a running one finishes, and no
// Promise of the dead environment is touched again.
#pragma once
#include <napi.h>

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "../base/tensor.h"

namespace gmn::addon {

struct Submission {
  const char* op;            // named in errors: "linearForward: ..."
  Device device;             // where the job runs
  std::function<void()> run;
  // Called on the JS thread after `run` succeeded; its value settles the Promise (undefined when null).
  std::function<Napi::Value(Napi::Env)> result;
  bool synchronizes = false;  // the job waits for the device (a read): CUDA faults surface here
  // A short CPU job (a couple of milliseconds at most): it runs on the calling JS thread, its Promise
  // settled before submit returns, when the executor is idle and the environment has no unsettled
  // job; that saves the two thread hand-offs (tens of microseconds in a VM) a small pass would pay.
  bool quick = false;
};

Napi::Promise submit(Napi::Env env, Submission job);

// A recorded sequence of jobs, run again as one job (the counterpart of a CUDA graph): a forward
// pass of fixed shapes issues its ops once, and each later pass costs one round trip instead of
// one per op. Its jobs keep their tensors alive and run on the same tensors every time.
struct Program {
  std::vector<Submission> jobs;
  // Its last run's time, or -1 before the first: a run that took under kQuickSeconds runs next as
  // a quick job (Submission::quick), blocking the JS thread no longer than that.
  mutable std::atomic<double> last_seconds{-1};
  static constexpr double kQuickSeconds = 2e-3;
  // Whether the next run uses one thread: a quick pass (a one-image encoder) can run faster on one
  // thread than on the pool. Its runs time both ways, keep the faster, and retime the other every
  // kRetime runs; a pass that takes kQuickSeconds or more on the pool always runs there.
  bool next_serial() const;
  void ran(bool serial, double seconds) const;

 private:
  mutable std::atomic<double> serial_seconds_{-1}, parallel_seconds_{-1};
  mutable std::atomic<uint32_t> runs_{0};
  static constexpr uint32_t kRetime = 16;
};

// While an environment records, the jobs it submits are appended to its program instead of run,
// and their Promises resolve at once; jobs that return a value (reads) are refused with an Error.
// A recorded write writes the data it was given then, every run.
void begin_recording(Napi::Env env);
std::shared_ptr<Program> end_recording(Napi::Env env);
// The work of running the program's jobs in order, as (part of) one job: it throws the first
// failure, named by its op.
std::function<void()> program_work(std::shared_ptr<const Program> program);

// Called once per environment at module initialisation.
void init_executor(Napi::Env env);

// Per-op time on the executor thread, for benchmarks: while enabled, every job's run time is added
// to its op's entry (for CUDA jobs that is the time to issue the kernels, not to run them).
struct OpTime {
  std::string op;
  int64_t calls;
  double seconds;
};
void set_profiling(bool enabled);
// The entries gathered since the last call, slowest first; clears them.
std::vector<OpTime> take_profile();

}  // namespace gmn::addon
