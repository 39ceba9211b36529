// src/schedule/untrusted_json.h — parsing JSON that comes from a file a user was given (a
// tuning log's records, their steps and configs). nlohmann's parser is iterative, but its
// dump() and comparisons recurse once per nesting level, so a 100 000-deep "[[[[...]]]]" in a
// log line overflowed the stack (found by tests/fuzz/libfuzzer/fuzz_tuning_log). Nothing te
// writes nests deeper than a few levels: deeper text is refused before it is parsed.
// Private to src/ (schedule and autotune); the public API never includes nlohmann.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace te {

// Records, steps and configs nest at most 3 levels; 64 leaves room for any future field.
constexpr int kMaxUntrustedJsonDepth = 64;

// The deepest nesting of [ and { in text, outside strings; stops counting past limit.
inline int json_nesting_depth(const std::string& text, int limit = kMaxUntrustedJsonDepth) {
  int depth = 0, deepest = 0;
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (in_string) {
      if (c == '\\') ++i;  // skips the escaped character (\" does not end the string)
      else if (c == '"') in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > deepest && (deepest = depth) > limit) return deepest;
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return deepest;
}

// nlohmann::json::parse without exceptions, refusing text nested deeper than
// kMaxUntrustedJsonDepth: the result is_discarded() for invalid or too-deep text.
inline nlohmann::json parse_untrusted_json(const std::string& text) {
  if (json_nesting_depth(text) > kMaxUntrustedJsonDepth) return nlohmann::json(nlohmann::json::value_t::discarded);
  return nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
}

}  // namespace te
