// te/autotune/space.h — the knobs of a tuning space and one point in it (a Config).
// A template function is run once with a Config in "space" mode, where define_* records
// each knob and returns its first choice, then once per candidate with a Config in "apply"
// mode, where define_* checks the knob exists and returns the candidate's choice. This is
// AutoTVM's ConfigSpace / ConfigEntity split in one class. Layer 1 of the autotuner: uses
// only te's schedule API.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>
#include "te/schedule.h"

namespace te::autotune {

// How define_split enumerates factor tuples of an extent.
enum class SplitPolicy : uint8_t {
  kFactors,     // every tuple whose product is the extent (divisors only)
  kPowerOfTwo,  // inner sizes are powers of two (the outermost size absorbs the rest, may not divide)
  kCandidates,  // the explicit list in SplitOptions::candidates
};
struct SplitOptions {
  SplitPolicy policy = SplitPolicy::kFactors;
  int64_t max_factor = 0;                         // 0: no limit on each inner size
  std::vector<std::vector<int64_t>> candidates;   // for kCandidates: full size tuples
};

// One knob: a named list of choices. Each choice is a small integer tuple:
//   split    : sizes, outermost first; sizes[0] = -1 means "the rest" (ceil-div of the extent)
//   reorder  : a permutation of the axes passed to define_reorder
//   annotate : one code per axis (see Annotation)
//   other    : a single value
struct Knob {
  enum Kind : uint8_t { kSplit, kReorder, kAnnotate, kOther };
  std::string name;
  Kind kind = kOther;
  std::vector<std::vector<int64_t>> choices;
  std::string describe(int64_t choice) const;  // e.g. "[-1, 8, 4]"
};

// Codes used by annotate knobs.
enum class Annotation : int64_t { kNone = 0, kUnroll = 1, kVectorize = 2, kParallel = 3 };

class Config {
 public:
  Config() = default;  // space mode, no knobs yet
  bool is_space() const { return space_mode_; }

  // ---- template API (AutoTVM names). Each returns the chosen entry (space mode: choice 0).
  // te::Error when a name is defined twice with a different shape, or unknown in apply mode.
  const std::vector<int64_t>& define_split(const std::string& name, int64_t extent,
                                           int num_outputs = 2, const SplitOptions& options = {});
  const std::vector<int64_t>& define_split(const std::string& name, const IterVar& axis,
                                           int num_outputs = 2, const SplitOptions& options = {});
  // policy "all" (every permutation, up to 6 axes) or "identity_and_reverse".
  const std::vector<int64_t>& define_reorder(const std::string& name, const std::vector<IterVar>& axes,
                                             const std::string& policy = "all");
  // policy: "try_unroll", "try_vec", "try_unroll_vec", "try_parallel" (each axis independently).
  const std::vector<int64_t>& define_annotate(const std::string& name, const std::vector<IterVar>& axes,
                                              const std::string& policy);
  int64_t define_knob(const std::string& name, const std::vector<int64_t>& values);

  // ---- applying choices to a schedule. te::Error (a schedule error) when illegal.
  std::vector<IterVar> apply_split(const std::string& name, Stage stage, const IterVar& axis) const;
  std::vector<IterVar> apply_reorder(const std::string& name, Stage stage,
                                     const std::vector<IterVar>& axes) const;
  void apply_annotate(const std::string& name, Stage stage, const std::vector<IterVar>& axes) const;
  const std::vector<int64_t>& get(const std::string& name) const;  // the chosen entry
  int64_t value(const std::string& name) const;                    // define_knob's value

  // ---- the space
  const std::vector<Knob>& knobs() const { return knobs_; }
  // Product of the knobs' choice counts, saturating at INT64_MAX.
  int64_t space_size() const;
  // This config's choice per knob (same order as knobs()).
  const std::vector<int64_t>& choices() const { return choices_; }
  // A config of the same space in apply mode. te::Error when choices do not fit.
  Config with_choices(std::vector<int64_t> choices) const;
  Config from_index(int64_t index) const;  // mixed-radix flat index, first knob least significant
  int64_t index() const;
  std::string to_string() const;  // "tile_i=[-1, 8] tile_j=[-1, 16] unroll=1"
  // The choices as a JSON object {"knob": choice_index, ...}; from_json checks each name (knobs
  // missing at the end of the space, appended to the template later, take choice 0).
  std::string to_json() const;
  Config from_json(const std::string& json) const;

 private:
  bool space_mode_ = true;
  std::vector<Knob> knobs_;
  std::map<std::string, int> knob_index_;
  std::vector<int64_t> choices_;
  const Knob& add_or_check(Knob knob);
  const std::vector<int64_t>& chosen(const std::string& name) const;
};

}  // namespace te::autotune
