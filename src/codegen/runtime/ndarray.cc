// src/codegen/runtime/ndarray.cc — NDArray (aligned CPU arrays, CUDA device arrays, DLPack
// tensors taken over without a copy) and the DLPack dtype mapping. The Module class in this
// folder belongs to the code generator; this file only holds arrays. Device memory goes
// through src/codegen/cuda/cuda_driver.h (the driver is loaded at run time).
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>

#include "te/runtime.h"
#ifdef TE_WITH_CUDA
#include "codegen/cuda/cuda_driver.h"
#endif

namespace te {

namespace {

// DLPack >= 0.8 defines kDLBool = 6; Debian's dlpack.h (0.6) predates it, so the code is
// spelled out here. Bools are stored one per byte.
constexpr uint8_t kDLBoolCode = 6;
constexpr size_t kAlignment = 64;

// What an NDArray's shared storage owns: the data (or a DLPack tensor taken over) and the
// shape the DLTensor points at, so that copies of an NDArray keep a valid DLTensor::shape.
struct ArrayStorage {
  void* data = nullptr;
  Device device;
  DLManagedTensor* managed = nullptr;  // set: data belongs to this foreign tensor
  std::vector<int64_t> shape;
  ~ArrayStorage() {
    if (managed) {
      if (managed->deleter) managed->deleter(managed);
    } else if (device.is_cpu()) {
      std::free(data);
    } else {
#ifdef TE_WITH_CUDA
      cuda_free(device.id, data);
#endif
    }
  }
};

[[noreturn, maybe_unused]] void no_cuda(const std::string& what) {
  fail(what, ": te was built without CUDA (TE_WITH_CUDA=OFF); CUDA arrays are not available");
}

// Copies bytes between two places, either of which may be CPU or CUDA memory.
void copy_bytes(void* dst, Device dst_device, const void* src, Device src_device, size_t bytes) {
  if (dst_device.is_cpu() && src_device.is_cpu()) {
    if (bytes) std::memcpy(dst, src, bytes);
    return;
  }
#ifdef TE_WITH_CUDA
  cuda_copy(dst, dst_device.dl(), src, src_device.dl(), bytes);
#else
  no_cuda("NDArray copy");
#endif
}

void check_device(Device device, const char* who) {
  if (device.is_cpu()) return;
  if (!device.is_cuda())
    fail(who, ": device ", device.str(), " is not supported; te arrays live on the CPU or a CUDA device");
  if (device.id < 0) fail(who, ": CUDA device index ", device.id, " is negative");
}

}  // namespace

std::string device_text(DLDevice d) {
  if (d.device_type == kDLCPU) return detail::cat("cpu(", d.device_id, ")");
  if (d.device_type == kDLCUDA) return detail::cat("cuda(", d.device_id, ")");
  return detail::cat("device type ", int(d.device_type), " (", d.device_id, ")");
}
std::string Device::str() const { return device_text(dl()); }

#ifdef TE_WITH_CUDA
std::string cuda_device_name(int index) { return cuda_device_info(index).name; }
#else
int cuda_device_count() { return 0; }
std::string cuda_device_name(int index) { no_cuda(detail::cat("cuda_device_name(", index, ")")); }
#endif

DLDataType to_dlpack(DataType t) {
  DLDataType d;
  d.lanes = t.lanes;
  d.bits = t.bits;
  switch (t.code) {
    case DataType::kInt: d.code = kDLInt; break;
    case DataType::kUInt: d.code = kDLUInt; break;
    case DataType::kFloat: d.code = kDLFloat; break;
    case DataType::kHandle: d.code = kDLOpaqueHandle; break;
    case DataType::kBool:
      d.code = kDLBoolCode;
      d.bits = 8;
      break;
  }
  return d;
}

DataType from_dlpack(DLDataType d) {
  int lanes = d.lanes;
  if (lanes < 1) fail("DLPack dtype with ", lanes, " lanes is not supported; expected lanes >= 1");
  auto unsupported = [&]() -> DataType {
    fail("DLPack dtype (code ", int(d.code), ", bits ", int(d.bits), ", lanes ", lanes,
         ") is not supported; te supports float16/32/64, int8/16/32/64, uint8 and bool");
  };
  switch (d.code) {
    case kDLFloat:
      if (d.bits == 16 || d.bits == 32 || d.bits == 64) return DataType(DataType::kFloat, d.bits, lanes);
      return unsupported();
    case kDLInt:
      if (d.bits == 8 || d.bits == 16 || d.bits == 32 || d.bits == 64) return DataType(DataType::kInt, d.bits, lanes);
      return unsupported();
    case kDLUInt:
      if (d.bits == 8) return DataType(DataType::kUInt, 8, lanes);
      return unsupported();
    case kDLBoolCode:
      if (d.bits == 8) return DataType(DataType::kBool, 1, lanes);
      return unsupported();
    default:
      return unsupported();
  }
}

NDArray NDArray::empty(const std::vector<int64_t>& shape, DataType dtype, Device device) {
  check_device(device, "NDArray::empty");
  if (dtype.is_handle()) fail("NDArray::empty: dtype ", dtype.str(), " cannot be stored in an array");
  te::from_dlpack(to_dlpack(dtype));  // rejects dtypes DLPack consumers could not read back
  int64_t numel = 1;
  for (size_t d = 0; d < shape.size(); ++d) {
    if (shape[d] < 0) fail("NDArray::empty: dimension ", d, " is ", shape[d], "; dimensions must be >= 0");
    if (shape[d] > 0 && numel > std::numeric_limits<int64_t>::max() / shape[d])
      fail("NDArray::empty: shape is too large (element count overflows int64)");
    numel *= shape[d];
  }
  const int64_t element_bytes = int64_t(dtype.bytes()) * dtype.lanes;
  if (numel > std::numeric_limits<int64_t>::max() / element_bytes)
    fail("NDArray::empty: shape is too large (byte count overflows int64)");
  // aligned_alloc needs a size that is a multiple of the alignment (and non-zero).
  size_t bytes = size_t(numel * element_bytes);
  size_t padded = (bytes + kAlignment - 1) / kAlignment * kAlignment;
  if (padded == 0) padded = kAlignment;
  auto storage = std::make_shared<ArrayStorage>();
  storage->device = device;
  if (device.is_cpu()) {
    storage->data = std::aligned_alloc(kAlignment, padded);
    if (!storage->data) fail("NDArray::empty: out of memory allocating ", padded, " bytes");
  } else {
#ifdef TE_WITH_CUDA
    storage->data = cuda_alloc(device.id, padded);  // 256-byte aligned by the driver
#else
    no_cuda("NDArray::empty on " + device.str());
#endif
  }
  storage->shape = shape;

  NDArray a;
  a.shape_ = shape;
  a.tensor_.data = storage->data;
  a.tensor_.device = device.dl();
  a.tensor_.ndim = int32_t(shape.size());
  a.tensor_.dtype = to_dlpack(dtype);
  a.tensor_.shape = storage->shape.data();
  a.tensor_.strides = nullptr;  // compact row-major
  a.tensor_.byte_offset = 0;
  a.storage_ = std::move(storage);
  return a;
}

int64_t NDArray::numel() const {
  int64_t n = 1;
  for (int64_t d : shape_) n *= d;
  return n;
}

size_t NDArray::nbytes() const {
  if (!defined()) return 0;
  DataType t = dtype();
  return size_t(numel()) * size_t(t.bytes()) * t.lanes;
}

NDArray NDArray::from_dlpack(DLManagedTensor* managed) {
  if (!managed) fail("NDArray::from_dlpack: null DLManagedTensor");
  const DLTensor& t = managed->dl_tensor;
  Device device{static_cast<DLDeviceType>(t.device.device_type), t.device.device_id};
  if (!device.is_cpu() && !device.is_cuda())
    fail("NDArray::from_dlpack: the tensor lives on ", device_text(t.device),
         "; te takes CPU (kDLCPU) and CUDA (kDLCUDA) tensors");
#ifndef TE_WITH_CUDA
  if (device.is_cuda()) no_cuda("NDArray::from_dlpack");
#endif
  DataType dtype = te::from_dlpack(t.dtype);
  if (t.ndim < 0 || (t.ndim > 0 && !t.shape)) fail("NDArray::from_dlpack: the tensor has no valid shape");
  std::vector<int64_t> shape(t.shape, t.shape + t.ndim);
  int64_t numel = 1;
  for (int64_t d : shape) {
    if (d < 0) fail("NDArray::from_dlpack: negative dimension ", d);
    numel *= d;
  }
  if (t.strides) {
    int64_t expected = 1;
    for (int d = t.ndim - 1; d >= 0; --d) {
      if (shape[d] != 1 && t.strides[d] != expected)
        fail("NDArray::from_dlpack: the tensor is not compact row-major (dimension ", d, " has stride ", t.strides[d],
             ", expected ", expected, "); make it contiguous first (e.g. .contiguous() in PyTorch)");
      expected *= shape[d];
    }
  }
  if (!t.data && numel > 0) fail("NDArray::from_dlpack: null data pointer");
  auto storage = std::make_shared<ArrayStorage>();
  storage->device = device;
  storage->shape = shape;
  storage->data = static_cast<char*>(t.data) + t.byte_offset;
  storage->managed = managed;
  NDArray a;
  a.shape_ = shape;
  a.tensor_.data = storage->data;
  a.tensor_.device = t.device;
  a.tensor_.ndim = t.ndim;
  a.tensor_.dtype = to_dlpack(dtype);
  a.tensor_.shape = storage->shape.data();
  a.tensor_.strides = nullptr;
  a.tensor_.byte_offset = 0;
  a.storage_ = std::move(storage);
  return a;
}

NDArray NDArray::copy_to(Device device) const {
  if (!defined()) fail("NDArray::copy_to: the array is undefined");
  NDArray out = NDArray::empty(shape_, dtype(), device);
  out.copy_from(*this);
  return out;
}

void NDArray::copy_from(const NDArray& src) {
  if (!defined() || !src.defined()) fail("NDArray::copy_from: undefined array");
  if (src.shape() != shape_ || src.dtype() != dtype())
    fail("NDArray::copy_from: the source has dtype ", src.dtype().str(), " and ", src.shape().size(),
         " dimensions; the destination ", dtype().str(), " and ", shape_.size(),
         " dimensions; shapes and dtypes must match");
  copy_bytes(data(), device(), src.data(), src.device(), nbytes());
}

void NDArray::copy_from_host(const void* host, size_t bytes) {
  if (!defined()) fail("NDArray::copy_from_host: the array is undefined");
  if (bytes != nbytes()) fail("NDArray::copy_from_host: got ", bytes, " bytes; the array holds ", nbytes());
  copy_bytes(data(), device(), host, Device::cpu(), bytes);
}

void NDArray::copy_to_host(void* host, size_t bytes) const {
  if (!defined()) fail("NDArray::copy_to_host: the array is undefined");
  if (bytes != nbytes()) fail("NDArray::copy_to_host: got room for ", bytes, " bytes; the array holds ", nbytes());
  copy_bytes(host, Device::cpu(), data(), device(), bytes);
}

void NDArray::fill_poison() {
  if (!defined()) return;
  if (!device().is_cpu()) {
    NDArray host = NDArray::empty(shape_, dtype());
    host.fill_poison();
    copy_from(host);
    return;
  }
  DataType t = dtype();
  const int64_t n = numel() * t.lanes;
  if (t.is_float()) {
    if (t.bits == 32) {
      float* p = data_as<float>();
      for (int64_t i = 0; i < n; ++i) p[i] = std::numeric_limits<float>::quiet_NaN();
    } else if (t.bits == 64) {
      double* p = data_as<double>();
      for (int64_t i = 0; i < n; ++i) p[i] = std::numeric_limits<double>::quiet_NaN();
    } else {
      uint16_t* p = data_as<uint16_t>();  // float16 quiet NaN
      for (int64_t i = 0; i < n; ++i) p[i] = 0x7E00;
    }
    return;
  }
  // Integers and bools: 0x7f in every byte (int32 0x7f7f7f7f): large, odd, and not a valid bool.
  std::memset(data(), 0x7f, nbytes());
}

}  // namespace te
