// src/codegen/runtime/ndarray.cc — NDArray (aligned CPU arrays) and the DLPack dtype mapping.
// The Module class in this folder belongs to the code generator; this file only holds arrays.
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>

#include "te/runtime.h"

namespace te {

namespace {

// DLPack >= 0.8 defines kDLBool = 6; Debian's dlpack.h (0.6) predates it, so the code is
// spelled out here. Bools are stored one per byte.
constexpr uint8_t kDLBoolCode = 6;
constexpr size_t kAlignment = 64;

// What an NDArray's shared storage owns: the data and the shape the DLTensor points at, so
// that copies of an NDArray (which share storage) keep a valid DLTensor::shape.
struct ArrayStorage {
  void* data = nullptr;
  std::vector<int64_t> shape;
  ~ArrayStorage() { std::free(data); }
};

}  // namespace

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

NDArray NDArray::empty(const std::vector<int64_t>& shape, DataType dtype) {
  if (dtype.is_handle()) fail("NDArray::empty: dtype ", dtype.str(), " cannot be stored in an array");
  from_dlpack(to_dlpack(dtype));  // rejects dtypes DLPack consumers could not read back
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
  storage->data = std::aligned_alloc(kAlignment, padded);
  if (!storage->data) fail("NDArray::empty: out of memory allocating ", padded, " bytes");
  storage->shape = shape;

  NDArray a;
  a.shape_ = shape;
  a.tensor_.data = storage->data;
  a.tensor_.device = DLDevice{kDLCPU, 0};
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

void NDArray::fill_poison() {
  if (!defined()) return;
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
