// src/autotune/search_basic.cc — the tuners that need no cost model: random (uniform, no
// repeats), grid (index order) and simulated annealing on measured throughput.
#include <algorithm>
#include <cmath>

#include "autotune/search_tuners.h"

namespace te::autotune::search {
namespace {

// Uniform over the space without repeats. Spaces with a flat index draw a random permutation
// lazily (Fisher–Yates with the swaps kept in a hash map, so memory grows with the draws, not
// the space); huge spaces draw random choices and reject visited ones.
class RandomTuner : public SpaceTuner {
 public:
  RandomTuner(const Task& task, uint64_t seed) : SpaceTuner(task, seed) {}
  std::string name() const override { return "random"; }

  std::vector<Config> next_batch(int n) override {
    std::vector<Config> batch;
    while (int(batch.size()) < n && has_next()) {
      std::optional<std::vector<int64_t>> choices = huge() ? random_unvisited() : draw_permuted();
      if (!choices) break;
      mark_visited(*choices);
      batch.push_back(config_of(*choices));
    }
    return batch;
  }
  void update(const std::vector<Config>& configs, const std::vector<MeasureResult>&) override {
    for (const Config& cfg : configs) mark_visited(cfg.choices());
  }

 private:
  std::optional<std::vector<int64_t>> draw_permuted() {
    while (next_position_ < space_size_) {
      int64_t pick = next_position_ + int64_t(rng_() % uint64_t(space_size_ - next_position_));
      int64_t index = slot(pick);
      swapped_[pick] = slot(next_position_);
      ++next_position_;
      std::vector<int64_t> choices = task_.space.from_index(index).choices();
      if (!visited(choices)) return choices;  // told by update (resume) otherwise
    }
    return std::nullopt;
  }
  int64_t slot(int64_t position) const {
    auto it = swapped_.find(position);
    return it == swapped_.end() ? position : it->second;
  }
  int64_t next_position_ = 0;
  std::unordered_map<int64_t, int64_t> swapped_;
};

// Every config once, in flat index order (skipping those already told by update).
class GridTuner : public SpaceTuner {
 public:
  explicit GridTuner(const Task& task) : SpaceTuner(task, 0) {}
  std::string name() const override { return "grid"; }
  std::vector<Config> next_batch(int n) override {
    std::vector<Config> batch;
    while (int(batch.size()) < n && next_index_ < space_size_) {
      Config cfg = task_.space.from_index(next_index_++);
      if (mark_visited(cfg.choices())) batch.push_back(std::move(cfg));
    }
    return batch;
  }
  void update(const std::vector<Config>& configs, const std::vector<MeasureResult>&) override {
    for (const Config& cfg : configs) mark_visited(cfg.choices());
  }
  bool has_next() const override { return next_index_ < space_size_ && SpaceTuner::has_next(); }

 private:
  int64_t next_index_ = 0;
};

// Simulated annealing on measured throughput: one chain per batch slot; each chain proposes
// an unvisited neighbour (one knob changed) of its current point and moves there when the
// neighbour is better, or worse with probability exp(Δscore / (T · best score)). T starts at
// 1 and decays by kCooling after every batch.
class SimulatedAnnealingTuner : public SpaceTuner {
 public:
  SimulatedAnnealingTuner(const Task& task, uint64_t seed) : SpaceTuner(task, seed) {}
  std::string name() const override { return "sa"; }

  std::vector<Config> next_batch(int n) override {
    if (int(chains_.size()) < n) chains_.resize(n);
    pending_.clear();
    std::vector<Config> batch;
    for (int i = 0; i < n && has_next(); ++i) {
      std::optional<std::vector<int64_t>> choices;
      if (chains_[i].started) {
        for (int attempt = 0; attempt < 32 && !choices; ++attempt) {
          std::vector<int64_t> neighbour = mutate_one_knob(task_.space, chains_[i].current, rng_);
          if (!visited(neighbour)) choices = neighbour;
        }
      }
      if (!choices) choices = random_unvisited();
      if (!choices) break;
      mark_visited(*choices);
      pending_[*choices] = i;
      batch.push_back(config_of(*choices));
    }
    return batch;
  }

  void update(const std::vector<Config>& configs, const std::vector<MeasureResult>& results) override {
    TE_ICHECK(configs.size() == results.size(), "update: ", configs.size(), " configs, ",
              results.size(), " results");
    std::uniform_real_distribution<double> uniform(0.0, 1.0);
    for (size_t k = 0; k < configs.size(); ++k) {
      const std::vector<int64_t>& choices = configs[k].choices();
      mark_visited(choices);
      if (results[k].error == ErrorKind::kDuplicate) continue;
      double score = throughput_score(results[k], task_.flop);
      best_score_ = std::max(best_score_, score);
      auto it = pending_.find(choices);
      if (it == pending_.end()) {
        // Told from a log: the best such configs start the chains (an idle chain first,
        // else the worst chain when this one is better).
        if (score <= 0) continue;
        auto idle = std::find_if(chains_.begin(), chains_.end(), [](const Chain& c) { return !c.started; });
        if (idle != chains_.end()) {
          *idle = Chain{choices, score, true};
        } else if (chains_.size() < kMaxSeededChains) {
          chains_.push_back(Chain{choices, score, true});
        } else {
          auto worst = std::min_element(chains_.begin(), chains_.end(),
                                        [](const Chain& a, const Chain& b) { return a.score < b.score; });
          if (worst->score < score) *worst = Chain{choices, score, true};
        }
        continue;
      }
      Chain& chain = chains_[it->second];
      bool accept = !chain.started || score >= chain.score;
      if (!accept && best_score_ > 0) {
        double delta = (score - chain.score) / (temperature_ * best_score_);
        accept = uniform(rng_) < std::exp(delta);
      }
      if (accept) chain = Chain{choices, score, true};
    }
    pending_.clear();
    temperature_ = std::max(temperature_ * kCooling, 1e-3);
  }

 private:
  static constexpr double kCooling = 0.9;
  static constexpr size_t kMaxSeededChains = 16;
  struct Chain {
    std::vector<int64_t> current;
    double score = 0;
    bool started = false;
  };
  std::vector<Chain> chains_;
  ChoiceMap<int> pending_;  // proposed config -> its chain
  double temperature_ = 1.0;
  double best_score_ = 0;
};

}  // namespace

std::unique_ptr<Tuner> make_random_tuner(const Task& task, uint64_t seed) {
  return std::make_unique<RandomTuner>(task, seed);
}
std::unique_ptr<Tuner> make_grid_tuner(const Task& task) { return std::make_unique<GridTuner>(task); }
std::unique_ptr<Tuner> make_sa_tuner(const Task& task, uint64_t seed) {
  return std::make_unique<SimulatedAnnealingTuner>(task, seed);
}

}  // namespace te::autotune::search
