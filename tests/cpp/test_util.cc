#include "test_util.h"

#include <cmath>
#include <sstream>

#include "ir/half.h"
#include "ops_test_util.h"  // compare_half_arrays

namespace te::testing {

void fill_random(NDArray& a, uint64_t seed) {
  std::mt19937_64 rng(seed);
  DataType t = a.dtype();
  int64_t n = a.numel();
  std::uniform_real_distribution<double> real(-1.0, 1.0);
  std::uniform_int_distribution<int> integer(-8, 8);
  for (int64_t i = 0; i < n; ++i) {
    if (t == DataType::float32()) a.data_as<float>()[i] = float(real(rng));
    else if (t == DataType::float64()) a.data_as<double>()[i] = real(rng);
    else if (t == DataType::float16()) detail::store_half(a.data(), i, real(rng));  // rounded to binary16
    else if (t == DataType::int32()) a.data_as<int32_t>()[i] = integer(rng);
    else if (t == DataType::int64()) a.data_as<int64_t>()[i] = integer(rng);
    else if (t == DataType::int8()) a.data_as<int8_t>()[i] = int8_t(integer(rng));
    else if (t == DataType::uint8()) a.data_as<uint8_t>()[i] = uint8_t(integer(rng) + 8);
    else if (t == DataType::boolean()) a.data_as<uint8_t>()[i] = uint8_t(integer(rng) > 0);
    else throw Error("fill_random: unsupported dtype " + t.str());
  }
}

NDArray random_array(const std::vector<int64_t>& shape, DataType dtype, uint64_t seed) {
  NDArray a = NDArray::empty(shape, dtype);
  fill_random(a, seed);
  return a;
}

static double element(const NDArray& a, int64_t i) {
  DataType t = a.dtype();
  if (t == DataType::float32()) return a.data_as<float>()[i];
  if (t == DataType::float64()) return a.data_as<double>()[i];
  if (t == DataType::float16()) return detail::load_half(a.data(), i);
  if (t == DataType::int32()) return a.data_as<int32_t>()[i];
  if (t == DataType::int64()) return double(a.data_as<int64_t>()[i]);
  if (t == DataType::int8()) return a.data_as<int8_t>()[i];
  if (t == DataType::uint8() || t == DataType::boolean()) return a.data_as<uint8_t>()[i];
  if (t == DataType::int16()) return a.data_as<int16_t>()[i];
  throw Error("compare_arrays: unsupported dtype " + t.str());
}

std::string compare_arrays(const NDArray& actual, const NDArray& expected, double rtol, double atol) {
  std::ostringstream os;
  if (actual.shape() != expected.shape()) return "shape mismatch";
  if (actual.dtype() != expected.dtype())
    return "dtype mismatch: " + actual.dtype().str() + " vs " + expected.dtype().str();
  for (int64_t i = 0; i < actual.numel(); ++i) {
    double x = element(actual, i), y = element(expected, i);
    bool bad = std::isnan(x) || std::isnan(y) || std::fabs(x - y) > atol + rtol * std::fabs(y);
    if (std::isinf(y) && x == y) bad = false;
    if (bad) {
      os << "element " << i << ": got " << x << ", expected " << y;
      return os.str();
    }
  }
  return "";
}

std::string compare_half_arrays(const NDArray& actual, const NDArray& expected, double ulps) {
  if (actual.dtype() != DataType::float16() || expected.dtype() != DataType::float16())
    return "compare_half_arrays: float16 arrays expected, got " + actual.dtype().str() + " and " +
           expected.dtype().str();
  if (actual.shape() != expected.shape()) return "shape mismatch";
  for (int64_t i = 0; i < actual.numel(); ++i) {
    double x = element(actual, i), y = element(expected, i);
    double ulp = std::fabs(y) < std::ldexp(1.0, -14) ? std::ldexp(1.0, -24)
                                                     : std::ldexp(1.0, std::ilogb(std::fabs(y)) - 10);
    bool bad = std::isnan(x) || std::isnan(y) || std::fabs(x - y) > ulps * ulp;
    if (std::isinf(y) && x == y) bad = false;
    if (bad) {
      std::ostringstream os;
      os << "element " << i << ": got " << x << ", expected " << y << " (more than " << ulps
         << " float16 ulp apart)";
      return os.str();
    }
  }
  return "";
}

std::vector<int64_t> const_shape(const Tensor& t) {
  std::vector<int64_t> shape;
  for (const Expr& e : t.shape()) {
    const int64_t* v = as_const_int(e);
    if (!v) throw Error("const_shape: tensor " + t.name() + " has a symbolic shape");
    shape.push_back(*v);
  }
  return shape;
}

}  // namespace te::testing
