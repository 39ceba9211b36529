// tests/cpp/test_util.h — helpers shared by the C++ tests: random inputs, comparisons.
#pragma once

#include <gtest/gtest.h>

#include <random>
#include <string>

#include "te/te.h"

namespace te::testing {

// Fills a float/int array with uniform values from a fixed seed (ints in [-8, 8]).
void fill_random(NDArray& a, uint64_t seed);
NDArray random_array(const std::vector<int64_t>& shape, DataType dtype, uint64_t seed);
// Element-wise |a-b| <= atol + rtol*|b|; NaN anywhere is a mismatch. Returns "" on success,
// else a message naming the first bad index and both values.
std::string compare_arrays(const NDArray& actual, const NDArray& expected, double rtol = 1e-4,
                           double atol = 1e-5);
// Concrete shape of a tensor whose shape is constant (te::Error otherwise).
std::vector<int64_t> const_shape(const Tensor& t);

// Whether s contains part, and how many (possibly overlapping) times: for checks on printed
// IR and generated source.
inline bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }
inline size_t count_of(const std::string& s, const std::string& part) {
  size_t n = 0;
  for (size_t p = s.find(part); p != std::string::npos; p = s.find(part, p + 1)) ++n;
  return n;
}

// Runs f and checks it throws te::Error whose message contains every given fragment.
#define EXPECT_TE_ERROR(stmt, ...)                                                      \
  do {                                                                                  \
    try {                                                                               \
      stmt;                                                                             \
      ADD_FAILURE() << "expected te::Error from " #stmt;                                \
    } catch (const ::te::Error& err__) {                                                \
      for (const char* frag__ : {__VA_ARGS__})                                          \
        EXPECT_NE(std::string(err__.what()).find(frag__), std::string::npos)            \
            << "message '" << err__.what() << "' lacks '" << frag__ << "'";             \
    }                                                                                   \
  } while (0)

}  // namespace te::testing
