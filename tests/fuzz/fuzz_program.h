// tests/fuzz/fuzz_program.h — the differential fuzzer's case: a random tensor-expression
// program (1–6 stages) and a random legal schedule for the CPU (LLVM) or the GPU (CUDA C via
// NVRTC). A FuzzCase holds only seeds and size knobs (plus, after shrinking, the schedule's
// steps), so it round-trips through JSON and a replay rebuilds exactly the same case.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "te/te.h"

namespace te::fuzz {

struct FuzzCase {
  uint64_t program_seed = 0;
  uint64_t schedule_seed = 0;
  std::string dtype = "float32";  // float32, float64, int32, int8
  int num_stages = 3;             // compute stages (1..6); shrinking lowers it
  int extent_cap = 64;            // every dimension is at most this; shrinking lowers it
  bool symbolic = false;          // one dimension is a size variable bound at call time
  std::string target = "llvm";    // llvm (built, run, compared) or cuda (built by NVRTC)
  std::string steps_json;         // non-empty: replay these steps instead of the random schedule

  std::string to_json() const;
  static FuzzCase from_json(const std::string& text);  // te::Error when malformed
};

// The case a master seed stands for (its dtype, stage count, target, ...).
FuzzCase random_case(uint64_t seed, bool with_cuda);

struct Program {
  std::vector<Tensor> inputs;                      // kernel inputs, in argument order
  std::vector<std::vector<int64_t>> input_shapes;  // concrete shape of each input for the call
  std::vector<Tensor> outputs;                     // after the inputs in argument order
  std::string text;                                // the program, readable (one line per stage)
  double rtol = 0, atol = 0;                       // dtype-appropriate tolerances
};

Program generate_program(const FuzzCase& c);

// Applies the case's schedule: its steps_json when set, else a random legal schedule for the
// case's target drawn from schedule_seed. Throws te::Error when a primitive rejects it.
Schedule make_schedule(const FuzzCase& c, const Program& p);

}  // namespace te::fuzz
