// src/autotune/search_common.cc — what every tuner shares: config identity, scores, features
// of a candidate, random and neighbouring configs.
#include <cmath>
#include <limits>

#include "autotune/search_tuners.h"
#include "te/autotune/features.h"

namespace te::autotune::search {

size_t ChoicesHash::operator()(const std::vector<int64_t>& choices) const {
  uint64_t h = 1469598103934665603ull;  // FNV-1a over the choice values
  for (int64_t c : choices) {
    h ^= uint64_t(c);
    h *= 1099511628211ull;
  }
  return size_t(h);
}

double throughput_score(const MeasureResult& result, double flop) {
  if (result.error != ErrorKind::kNone) return 0;
  double seconds = result.mean_cost();
  if (!(seconds > 0) || !std::isfinite(seconds)) return 0;
  return flop > 0 ? flop / seconds / 1e9 : 1.0 / seconds;
}

std::vector<float> instance_features(const Task& task, const Instance& instance) {
  LowerOptions options;
  options.target = task.target;
  LoweredFunc func = lower(instance.schedule, instance.args, "candidate", options);
  return extract_features(func, task.target);
}

std::vector<int64_t> random_choices(const Config& space, std::mt19937_64& rng) {
  std::vector<int64_t> choices;
  choices.reserve(space.knobs().size());
  for (const Knob& knob : space.knobs()) {
    TE_ICHECK(!knob.choices.empty(), "knob ", knob.name, " has no choices");
    choices.push_back(int64_t(rng() % knob.choices.size()));
  }
  return choices;
}

std::vector<int64_t> mutate_one_knob(const Config& space, std::vector<int64_t> choices,
                                     std::mt19937_64& rng) {
  std::vector<size_t> mutable_knobs;
  for (size_t i = 0; i < space.knobs().size(); ++i)
    if (space.knobs()[i].choices.size() > 1) mutable_knobs.push_back(i);
  if (mutable_knobs.empty()) return choices;
  size_t knob = mutable_knobs[rng() % mutable_knobs.size()];
  int64_t count = int64_t(space.knobs()[knob].choices.size());
  // Any other choice, uniformly: offset 1..count-1 from the current one.
  choices[knob] = (choices[knob] + 1 + int64_t(rng() % uint64_t(count - 1))) % count;
  return choices;
}

SpaceTuner::SpaceTuner(const Task& task, uint64_t seed)
    : task_(task), space_size_(task.space.space_size()), rng_(seed) {
  if (task_.space.knobs().empty()) space_size_ = 1;  // one config: the template's defaults
}

bool SpaceTuner::has_next() const {
  return space_size_ == std::numeric_limits<int64_t>::max() || int64_t(visited_.size()) < space_size_;
}

std::optional<std::vector<int64_t>> SpaceTuner::random_unvisited(const ChoiceSet& excluded) {
  if (!has_next()) return std::nullopt;
  for (int attempt = 0; attempt < 64; ++attempt) {
    std::vector<int64_t> choices = random_choices(task_.space, rng_);
    if (!visited(choices) && !excluded.count(choices)) return choices;
  }
  if (huge()) return std::nullopt;
  // Nearly exhausted small space: scan every index once from a random start.
  int64_t start = int64_t(rng_() % uint64_t(space_size_));
  for (int64_t k = 0; k < space_size_; ++k) {
    std::vector<int64_t> choices = task_.space.from_index((start + k) % space_size_).choices();
    if (!visited(choices) && !excluded.count(choices)) return choices;
  }
  return std::nullopt;
}

}  // namespace te::autotune::search
