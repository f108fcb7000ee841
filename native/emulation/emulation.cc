// CUDA emulation on the CPU: the block scheduler (threads as fibers), barriers, warp collectives,
// shared-memory poisoning, and the runtime API with CUDA's error model. README.md in this folder
// explains the design; cuda_runtime.h is the interface.
#include "cuda_runtime.h"

#include <link.h>
#include <sys/mman.h>
#include <ucontext.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace gmn_emu::detail {
Builtins builtins;
}

struct CUstream_st {
  unsigned flags;
};
struct CUevent_st {
  unsigned flags;
  bool recorded;
  std::chrono::steady_clock::time_point when;
};
struct CUmemPoolHandle_st {};

namespace {

using gmn_emu::detail::builtins;
using gmn_emu::detail::WarpOp;

constexpr unsigned kWarpSize = 32;
constexpr unsigned kMaxThreadsPerBlock = 1024;
constexpr size_t kSharedPerBlock = 48 * 1024;
constexpr size_t kStackBytes = 256 * 1024;  // per fiber; only the pages a kernel touches get memory
constexpr int kVersion = 13000;

std::string format(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
std::string format(const char* fmt, ...) {
  char buf[512];
  va_list args;
  va_start(args, fmt);
  vsnprintf(buf, sizeof buf, fmt, args);
  va_end(args);
  return buf;
}

// =============================================================================================
// Error state. The last error belongs to the calling host thread, as in CUDA. A fault inside a
// kernel is sticky for the process (a GPU context would be lost) until cudaDeviceReset.

thread_local cudaError_t t_last_error = cudaSuccess;
std::atomic<cudaError_t> g_sticky{cudaSuccess};
std::mutex g_message_mutex;  // guards the strings below
std::string g_fault_detail;
std::string g_fault_message = "unspecified launch failure";
std::string g_config_message = "invalid configuration argument";

cudaError_t fail(cudaError_t error) {
  t_last_error = error;
  return error;
}

// Calls that run or wait for device work report a pending fault instead of doing anything.
cudaError_t pending_fault() {
  const cudaError_t sticky = g_sticky.load();
  return sticky == cudaSuccess ? cudaSuccess : fail(sticky);
}

// =============================================================================================
// Device memory: host memory, but registered, so that copies, memsets and frees are checked as a
// GPU would (a host pointer where a device pointer is due fails with cudaErrorInvalidValue).

std::mutex g_memory_mutex;                  // guards g_allocations; frees may come from any thread
std::map<uintptr_t, size_t> g_allocations;  // base address -> bytes

bool is_device_range(const void* p, size_t bytes) {
  const auto address = reinterpret_cast<uintptr_t>(p);
  std::lock_guard<std::mutex> lock(g_memory_mutex);
  auto it = g_allocations.upper_bound(address);
  if (it == g_allocations.begin()) return false;
  --it;
  const uintptr_t offset = address - it->first;
  return offset <= it->second && bytes <= it->second - offset;
}

// =============================================================================================
// Poison. Shared memory is filled before every block, fresh device memory at allocation. Three
// shared patterns take turns by block, so that whatever a kernel does with memory nobody wrote it
// is unlikely to look right: a sum or a max meets +3.4e38 (2139062143 as an int), a min meets
// -3.4e38 (-8421505), and NaN (-1) survives comparisons that would hide a huge value.

constexpr uint32_t kSharedPoison[3] = {0x7F7F7F7Fu, 0xFF7F7F7Fu, 0xFFFFFFFFu};
constexpr unsigned char kGlobalPoison = 0xFF;

uint32_t shared_poison(uint64_t block) { return kSharedPoison[block % 3]; }

// 64 bytes of pattern, rotated so that, copied to an address congruent to `address` mod 4, every
// aligned 4-byte word reads as pattern.
struct PoisonChunk {
  unsigned char bytes[64];
  PoisonChunk(uint32_t pattern, const void* address) {
    const auto phase = reinterpret_cast<uintptr_t>(address);
    for (size_t i = 0; i < sizeof bytes; ++i) bytes[i] = static_cast<unsigned char>(pattern >> (8 * ((phase + i) % 4)));
  }
};

void poison(unsigned char* p, size_t n, uint32_t pattern) {
  const PoisonChunk chunk(pattern, p);
  for (size_t done = 0; done < n; done += sizeof chunk.bytes)
    std::memcpy(p + done, chunk.bytes, std::min(sizeof chunk.bytes, n - done));
}

// The static shared arena. __shared__ is `static thread_local`, so every __shared__ variable of
// the kernels in this module lies in the module's TLS block of the launching thread, next to the
// module's other thread_locals (which no kernel may use: CUDA has no thread_local). A launch saves
// the block, poisons it before each CUDA block and restores it at the end. Poisoning all of it
// per block would cost its whole size per block (tens of KiB with many kernels, ruinous for
// grid-stride launches of 65536 blocks), so after the first block only the 64-byte chunks that
// block wrote are poisoned again: those are this kernel's shared variables.
class SharedArena {
 public:
  void begin() {
    block_ = module_tls_block();
    saved_.assign(block_.data, block_.data + block_.size);
    dirty_.clear();
    dirty_known_ = false;
  }
  void before_block(uint64_t block) {
    if (!dirty_known_) return poison(block_.data, block_.size, shared_poison(block));
    for (const auto& [offset, bytes] : dirty_) poison(block_.data + offset, bytes, shared_poison(block));
  }
  void after_first_block() {
    // Chunk offsets are multiples of 64, so every chunk has the address phase of the block start.
    const PoisonChunk clean(shared_poison(0), block_.data);
    for (size_t offset = 0; offset < block_.size; offset += kChunk) {
      const size_t bytes = std::min(kChunk, block_.size - offset);
      if (std::memcmp(clean.bytes, block_.data + offset, bytes) == 0) continue;
      if (!dirty_.empty() && dirty_.back().first + dirty_.back().second == offset) dirty_.back().second += bytes;
      else dirty_.emplace_back(offset, bytes);
    }
    dirty_known_ = true;
  }
  void end() { std::copy(saved_.begin(), saved_.end(), block_.data); }

 private:
  struct Span {
    unsigned char* data;
    size_t size;
  };
  static constexpr size_t kChunk = sizeof(PoisonChunk::bytes);

  // This module's TLS block of the calling thread, found through the ELF program headers: the
  // module whose code contains this function, its PT_TLS size, and glibc's dlpi_tls_data. An
  // empty span (no poisoning) where that is unavailable.
  static Span module_tls_block() {
    static thread_local unsigned char anchor;  // taking its address makes glibc allocate the block
    const unsigned char* anchor_address = &anchor;
    struct Search {
      uintptr_t code;
      Span found;
    } search{reinterpret_cast<uintptr_t>(&module_tls_block), {nullptr, 0}};
    dl_iterate_phdr(
        [](dl_phdr_info* info, size_t, void* data) -> int {
          auto& s = *static_cast<Search*>(data);
          bool contains_code = false;
          size_t tls_bytes = 0;
          for (int i = 0; i < info->dlpi_phnum; ++i) {
            const ElfW(Phdr)& ph = info->dlpi_phdr[i];
            const uintptr_t start = info->dlpi_addr + ph.p_vaddr;
            if (ph.p_type == PT_LOAD && s.code >= start && s.code - start < ph.p_memsz) contains_code = true;
            if (ph.p_type == PT_TLS) tls_bytes = ph.p_memsz;
          }
          if (!contains_code) return 0;
          s.found = {static_cast<unsigned char*>(info->dlpi_tls_data), tls_bytes};
          return 1;
        },
        &search);
    const Span& f = search.found;
    if (!f.data || anchor_address < f.data || anchor_address >= f.data + f.size) return {nullptr, 0};
    return f;
  }

  Span block_{nullptr, 0};
  std::vector<unsigned char> saved_;
  std::vector<std::pair<size_t, size_t>> dirty_;  // (offset, bytes), merged
  bool dirty_known_ = false;
};

alignas(256) unsigned char g_dynamic_shared[kSharedPerBlock];

// =============================================================================================
// Scheduler. A CUDA thread is a logical thread; fibers ("workers", each a ucontext with its own
// stack) run them. A worker whose thread exits starts the next unstarted thread itself, without
// a context switch, so a kernel without barriers or collectives runs a whole block on one worker
// as plain calls; only a thread that blocks keeps its worker, and the next one takes another.
// Every switch goes straight to the next runnable thread's worker; the launching thread's own
// context (main) gets control back only when nothing in the block can run.

enum class State : uint8_t { Runnable, AtBarrier, InWarpOp, Exited };

struct Worker;

struct Thread {
  uint3 idx;
  unsigned linear;  // lane = linear % 32, warp = linear / 32
  State state;
  Worker* worker;  // null until started
  // The warp collective this thread waits in (state InWarpOp), and its result once complete.
  WarpOp op;
  unsigned mask;
  int arg, width;
  uint64_t value, result;
};

struct Worker {
  ucontext_t context;  // refers to itself: workers never move (held by unique_ptr)
  unsigned char* stack;
  Thread* thread;  // the thread it runs, or is handed to start
};

const char* op_name(WarpOp op) {
  switch (op) {
    case WarpOp::ShflIdx: return "__shfl_sync";
    case WarpOp::ShflUp: return "__shfl_up_sync";
    case WarpOp::ShflDown: return "__shfl_down_sync";
    case WarpOp::ShflXor: return "__shfl_xor_sync";
    case WarpOp::Ballot: return "__ballot_sync";
    case WarpOp::Any: return "__any_sync";
    case WarpOp::All: return "__all_sync";
    case WarpOp::Sync: return "__syncwarp";
    case WarpOp::ReduceAdd: return "__reduce_add_sync";
    case WarpOp::ReduceMinSigned:
    case WarpOp::ReduceMinUnsigned: return "__reduce_min_sync";
    case WarpOp::ReduceMaxSigned:
    case WarpOp::ReduceMaxUnsigned: return "__reduce_max_sync";
  }
  return "warp collective";
}

gmn_emu_schedule schedule_from_environment() {
  const char* s = std::getenv("GMN_EMU_SCHEDULE");
  if (s && std::strcmp(s, "forward") == 0) return gmn_emu_schedule::forward;
  if (s && std::strcmp(s, "reverse") == 0) return gmn_emu_schedule::reverse;
  return gmn_emu_schedule::shuffled;
}

uint64_t splitmix64(uint64_t& state) {
  uint64_t z = (state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

class Scheduler {
 public:
  // Runs the grid; returns the fault detail, empty on success.
  std::string run(const gmn_emu::LaunchSite& site, dim3 grid, dim3 block, size_t dynamic_shared,
                  void (*invoke)(const void*), const void* call, gmn_emu_schedule schedule) {
    site_ = &site;
    invoke_ = invoke;
    call_ = call;
    schedule_ = schedule;
    grid_ = grid;
    block_ = block;
    threads_.resize(size_t{block.x} * block.y * block.z);
    builtins.block_dim = block;
    builtins.grid_dim = grid;
    fault_.clear();
    arena_.begin();
    const uint64_t blocks = uint64_t{grid.x} * grid.y * grid.z;
    for (uint64_t b = 0; b < blocks && fault_.empty(); ++b) {
      arena_.before_block(b);
      poison(g_dynamic_shared, dynamic_shared, shared_poison(b));
      run_block(b);
      if (b == 0 && blocks > 1) arena_.after_first_block();
    }
    arena_.end();
    if (!fault_.empty()) reset_workers();
    return fault_;
  }

  // --- called by kernel code, on a worker -------------------------------------------------------

  unsigned barrier(int predicate) {
    Thread* t = running("__syncthreads");
    t->state = State::AtBarrier;
    ++at_barrier_;
    barrier_true_ += predicate != 0;
    if (at_barrier_ == alive_) release_barrier();
    yield(true);
    return barrier_result_;
  }
  unsigned barrier_participants() const { return barrier_participants_; }

  unsigned active_mask() {
    Thread* t = running("__activemask");
    const unsigned base = t->linear - t->linear % kWarpSize;
    unsigned mask = 0;
    for (unsigned lane = 0; lane < kWarpSize && base + lane < threads_.size(); ++lane)
      if (threads_[base + lane].state != State::Exited) mask |= 1u << lane;
    return mask;
  }

  uint64_t warp_op(WarpOp op, unsigned mask, uint64_t value, int arg, int width) {
    Thread* t = running(op_name(op));
    const unsigned lane = t->linear % kWarpSize, base = t->linear - lane;
    if (!(mask >> lane & 1u))
      kernel_fault(where(t) + format(": %s with mask 0x%08x, which does not name the calling lane %u", op_name(op), mask, lane));
    if (width < 1 || width > static_cast<int>(kWarpSize) || (width & (width - 1)) != 0)
      kernel_fault(where(t) + format(": %s with width %d, which is not a power of two from 1 to 32", op_name(op), width));
    t->op = op;
    t->mask = mask;
    t->arg = arg;
    t->width = width;
    t->value = value;
    t->state = State::InWarpOp;
    // Lanes beyond the end of a partial last warp do not exist and are not waited for.
    const unsigned members = mask & lanes_present(base);
    for (unsigned l = 0; l < kWarpSize; ++l) {
      if (!(members >> l & 1u)) continue;
      const Thread& u = threads_[base + l];
      if (u.state != State::InWarpOp || u.mask != mask) {
        yield(true);  // the last lane to arrive completes the collective and wakes us
        return t->result;
      }
    }
    complete_warp_op(t, base, members);
    t->state = State::Runnable;
    return t->result;
  }

  // Inside a kernel, a launch would wait for the mutex its own launch holds.
  [[noreturn]] void nested_launch() {
    kernel_fault(where(running("a kernel launch")) + ": launching a kernel from device code (dynamic parallelism) is not emulated");
  }

 private:
  // --- blocks ---------------------------------------------------------------------------------

  void run_block(uint64_t b) {
    block_linear_ = b;
    builtins.block_idx = {static_cast<unsigned>(b % grid_.x), static_cast<unsigned>(b / grid_.x % grid_.y),
                          static_cast<unsigned>(b / (uint64_t{grid_.x} * grid_.y))};
    phase_ = 0;
    alive_ = static_cast<unsigned>(threads_.size());
    at_barrier_ = barrier_true_ = 0;
    ready_.clear();
    order_.clear();
    for (unsigned l = 0; l < threads_.size(); ++l) {
      Thread& t = threads_[l];
      t = {};
      t.idx = {l % block_.x, l / block_.x % block_.y, l / (block_.x * block_.y)};
      t.linear = l;
      order_.push_back(&t);
    }
    make_ready(order_);
    Thread* first = ready_.front();
    ready_.pop_front();
    Worker* w = acquire_worker();
    w->thread = first;
    first->worker = w;
    switch_to(&main_, w);
    // Back on the launching thread's stack: the block is done, faulted, or stuck.
    current_ = nullptr;
    if (fault_.empty() && alive_ > 0) fault_ = describe_deadlock();
  }

  // Queues threads in the order of the schedule: a permutation per block and barrier phase.
  void make_ready(std::vector<Thread*>& threads) {
    if (schedule_ == gmn_emu_schedule::reverse) std::reverse(threads.begin(), threads.end());
    if (schedule_ == gmn_emu_schedule::shuffled) {
      uint64_t state = block_linear_ * 0x2545F4914F6CDD1Dull + phase_;
      for (size_t i = threads.size(); i > 1; --i) std::swap(threads[i - 1], threads[splitmix64(state) % i]);
    }
    ready_.insert(ready_.end(), threads.begin(), threads.end());
  }

  void release_barrier() {
    barrier_result_ = barrier_true_;
    barrier_participants_ = at_barrier_;
    barrier_true_ = at_barrier_ = 0;
    ++phase_;
    order_.clear();
    for (Thread& t : threads_) {
      if (t.state != State::AtBarrier) continue;
      t.state = State::Runnable;
      order_.push_back(&t);
    }
    make_ready(order_);
  }

  void thread_exited() {
    current_->state = State::Exited;
    --alive_;
    // CUDA (sm_70+) counts only threads that have not exited at a barrier.
    if (alive_ > 0 && at_barrier_ == alive_) release_barrier();
  }

  // --- warp collectives -----------------------------------------------------------------------

  unsigned lanes_present(unsigned base) const {
    const size_t n = std::min<size_t>(kWarpSize, threads_.size() - base);
    return n == kWarpSize ? ~0u : (1u << n) - 1;
  }

  // The lane whose value `lane` receives, with PTX shfl.sync's rules: segments of `width` lanes,
  // the low 5 bits of arg, and the caller's own value when the source falls outside its range.
  static unsigned shuffle_source(WarpOp op, unsigned lane, int arg, int width) {
    const unsigned segment = kWarpSize - static_cast<unsigned>(width);  // mask of the segment bits
    const unsigned first = lane & segment;
    const unsigned last = first | (op == WarpOp::ShflUp ? 0u : (kWarpSize - 1) & ~segment);
    const unsigned b = static_cast<unsigned>(arg) & (kWarpSize - 1);
    int source = 0;
    bool in_range = false;
    switch (op) {
      case WarpOp::ShflUp:
        source = static_cast<int>(lane) - static_cast<int>(b);
        in_range = source >= static_cast<int>(last);
        break;
      case WarpOp::ShflDown:
        source = static_cast<int>(lane + b);
        in_range = source <= static_cast<int>(last);
        break;
      case WarpOp::ShflXor:
        source = static_cast<int>(lane ^ b);
        in_range = source <= static_cast<int>(last);
        break;
      default:
        source = static_cast<int>(first | (b & ~segment));
        in_range = source <= static_cast<int>(last);
        break;
    }
    return in_range ? static_cast<unsigned>(source) : lane;
  }

  void complete_warp_op(Thread* t, unsigned base, unsigned members) {
    const WarpOp op = t->op;
    uint64_t ballot = 0, sum = 0;
    int64_t smin = INT64_MAX, smax = INT64_MIN;
    uint64_t umin = UINT64_MAX, umax = 0;
    for (unsigned l = 0; l < kWarpSize; ++l) {
      if (!(members >> l & 1u)) continue;
      const Thread& u = threads_[base + l];
      if (u.op != op)
        kernel_fault(where(t) + format(": warp %u lanes disagree on the collective with mask 0x%08x: lane %u is in %s, lane %u in %s",
                                       base / kWarpSize, t->mask, l, op_name(u.op), t->linear - base, op_name(op)));
      ballot |= uint64_t{u.value != 0} << l;
      sum += u.value;
      smin = std::min(smin, static_cast<int64_t>(u.value));
      smax = std::max(smax, static_cast<int64_t>(u.value));
      umin = std::min(umin, u.value);
      umax = std::max(umax, u.value);
    }
    for (unsigned l = 0; l < kWarpSize; ++l) {
      if (!(members >> l & 1u)) continue;
      Thread& u = threads_[base + l];
      switch (op) {
        case WarpOp::ShflIdx:
        case WarpOp::ShflUp:
        case WarpOp::ShflDown:
        case WarpOp::ShflXor: {
          const unsigned source = shuffle_source(op, l, u.arg, u.width);
          if (!(members >> source & 1u))
            kernel_fault(where(&u) + format(": %s (mask 0x%08x) reads lane %u, which %s", op_name(op), t->mask, source,
                                            base + source < threads_.size() ? "is not in the mask" : "does not exist in this block"));
          u.result = threads_[base + source].value;
          break;
        }
        case WarpOp::Ballot: u.result = ballot; break;
        case WarpOp::Any: u.result = ballot != 0; break;
        case WarpOp::All: u.result = ballot == members; break;
        case WarpOp::Sync: u.result = 0; break;
        case WarpOp::ReduceAdd: u.result = sum; break;
        case WarpOp::ReduceMinSigned: u.result = static_cast<uint64_t>(smin); break;
        case WarpOp::ReduceMaxSigned: u.result = static_cast<uint64_t>(smax); break;
        case WarpOp::ReduceMinUnsigned: u.result = umin; break;
        case WarpOp::ReduceMaxUnsigned: u.result = umax; break;
      }
    }
    for (unsigned l = 0; l < kWarpSize; ++l) {
      if (!(members >> l & 1u)) continue;
      Thread& u = threads_[base + l];
      if (&u == t) continue;
      u.state = State::Runnable;
      ready_.push_back(&u);
    }
  }

  std::string describe_deadlock() const {
    std::string s = where(nullptr) + ": deadlock, no thread can go on:";
    unsigned reported = 0, at_barrier = 0;
    for (const Thread& t : threads_) at_barrier += t.state == State::AtBarrier;
    for (unsigned base = 0; base < threads_.size(); base += kWarpSize) {
      // One line per distinct (mask) group of waiting lanes in this warp.
      unsigned described = 0;
      for (unsigned l = 0; l < kWarpSize && base + l < threads_.size(); ++l) {
        const Thread& t = threads_[base + l];
        if (t.state != State::InWarpOp || (described >> l & 1u)) continue;
        unsigned waiting = 0, exited = 0, barrier = 0, elsewhere = 0;
        for (unsigned m = 0; m < kWarpSize && base + m < threads_.size(); ++m) {
          const Thread& u = threads_[base + m];
          if (u.state == State::InWarpOp && u.mask == t.mask) waiting |= 1u << m;
          else if (t.mask >> m & 1u) {
            if (u.state == State::Exited) exited |= 1u << m;
            else if (u.state == State::AtBarrier) barrier |= 1u << m;
            else elsewhere |= 1u << m;
          }
        }
        described |= waiting;
        if (++reported > 4) continue;
        s += format(" warp %u lanes 0x%08x wait in %s(mask 0x%08x) for lanes", base / kWarpSize, waiting, op_name(t.op), t.mask);
        if (exited) s += format(" 0x%08x that have exited", exited);
        if (barrier) s += format(" 0x%08x that wait at __syncthreads", barrier);
        if (elsewhere) s += format(" 0x%08x that wait in a collective with another mask", elsewhere);
        s += ';';
      }
    }
    if (reported > 4) s += format(" (%u more groups)", reported - 4);
    if (at_barrier) s += format(" %u threads wait at __syncthreads", at_barrier);
    return s;
  }

  // --- fibers ---------------------------------------------------------------------------------

  Thread* running(const char* what) {
    if (!current_) {
      std::fprintf(stderr, "gmn CUDA emulation: %s called outside a kernel\n", what);
      std::abort();
    }
    return current_;
  }

  std::string where(const Thread* t) const {
    std::string s = format("kernel %s (launched at %s:%d), block (%u,%u,%u)", site_->kernel, site_->file, site_->line,
                           builtins.block_idx.x, builtins.block_idx.y, builtins.block_idx.z);
    if (t) s += format(", thread (%u,%u,%u)", t->idx.x, t->idx.y, t->idx.z);
    return s;
  }

  // Ends the launch from inside a kernel: the faulting worker and every blocked one are abandoned
  // (their stacks are reused from scratch later), so C++ destructors on those stacks do not run.
  [[noreturn]] void kernel_fault(std::string detail) {
    fault_ = std::move(detail);
    swapcontext(&current_worker_->context, &main_);
    std::abort();  // never resumed
  }

  void enter(Thread* t) {
    current_ = t;
    builtins.thread_idx = t->idx;
  }

  void switch_to(ucontext_t* from, Worker* to) {
    current_worker_ = to;
    enter(to->thread);
    swapcontext(from, &to->context);
  }

  // Gives the CPU away after the running thread blocked (attached: its worker waits with it) or
  // exited (the worker is free). Returns once this worker may go on: when it was free, with the
  // thread it now runs; when attached, once its thread is runnable again.
  Thread* yield(bool attached) {
    Worker* self = current_worker_;
    Thread* next = nullptr;
    if (!ready_.empty()) {
      next = ready_.front();
      ready_.pop_front();
    }
    if (next && next->worker == self) {
      enter(next);
      return nullptr;
    }
    if (next && !next->worker && !attached) {
      next->worker = self;
      self->thread = next;
      enter(next);
      return next;
    }
    if (!attached) {
      self->thread = nullptr;
      idle_.push_back(self);
    }
    if (!next) {
      swapcontext(&self->context, &main_);
    } else {
      if (!next->worker) {
        Worker* w = acquire_worker();
        w->thread = next;
        next->worker = w;
      }
      switch_to(&self->context, next->worker);
    }
    return attached ? nullptr : self->thread;
  }

  static void worker_main() {
    Scheduler& s = instance();
    for (;;) {
      s.invoke_(s.call_);
      s.thread_exited();
      s.yield(false);
    }
  }

  Worker* acquire_worker() {
    if (!idle_.empty()) {
      Worker* w = idle_.back();  // the most recently used stack is the warmest
      idle_.pop_back();
      return w;
    }
    const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
    void* mem = mmap(nullptr, kStackBytes + page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK | MAP_NORESERVE, -1, 0);
    if (mem == MAP_FAILED) {
      std::fprintf(stderr, "gmn CUDA emulation: cannot map a %zu-byte fiber stack\n", kStackBytes);
      std::abort();
    }
    mprotect(mem, page, PROT_NONE);  // guard page: a stack overflow faults instead of corrupting a neighbour
    auto w = std::make_unique<Worker>();
    w->stack = static_cast<unsigned char*>(mem) + page;
    w->thread = nullptr;
    init_context(*w);
    workers_.push_back(std::move(w));
    return workers_.back().get();
  }

  void init_context(Worker& w) {
    getcontext(&w.context);
    w.context.uc_stack.ss_sp = w.stack;
    w.context.uc_stack.ss_size = kStackBytes;
    w.context.uc_link = nullptr;  // worker_main never returns
    makecontext(&w.context, worker_main, 0);
  }

  // After a fault the workers' stacks hold abandoned threads: start every worker afresh.
  void reset_workers() {
    idle_.clear();
    for (auto& w : workers_) {
      w->thread = nullptr;
      init_context(*w);
      idle_.push_back(w.get());
    }
    ready_.clear();
    current_ = nullptr;
  }

 public:
  static Scheduler& instance() {
    static Scheduler s;
    return s;
  }

 private:
  // Launch
  const gmn_emu::LaunchSite* site_ = nullptr;
  void (*invoke_)(const void*) = nullptr;
  const void* call_ = nullptr;
  gmn_emu_schedule schedule_ = gmn_emu_schedule::shuffled;
  dim3 grid_, block_;
  std::string fault_;
  SharedArena arena_;
  // Block
  uint64_t block_linear_ = 0;
  uint64_t phase_ = 0;  // barrier phases completed in this block
  std::vector<Thread> threads_;
  std::deque<Thread*> ready_;
  std::vector<Thread*> order_;  // scratch for make_ready
  unsigned alive_ = 0, at_barrier_ = 0, barrier_true_ = 0;
  unsigned barrier_result_ = 0, barrier_participants_ = 0;  // of the last completed barrier
  Thread* current_ = nullptr;
  // Fibers, kept across launches
  ucontext_t main_;
  Worker* current_worker_ = nullptr;
  std::vector<std::unique_ptr<Worker>> workers_;
  std::vector<Worker*> idle_;
};

// Launches are serialised; the owner is known so that a launch from inside a kernel is caught.
std::mutex g_launch_mutex;
std::atomic<std::thread::id> g_launch_owner{};
gmn_emu_schedule g_schedule = schedule_from_environment();  // guarded by g_launch_mutex

std::string check_config(dim3 grid, dim3 block, size_t dynamic_shared) {
  const uint64_t threads = uint64_t{block.x} * block.y * block.z;
  if (threads == 0 || threads > kMaxThreadsPerBlock || block.x > 1024 || block.y > 1024 || block.z > 64)
    return format("block %ux%ux%u: a block has 1 to %u threads and at most 1024x1024x64", block.x, block.y, block.z, kMaxThreadsPerBlock);
  if (grid.x == 0 || grid.y == 0 || grid.z == 0 || grid.x > 0x7fffffffu || grid.y > 65535 || grid.z > 65535)
    return format("grid %ux%ux%u: each dimension is at least 1, at most 2147483647x65535x65535", grid.x, grid.y, grid.z);
  if (dynamic_shared > kSharedPerBlock)
    return format("%zu bytes of dynamic shared memory, more than the %zu a block has", dynamic_shared, kSharedPerBlock);
  return {};
}

void copy_name(cudaDeviceProp& prop) {
  std::snprintf(prop.name, sizeof prop.name, "CUDA emulation on the CPU");
}

size_t physical_memory() {
  return static_cast<size_t>(sysconf(_SC_PHYS_PAGES)) * static_cast<size_t>(sysconf(_SC_PAGESIZE));
}

}  // namespace

// =============================================================================================
// Kernel-side entry points

void __syncthreads() { Scheduler::instance().barrier(0); }
int __syncthreads_count(int predicate) { return static_cast<int>(Scheduler::instance().barrier(predicate)); }
int __syncthreads_and(int predicate) {
  Scheduler& s = Scheduler::instance();
  return s.barrier(predicate) == s.barrier_participants();
}
int __syncthreads_or(int predicate) { return Scheduler::instance().barrier(predicate) != 0; }
void __syncwarp(unsigned mask) { Scheduler::instance().warp_op(WarpOp::Sync, mask, 0, 0, warpSize); }
unsigned __activemask() { return Scheduler::instance().active_mask(); }

uint64_t gmn_emu::detail::warp_op(WarpOp op, unsigned mask, uint64_t value, int arg, int width) {
  return Scheduler::instance().warp_op(op, mask, value, arg, width);
}

void* gmn_emu::detail::dynamic_shared() { return g_dynamic_shared; }

void gmn_emu::detail::launch(const LaunchSite& site, dim3 grid, dim3 block, size_t dynamic_shared, cudaStream_t,
                             void (*invoke)(const void*), const void* call) {
  if (g_launch_owner.load() == std::this_thread::get_id()) Scheduler::instance().nested_launch();
  std::lock_guard<std::mutex> lock(g_launch_mutex);
  if (pending_fault() != cudaSuccess) return;
  if (const std::string why = check_config(grid, block, dynamic_shared); !why.empty()) {
    std::lock_guard<std::mutex> message_lock(g_message_mutex);
    g_config_message = format("invalid configuration argument: kernel %s (launched at %s:%d): ", site.kernel, site.file, site.line) + why;
    fail(cudaErrorInvalidConfiguration);
    return;
  }
  g_launch_owner = std::this_thread::get_id();
  // From here to the end of run() this module's thread_locals (t_last_error too) hold the shared
  // arena; nothing may use them.
  const std::string fault = Scheduler::instance().run(site, grid, block, dynamic_shared, invoke, call, g_schedule);
  g_launch_owner = std::thread::id{};
  if (fault.empty()) return;
  {
    std::lock_guard<std::mutex> message_lock(g_message_mutex);
    g_fault_detail = fault;
    g_fault_message = "unspecified launch failure: " + fault;
  }
  g_sticky = cudaErrorLaunchFailure;
  fail(cudaErrorLaunchFailure);
}

const char* gmn_emu_last_fault() {
  std::lock_guard<std::mutex> lock(g_message_mutex);
  return g_fault_detail.c_str();
}

void gmn_emu_set_schedule(gmn_emu_schedule schedule) {
  std::lock_guard<std::mutex> lock(g_launch_mutex);
  g_schedule = schedule;
}

// =============================================================================================
// Runtime API

const char* cudaGetErrorName(cudaError_t error) {
  switch (error) {
    case cudaSuccess: return "cudaSuccess";
    case cudaErrorInvalidValue: return "cudaErrorInvalidValue";
    case cudaErrorMemoryAllocation: return "cudaErrorMemoryAllocation";
    case cudaErrorInvalidConfiguration: return "cudaErrorInvalidConfiguration";
    case cudaErrorInsufficientDriver: return "cudaErrorInsufficientDriver";
    case cudaErrorNoDevice: return "cudaErrorNoDevice";
    case cudaErrorInvalidDevice: return "cudaErrorInvalidDevice";
    case cudaErrorInvalidResourceHandle: return "cudaErrorInvalidResourceHandle";
    case cudaErrorNotReady: return "cudaErrorNotReady";
    case cudaErrorIllegalAddress: return "cudaErrorIllegalAddress";
    case cudaErrorLaunchFailure: return "cudaErrorLaunchFailure";
  }
  return "cudaErrorUnknown";
}

const char* cudaGetErrorString(cudaError_t error) {
  switch (error) {
    case cudaSuccess: return "no error";
    case cudaErrorInvalidValue: return "invalid argument";
    case cudaErrorMemoryAllocation: return "out of memory";
    case cudaErrorInvalidConfiguration: {
      std::lock_guard<std::mutex> lock(g_message_mutex);
      return g_config_message.c_str();
    }
    case cudaErrorInsufficientDriver: return "CUDA driver version is insufficient for CUDA runtime version";
    case cudaErrorNoDevice: return "no CUDA-capable device is detected";
    case cudaErrorInvalidDevice: return "invalid device ordinal";
    case cudaErrorInvalidResourceHandle: return "invalid resource handle";
    case cudaErrorNotReady: return "device not ready";
    case cudaErrorIllegalAddress: return "an illegal memory access was encountered";
    case cudaErrorLaunchFailure: {
      std::lock_guard<std::mutex> lock(g_message_mutex);
      return g_fault_message.c_str();
    }
  }
  return "unrecognized error code";
}

cudaError_t cudaGetLastError() {
  const cudaError_t sticky = g_sticky.load();
  if (sticky != cudaSuccess) return sticky;
  const cudaError_t error = t_last_error;
  t_last_error = cudaSuccess;
  return error;
}

cudaError_t cudaPeekAtLastError() {
  const cudaError_t sticky = g_sticky.load();
  return sticky != cudaSuccess ? sticky : t_last_error;
}

cudaError_t cudaRuntimeGetVersion(int* version) {
  if (!version) return fail(cudaErrorInvalidValue);
  *version = kVersion;
  return cudaSuccess;
}

cudaError_t cudaDriverGetVersion(int* version) {
  if (!version) return fail(cudaErrorInvalidValue);
  *version = kVersion;
  return cudaSuccess;
}

cudaError_t cudaGetDeviceCount(int* count) {
  if (!count) return fail(cudaErrorInvalidValue);
  *count = 1;
  return cudaSuccess;
}

cudaError_t cudaSetDevice(int device) { return device == 0 ? cudaSuccess : fail(cudaErrorInvalidDevice); }

cudaError_t cudaGetDevice(int* device) {
  if (!device) return fail(cudaErrorInvalidValue);
  *device = 0;
  return cudaSuccess;
}

cudaError_t cudaGetDeviceProperties(cudaDeviceProp* prop, int device) {
  if (!prop) return fail(cudaErrorInvalidValue);
  if (device != 0) return fail(cudaErrorInvalidDevice);
  *prop = {};
  copy_name(*prop);
  prop->totalGlobalMem = physical_memory();
  prop->sharedMemPerBlock = kSharedPerBlock;
  prop->warpSize = static_cast<int>(kWarpSize);
  prop->maxThreadsPerBlock = static_cast<int>(kMaxThreadsPerBlock);
  prop->maxThreadsDim[0] = prop->maxThreadsDim[1] = 1024;
  prop->maxThreadsDim[2] = 64;
  prop->maxGridSize[0] = 0x7fffffff;
  prop->maxGridSize[1] = prop->maxGridSize[2] = 65535;
  prop->major = 9;
  prop->minor = 0;
  prop->multiProcessorCount = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  return cudaSuccess;
}

cudaError_t cudaDeviceSynchronize() { return pending_fault(); }

cudaError_t cudaDeviceReset() {
  g_sticky = cudaSuccess;
  t_last_error = cudaSuccess;
  return cudaSuccess;
}

cudaError_t cudaMalloc(void** ptr, size_t bytes) {
  if (!ptr) return fail(cudaErrorInvalidValue);
  *ptr = nullptr;
  if (bytes == 0) return cudaSuccess;
  // 256-byte alignment, as cudaMalloc guarantees; aligned_alloc wants a multiple of it.
  void* p = std::aligned_alloc(256, (bytes + 255) / 256 * 256);
  if (!p) return fail(cudaErrorMemoryAllocation);
  std::memset(p, kGlobalPoison, bytes);  // cudaMalloc does not clear; reading it before writing is a bug
  {
    std::lock_guard<std::mutex> lock(g_memory_mutex);
    g_allocations[reinterpret_cast<uintptr_t>(p)] = bytes;
  }
  *ptr = p;
  return cudaSuccess;
}

cudaError_t cudaFree(void* ptr) {
  if (!ptr) return cudaSuccess;
  {
    std::lock_guard<std::mutex> lock(g_memory_mutex);
    if (g_allocations.erase(reinterpret_cast<uintptr_t>(ptr)) == 0) return fail(cudaErrorInvalidValue);
  }
  std::free(ptr);
  return cudaSuccess;
}

cudaError_t cudaMallocAsync(void** ptr, size_t bytes, cudaStream_t) { return cudaMalloc(ptr, bytes); }
cudaError_t cudaFreeAsync(void* ptr, cudaStream_t) { return cudaFree(ptr); }

cudaError_t cudaMallocHost(void** ptr, size_t bytes) {
  if (!ptr) return fail(cudaErrorInvalidValue);
  *ptr = bytes ? std::malloc(bytes) : nullptr;
  return *ptr || !bytes ? cudaSuccess : fail(cudaErrorMemoryAllocation);
}

cudaError_t cudaFreeHost(void* ptr) {
  std::free(ptr);
  return cudaSuccess;
}

cudaError_t cudaMemGetInfo(size_t* free_bytes, size_t* total_bytes) {
  if (!free_bytes || !total_bytes) return fail(cudaErrorInvalidValue);
  *free_bytes = static_cast<size_t>(sysconf(_SC_AVPHYS_PAGES)) * static_cast<size_t>(sysconf(_SC_PAGESIZE));
  *total_bytes = physical_memory();
  return cudaSuccess;
}

cudaError_t cudaMemcpy(void* dst, const void* src, size_t bytes, cudaMemcpyKind kind) {
  if (pending_fault() != cudaSuccess) return g_sticky.load();
  if (bytes == 0) return cudaSuccess;
  if (!dst || !src) return fail(cudaErrorInvalidValue);
  const bool device_dst = kind == cudaMemcpyHostToDevice || kind == cudaMemcpyDeviceToDevice;
  const bool device_src = kind == cudaMemcpyDeviceToHost || kind == cudaMemcpyDeviceToDevice;
  if (kind < cudaMemcpyHostToHost || kind > cudaMemcpyDefault) return fail(cudaErrorInvalidValue);
  if ((device_dst && !is_device_range(dst, bytes)) || (device_src && !is_device_range(src, bytes))) return fail(cudaErrorInvalidValue);
  std::memmove(dst, src, bytes);
  return cudaSuccess;
}

cudaError_t cudaMemcpyAsync(void* dst, const void* src, size_t bytes, cudaMemcpyKind kind, cudaStream_t) {
  return cudaMemcpy(dst, src, bytes, kind);
}

cudaError_t cudaMemset(void* dst, int value, size_t bytes) {
  if (pending_fault() != cudaSuccess) return g_sticky.load();
  if (bytes == 0) return cudaSuccess;
  if (!is_device_range(dst, bytes)) return fail(cudaErrorInvalidValue);
  std::memset(dst, value, bytes);
  return cudaSuccess;
}

cudaError_t cudaMemsetAsync(void* dst, int value, size_t bytes, cudaStream_t) { return cudaMemset(dst, value, bytes); }

cudaError_t cudaStreamCreate(cudaStream_t* stream) { return cudaStreamCreateWithFlags(stream, cudaStreamDefault); }

cudaError_t cudaStreamCreateWithFlags(cudaStream_t* stream, unsigned flags) {
  if (!stream || (flags & ~cudaStreamNonBlocking)) return fail(cudaErrorInvalidValue);
  *stream = new CUstream_st{flags};
  return cudaSuccess;
}

cudaError_t cudaStreamDestroy(cudaStream_t stream) {
  if (!stream) return fail(cudaErrorInvalidResourceHandle);
  delete stream;
  return cudaSuccess;
}

cudaError_t cudaStreamSynchronize(cudaStream_t) { return pending_fault(); }
cudaError_t cudaStreamQuery(cudaStream_t) { return pending_fault(); }
cudaError_t cudaStreamWaitEvent(cudaStream_t, cudaEvent_t event, unsigned) {
  return event ? cudaSuccess : fail(cudaErrorInvalidResourceHandle);
}

cudaError_t cudaLaunchHostFunc(cudaStream_t, cudaHostFn_t fn, void* user_data) {
  if (!fn) return fail(cudaErrorInvalidValue);
  if (pending_fault() != cudaSuccess) return g_sticky.load();
  fn(user_data);
  return cudaSuccess;
}

cudaError_t cudaEventCreate(cudaEvent_t* event) { return cudaEventCreateWithFlags(event, cudaEventDefault); }

cudaError_t cudaEventCreateWithFlags(cudaEvent_t* event, unsigned flags) {
  if (!event || (flags & ~(cudaEventBlockingSync | cudaEventDisableTiming))) return fail(cudaErrorInvalidValue);
  *event = new CUevent_st{flags, false, {}};
  return cudaSuccess;
}

cudaError_t cudaEventDestroy(cudaEvent_t event) {
  if (!event) return fail(cudaErrorInvalidResourceHandle);
  delete event;
  return cudaSuccess;
}

cudaError_t cudaEventRecord(cudaEvent_t event, cudaStream_t) {
  if (!event) return fail(cudaErrorInvalidResourceHandle);
  event->recorded = true;
  event->when = std::chrono::steady_clock::now();
  return cudaSuccess;
}

cudaError_t cudaEventQuery(cudaEvent_t event) { return event ? pending_fault() : fail(cudaErrorInvalidResourceHandle); }
cudaError_t cudaEventSynchronize(cudaEvent_t event) { return event ? pending_fault() : fail(cudaErrorInvalidResourceHandle); }

cudaError_t cudaEventElapsedTime(float* ms, cudaEvent_t start, cudaEvent_t end) {
  if (!ms) return fail(cudaErrorInvalidValue);
  if (!start || !end || !start->recorded || !end->recorded || ((start->flags | end->flags) & cudaEventDisableTiming))
    return fail(cudaErrorInvalidResourceHandle);
  *ms = std::chrono::duration<float, std::milli>(end->when - start->when).count();
  return cudaSuccess;
}

cudaError_t cudaDeviceGetDefaultMemPool(cudaMemPool_t* pool, int device) {
  static CUmemPoolHandle_st default_pool;
  if (!pool) return fail(cudaErrorInvalidValue);
  if (device != 0) return fail(cudaErrorInvalidDevice);
  *pool = &default_pool;
  return cudaSuccess;
}

cudaError_t cudaMemPoolSetAttribute(cudaMemPool_t pool, cudaMemPoolAttr, void* value) {
  return pool && value ? cudaSuccess : fail(cudaErrorInvalidValue);
}
