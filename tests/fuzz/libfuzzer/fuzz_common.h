// tests/fuzz/libfuzzer/fuzz_common.h — what every parser fuzz target shares: the contract
// that a parser of untrusted text either returns or throws te::Error. Anything else (another
// exception type, a crash, a sanitizer report, a hang, a leak) is a bug the fuzzer reports.
#pragma once

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>

#include "te/base.h"

namespace te::fuzz {

// Runs f(); te::Error is the documented way to refuse input, so it is swallowed. Any other
// exception escaping a parser is a bug: abort so libFuzzer records the input as a crash.
template <typename F>
bool accepts(F&& f) {
  try {
    f();
    return true;
  } catch (const te::Error&) {
    return false;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "fuzz: a parser threw %s instead of te::Error: %s\n", typeid(e).name(), e.what());
    std::abort();
  }
}

// A property the fuzz target checks (e.g. a round trip); on failure the input is a crash.
inline void require(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "fuzz: property violated: %s\n", what);
    std::abort();
  }
}

inline std::string as_string(const uint8_t* data, size_t size) {
  return std::string(reinterpret_cast<const char*>(data), size);
}

}  // namespace te::fuzz
