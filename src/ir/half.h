// src/ir/half.h — float16 storage for the reference evaluator and the IR interpreter. The compiler's _Float16 where
// it has one (gcc 12, clang >= 15 on x86); otherwise (clang-14, which builds the sanitizer
// and fuzzing tree) the same IEEE binary16 conversions in bit arithmetic, rounding to
// nearest even directly from double, as _Float16(double) does.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>

namespace te::detail {

#if defined(__FLT16_MAX__)
inline double load_half(const void* p, int64_t i) { return double(static_cast<const _Float16*>(p)[i]); }
inline void store_half(void* p, int64_t i, double v) { static_cast<_Float16*>(p)[i] = _Float16(v); }
#else
inline uint16_t half_bits_from_double(double d) {
  uint64_t b;
  std::memcpy(&b, &d, sizeof b);
  uint16_t sign = uint16_t((b >> 48) & 0x8000);
  int exp = int((b >> 52) & 0x7ff);
  uint64_t mant = b & ((uint64_t(1) << 52) - 1);
  if (exp == 0x7ff) return uint16_t(sign | 0x7c00 | (mant ? 0x200 : 0));  // inf, NaN (quiet)
  if (exp == 0) return sign;                                               // double subnormal: 0
  int e = exp - 1023 + 15;                                                 // the half's exponent
  if (e >= 31) return uint16_t(sign | 0x7c00);                             // >= 2^16: inf
  uint64_t m = mant | (uint64_t(1) << 52);                                 // 53-bit significand
  int shift = e <= 0 ? 42 + 1 - e : 42;                                    // bits dropped
  if (shift > 53) return sign;                                             // below 2^-25: 0
  uint64_t q = m >> shift, rem = m & ((uint64_t(1) << shift) - 1), half = uint64_t(1) << (shift - 1);
  if (rem > half || (rem == half && (q & 1))) ++q;                         // nearest, ties to even
  if (e <= 0) return uint16_t(sign | q);  // subnormal (q == 0x400 is the smallest normal)
  if (q == 0x800) {                       // rounding carried into the next binade
    q = 0x400;
    if (++e >= 31) return uint16_t(sign | 0x7c00);
  }
  return uint16_t(sign | (e << 10) | (q & 0x3ff));
}
inline double double_from_half_bits(uint16_t h) {
  int e = (h >> 10) & 0x1f, m = h & 0x3ff;
  double v = e == 0 ? std::ldexp(double(m), -24)
             : e == 31 ? (m ? std::nan("") : INFINITY)
                       : std::ldexp(double(1024 + m), e - 25);
  return (h & 0x8000) ? -v : v;
}
inline double load_half(const void* p, int64_t i) {
  return double_from_half_bits(static_cast<const uint16_t*>(p)[i]);
}
inline void store_half(void* p, int64_t i, double v) { static_cast<uint16_t*>(p)[i] = half_bits_from_double(v); }
#endif

}  // namespace te::detail
