// Float32 tensors owned by native code, on one device. Storage is reference counted so that an
// operation in flight keeps its buffers alive even if JS disposes the tensor meanwhile.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace gmn {

enum class Device { CPU, CUDA };
const char* device_name(Device d);

constexpr int kMaxDims = 8;
constexpr int64_t kMaxNumel = (int64_t(1) << 31) - 1;  // kernels index with int64 but sizes stay in int32

struct Shape {
  std::vector<int64_t> dims;
  int64_t numel() const;
  int ndim() const { return static_cast<int>(dims.size()); }
  int64_t operator[](int i) const { return dims[i]; }
  std::string str() const;  // "[2, 3]"
  bool operator==(const Shape& o) const { return dims == o.dims; }
};

// One allocation with guard bytes before and after the data, filled with a known pattern, so
// tests can detect a kernel that writes out of bounds (see check_guards).
class Storage {
 public:
  // Zero-filled, or with unspecified contents when !zero (for outputs an op overwrites whole, and
  // data copied in at once).
  Storage(Device device, int64_t numel, bool zero = true);
  ~Storage();
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;

  Device device() const { return device_; }
  int64_t numel() const { return numel_; }
  float* data() const { return data_; }
  bool check_guards() const;

 private:
  Device device_;
  int64_t numel_;
  void* raw_ = nullptr;  // the host block (CPU) and its size
  size_t raw_bytes_ = 0;
  unsigned char* base_ = nullptr;
  float* data_ = nullptr;
};

// A view of a storage with a shape; what kernels are given.
struct Tensor {
  std::shared_ptr<Storage> storage;
  Shape shape;
  float* data() const { return storage->data(); }
  Device device() const { return storage->device(); }
  int64_t numel() const { return shape.numel(); }
};

// Copies and fills (host <-> device), synchronous with respect to the calling thread.
void copy_from_host(const Tensor& t, const float* src);
void copy_to_host(const Tensor& t, float* dst);
void fill(const Tensor& t, float value);

}  // namespace gmn
