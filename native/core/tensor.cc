#include "tensor.h"

#include <cstdlib>
#include <cstring>
#include <new>

#include "backend.h"
#include "error.h"

namespace gmn {

namespace {
constexpr size_t kGuardBytes = 64;  // also the alignment of the data
constexpr unsigned char kGuardByte = 0xA5;
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

Storage::Storage(Device device, int64_t numel) : device_(device), numel_(numel) {
  if (numel < 0 || numel > kMaxNumel) throw range_error("size", "at most " + std::to_string(kMaxNumel) + " elements", std::to_string(numel));
  const size_t data_bytes = static_cast<size_t>(numel) * sizeof(float);
  const size_t padded = (data_bytes + kGuardBytes - 1) / kGuardBytes * kGuardBytes;
  const size_t total = padded + 2 * kGuardBytes;
  if (device == Device::CPU) {
    // calloc hands out zeroed pages without touching them, so a huge tensor costs nothing until it
    // is used (and fails here, not in a memset, when the system cannot commit it). The extra
    // kGuardBytes let the data start on a kGuardBytes boundary.
    raw_ = std::calloc(total + kGuardBytes, 1);
    if (!raw_) throw std::bad_alloc();
    const uintptr_t at = reinterpret_cast<uintptr_t>(raw_);
    base_ = reinterpret_cast<unsigned char*>((at + kGuardBytes - 1) / kGuardBytes * kGuardBytes);
    std::memset(base_, kGuardByte, kGuardBytes);
    std::memset(base_ + kGuardBytes + data_bytes, kGuardByte, total - kGuardBytes - data_bytes);
  } else {
    base_ = static_cast<unsigned char*>(cuda::alloc(total));
    cuda::memset_bytes(base_, kGuardByte, kGuardBytes);
    cuda::memset_bytes(base_ + kGuardBytes, 0, padded);
    cuda::memset_bytes(base_ + kGuardBytes + data_bytes, kGuardByte, total - kGuardBytes - data_bytes);
  }
  data_ = reinterpret_cast<float*>(base_ + kGuardBytes);
}

Storage::~Storage() {
  if (device_ == Device::CPU) {
    std::free(raw_);
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
