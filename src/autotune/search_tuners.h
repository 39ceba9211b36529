// src/autotune/search_tuners.h — the tuner kinds behind make_tuner, and what they share
// (private to src/autotune). Configs are identified by their choice vectors rather than flat
// indices, because a space's size saturates at INT64_MAX and then has no flat index.
#pragma once
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "te/autotune/tuner.h"

namespace te::autotune::search {

struct ChoicesHash {
  size_t operator()(const std::vector<int64_t>& choices) const;
};
using ChoiceSet = std::unordered_set<std::vector<int64_t>, ChoicesHash>;
template <typename Value>
using ChoiceMap = std::unordered_map<std::vector<int64_t>, Value, ChoicesHash>;

// The tuners' notion of "higher is better": GFLOP/s when the task's flop count is known,
// else calls per second; 0 for every error.
double throughput_score(const MeasureResult& result, double flop);

// Features of a task instance lowered for the task's target. te::Error when lowering fails.
std::vector<float> instance_features(const Task& task, const Instance& instance);

// A uniformly random choice for every knob.
std::vector<int64_t> random_choices(const Config& space, std::mt19937_64& rng);
// The same choices with one knob (among those with more than one choice) changed to another
// of its choices: the neighbourhood of simulated annealing and the mutation of evolution.
std::vector<int64_t> mutate_one_knob(const Config& space, std::vector<int64_t> choices,
                                     std::mt19937_64& rng);

// What every tuner keeps: the task, the space and the configs already proposed or told
// (by update, e.g. from a resumed log), which are never proposed again.
class SpaceTuner : public Tuner {
 public:
  SpaceTuner(const Task& task, uint64_t seed);
  bool has_next() const override;

 protected:
  // Returns false when choices were already visited.
  bool mark_visited(const std::vector<int64_t>& choices) { return visited_.insert(choices).second; }
  bool visited(const std::vector<int64_t>& choices) const { return visited_.count(choices) > 0; }
  Config config_of(const std::vector<int64_t>& choices) const { return task_.space.with_choices(choices); }
  // A random config not visited yet and not in `excluded`: random draws first, then (for
  // spaces small enough to scan) a scan from a random start. nullopt when none is found.
  std::optional<std::vector<int64_t>> random_unvisited(const ChoiceSet& excluded = {});
  // A space too large to scan or index (its size saturates or exceeds kScanLimit).
  bool huge() const { return space_size_ > kScanLimit; }

  static constexpr int64_t kScanLimit = int64_t(1) << 24;
  Task task_;
  int64_t space_size_ = 0;  // saturates at INT64_MAX
  ChoiceSet visited_;
  std::mt19937_64 rng_;
};

std::unique_ptr<Tuner> make_random_tuner(const Task& task, uint64_t seed);
std::unique_ptr<Tuner> make_grid_tuner(const Task& task);
std::unique_ptr<Tuner> make_sa_tuner(const Task& task, uint64_t seed);
// kind "xgb" (simulated annealing over the model's predictions) or "evolutionary".
std::unique_ptr<Tuner> make_model_tuner(const std::string& kind, const Task& task, uint64_t seed,
                                        std::unique_ptr<CostModel> model);

}  // namespace te::autotune::search
