#include "tensor.h"

#include <cstdlib>
#include <cstring>
#include <mutex>
#include <new>
#include <unordered_map>
#include <vector>

#include "backend.h"
#include "error.h"

namespace gmn {

namespace {
constexpr size_t kGuardBytes = 64;  // also the alignment of the data
constexpr unsigned char kGuardByte = 0xA5;

// Freed host blocks, kept by size for the next allocation of the same size. A training step
// allocates the same activations every time; handing them back to the system each step cost page
// faults and TLB shootdowns worth about a third of the step. GMN_HOST_CACHE_MB caps what is kept
// (default 2048; 0 turns the cache off).
class HostCache {
 public:
  HostCache() {
    const char* env = std::getenv("GMN_HOST_CACHE_MB");
    const long mb = env ? std::strtol(env, nullptr, 10) : 2048;
    limit_ = mb > 0 ? static_cast<size_t>(mb) << 20 : 0;
  }

  void* take(size_t bytes) {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = blocks_.find(bytes);
    if (it == blocks_.end() || it->second.empty()) return nullptr;
    void* p = it->second.back();
    it->second.pop_back();
    cached_ -= bytes;
    return p;
  }

  // Keeps the block when there is room; false means the caller frees it.
  bool keep(void* p, size_t bytes) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (cached_ + bytes > limit_) return false;
    blocks_[bytes].push_back(p);
    cached_ += bytes;
    return true;
  }

 private:
  std::mutex mutex_;
  std::unordered_map<size_t, std::vector<void*>> blocks_;
  size_t cached_ = 0, limit_ = 0;
};

HostCache& host_cache() {
  static HostCache* cache = new HostCache();  // never destroyed: storages may outlive static teardown
  return *cache;
}
}  // namespace

const char* device_name(Device d) { return d == Device::CPU ? "cpu" : "cuda"; }

int64_t Shape::numel() const {
  int64_t n = 1;
  for (int64_t d : dims) n *= d;
  return n;
}

std::string Shape::str() const {
  std::string s = "[";
  for (size_t i = 0; i < dims.size(); ++i) s += (i ? ", " : "") + std::to_string(dims[i]);
  return s + "]";
}

Storage::Storage(Device device, int64_t numel, bool zero) : device_(device), numel_(numel) {
  if (numel < 0 || numel > kMaxNumel) throw range_error("size", "at most " + std::to_string(kMaxNumel) + " elements", std::to_string(numel));
  const size_t data_bytes = static_cast<size_t>(numel) * sizeof(float);
  const size_t padded = (data_bytes + kGuardBytes - 1) / kGuardBytes * kGuardBytes;
  const size_t total = padded + 2 * kGuardBytes;
  if (device == Device::CPU) {
    // A cached block is zeroed here (when asked); a new one comes from calloc, which hands out zeroed pages
    // without touching them, so a huge tensor costs nothing until it is used (and fails here, not
    // in a memset, when the system cannot commit it). The extra kGuardBytes let the data start on
    // a kGuardBytes boundary.
    raw_bytes_ = total + kGuardBytes;
    raw_ = host_cache().take(raw_bytes_);
    const bool reused = raw_ != nullptr;
    if (!reused) raw_ = std::calloc(raw_bytes_, 1);
    if (!raw_) throw std::bad_alloc();
    const uintptr_t at = reinterpret_cast<uintptr_t>(raw_);
    base_ = reinterpret_cast<unsigned char*>((at + kGuardBytes - 1) / kGuardBytes * kGuardBytes);
    std::memset(base_, kGuardByte, kGuardBytes);
    if (reused && zero) std::memset(base_ + kGuardBytes, 0, data_bytes);
    std::memset(base_ + kGuardBytes + data_bytes, kGuardByte, total - kGuardBytes - data_bytes);
  } else {
    base_ = static_cast<unsigned char*>(cuda::alloc(total));
    cuda::memset_bytes(base_, kGuardByte, kGuardBytes);
    if (zero) cuda::memset_bytes(base_ + kGuardBytes, 0, padded);
    cuda::memset_bytes(base_ + kGuardBytes + data_bytes, kGuardByte, total - kGuardBytes - data_bytes);
  }
  data_ = reinterpret_cast<float*>(base_ + kGuardBytes);
}

Storage::~Storage() {
  if (device_ == Device::CPU) {
    if (!host_cache().keep(raw_, raw_bytes_)) std::free(raw_);
  } else {
    try {
      cuda::free(base_);
    } catch (...) {
      // A failing cudaFree in a destructor has nowhere to go; the context is already broken.
    }
  }
}

bool Storage::check_guards() const {
  const size_t data_bytes = static_cast<size_t>(numel_) * sizeof(float);
  const size_t padded = (data_bytes + kGuardBytes - 1) / kGuardBytes * kGuardBytes;
  const size_t tail = padded + kGuardBytes - data_bytes;
  std::vector<unsigned char> head(kGuardBytes), after(tail);
  if (device_ == Device::CPU) {
    std::memcpy(head.data(), base_, kGuardBytes);
    std::memcpy(after.data(), base_ + kGuardBytes + data_bytes, tail);
  } else {
    cuda::memcpy_d2h(head.data(), base_, kGuardBytes);
    cuda::memcpy_d2h(after.data(), base_ + kGuardBytes + data_bytes, tail);
  }
  for (unsigned char b : head) if (b != kGuardByte) return false;
  for (unsigned char b : after) if (b != kGuardByte) return false;
  return true;
}

void copy_from_host(const Tensor& t, const float* src) {
  const size_t bytes = static_cast<size_t>(t.numel()) * sizeof(float);
  if (t.device() == Device::CPU) std::memcpy(t.data(), src, bytes);
  else cuda::memcpy_h2d(t.data(), src, bytes);
}

void copy_to_host(const Tensor& t, float* dst) {
  const size_t bytes = static_cast<size_t>(t.numel()) * sizeof(float);
  if (t.device() == Device::CPU) std::memcpy(dst, t.data(), bytes);
  else cuda::memcpy_d2h(dst, t.data(), bytes);
}

void fill(const Tensor& t, float value) {
  if (t.device() == Device::CPU) {
    float* p = t.data();
    for (int64_t i = 0, n = t.numel(); i < n; ++i) p[i] = value;
  } else {
    cuda::fill(t.data(), value, static_cast<size_t>(t.numel()));
  }
}

}  // namespace gmn
