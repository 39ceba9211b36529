// te/autotune/measure.h — builds candidates in parallel and runs each in an isolated child
// process with a timeout; checks its output against the reference before its time counts.
// Layer 5 (uses task, lower, codegen; not the search).
#pragma once
#include <functional>
#include <string>
#include <vector>
#include "te/autotune/task.h"

namespace te::autotune {

enum class ErrorKind : uint8_t {
  kNone = 0,
  kInstantiate,  // the config is illegal for the schedule (te::Error while applying it)
  kCompile,      // lowering or code generation failed
  kRuntime,      // the kernel crashed, or a CUDA error
  kTimeout,      // it ran past the timeout
  kWrongAnswer,  // it finished but its output differs from the reference
  kDuplicate,    // same lowered code as an earlier candidate (not run)
};
const char* to_string(ErrorKind kind);
ErrorKind error_kind_from_string(const std::string& s);  // te::Error when unknown

struct MeasureResult {
  ErrorKind error = ErrorKind::kNone;
  std::string error_message;    // first lines of the error, for the log
  std::vector<double> costs;    // seconds per call, one per repeat (empty on error)
  double build_seconds = 0;     // lower + compile time of this candidate
  double timestamp = 0;         // unix time when measured
  std::string code_hash;        // hash of the lowered code (dedup)
  std::string steps_json;       // the candidate's schedule as replayable steps (for the log)
  double mean_cost() const;     // +inf on error
};

struct MeasureOptions {
  int number = 1;                // calls per repeat
  int repeat = 3;                // timed repeats (after one warm-up call)
  double min_repeat_ms = 0;      // raise number until a repeat takes this long
  double timeout_s = 10;         // per candidate (build excluded), then it is killed
  int build_workers = 0;         // 0: hardware threads
  double rtol = 1e-3, atol = 1e-4;  // output check (floats); ints must match exactly
  uint64_t seed = 0;             // random inputs
  // Test-only fault injection, e.g. {"crash"|"hang"|"wrong"} applied to candidates whose
  // config index is in fault_indices. Never set by users.
  std::string fault;
  std::vector<int64_t> fault_indices;
};

// Measures configs of one task. The reference output is computed once (by the unscheduled
// compute) per Measurer.
class Measurer {
 public:
  Measurer(const Task& task, MeasureOptions options = {});
  ~Measurer();
  std::vector<MeasureResult> measure(const std::vector<Config>& configs);
  const MeasureOptions& options() const;
  // On (the default): a candidate whose lowered code was measured before by this Measurer is
  // not run (kDuplicate). refine() turns it off to measure the leading configs again.
  void set_skip_duplicates(bool skip);
 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// The signature the search drives, so tests can pass a fake runner.
using MeasureFn = std::function<std::vector<MeasureResult>(const std::vector<Config>&)>;

}  // namespace te::autotune
