// Fuzzes the target-string parser (Target::parse, src/lower/target.cc) and the LLVM-side
// check of -mcpu/-mattr values (resolve_cpu): a target string from a user or a tuning log
// is either refused with te::Error or yields a Target whose text parses back to itself and
// whose -mcpu/-mattr values LLVM was asked about before any compiler option is built.
#include <cctype>
#include <cstring>

#include "codegen/llvm/target_machine.h"
#include "fuzz_common.h"
#include "te/lower.h"

using namespace te;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text = fuzz::as_string(data, size);
  Target t;
  if (!fuzz::accepts([&] { t = Target::parse(text); })) return 0;
  Target back;
  fuzz::require(fuzz::accepts([&] { back = Target::parse(t.str()); }), "Target::str() does not parse back");
  fuzz::require(back.kind == t.kind && back.mcpu == t.mcpu && back.mattr == t.mattr &&
                    back.num_threads == t.num_threads,
                "Target changed in a str()/parse round trip");
  fuzz::require(t.kind == "llvm" || t.kind == "cuda", "Target::parse accepted an unknown kind");
  // Every character that can reach LLVM is on the allowlist of target.cc.
  for (const std::string* s : {&t.mcpu, &t.mattr})
    for (char c : *s)
      fuzz::require(std::isalnum(static_cast<unsigned char>(c)) || (c != 0 && std::strchr("_.-+,", c) != nullptr),
                    "a target value holds a character outside [A-Za-z0-9_.+,-]");
  if (t.kind == "llvm") fuzz::accepts([&] { llvm_backend::resolve_cpu(t); });
  return 0;
}
