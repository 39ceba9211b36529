// src/autotune/search_model.cc — model-guided tuners (AutoTVM's XGBTuner and an evolutionary
// variant). Both keep a cost model retrained after every update on every measured config
// (features from task.instantiate + lower + extract_features, cached per config; failed
// configs score 0) and choose each batch as the top (1-ε)·n unmeasured configs by predicted
// score plus ε·n random ones. Before the model is trained a batch is random, except that the
// first batch always holds the space's default config (every knob's first choice: the
// template's documented default schedule) when it is valid and not yet measured — a template's
// default is a good schedule, and measuring it first means a short tuning run never ends worse
// than the kernel the user gets without tuning.
//   "xgb"          : simulated annealing over the model's predictions from the best measured
//                    configs plus random starts (kAnnealPoints points, at most kAnnealSteps
//                    steps); spaces of at most kExhaustiveLimit configs are scored whole,
//                    which is exact and cheaper.
//   "evolutionary" : a population of the best measured configs plus random ones, evolved
//                    for kGenerations by mutation (one knob) and knob-wise crossover of two
//                    tournament-chosen parents, survivors ranked by the model.
// Configs whose instantiation or lowering throws are never proposed (measuring them would
// only give kInstantiate/kCompile).
#include <algorithm>
#include <cmath>
#include <cstdio>

#include "autotune/search_tuners.h"

namespace te::autotune::search {
namespace {

constexpr int kAnnealPoints = 128;
constexpr int kAnnealSteps = 40;
constexpr int kAnnealPatience = 6;  // steps without a change in the top set before stopping
constexpr int64_t kExhaustiveLimit = 128;
constexpr int kPopulation = 64;
constexpr int kGenerations = 6;
constexpr size_t kMaxTransferSamples = 2000;

class ModelTuner : public SpaceTuner {
 public:
  ModelTuner(std::string kind, const Task& task, uint64_t seed, std::unique_ptr<CostModel> model)
      : SpaceTuner(task, seed), kind_(std::move(kind)), model_(std::move(model)) {}

  std::string name() const override { return kind_; }
  std::optional<double> last_batch_accuracy() const override { return last_accuracy_; }
  bool uses_cost_model() const override { return true; }
  void set_epsilon(double epsilon) override {
    if (!(epsilon >= 0 && epsilon <= 1)) fail("TuneOptions::epsilon must lie in [0, 1], got ", epsilon);
    epsilon_ = epsilon;
  }

  void pretrain(const FeatureMatrix& x, const std::vector<double>& y) override {
    TE_ICHECK(x.size() == y.size(), "pretrain: ", x.size(), " feature rows, ", y.size(), " scores");
    // Keep a bounded, uniformly chosen subset (reservoir sampling).
    for (size_t i = 0; i < x.size(); ++i) {
      ++transfer_seen_;
      if (transfer_x_.size() < kMaxTransferSamples) {
        transfer_x_.push_back(x[i]);
        transfer_y_.push_back(y[i]);
      } else {
        size_t slot = size_t(rng_() % transfer_seen_);
        if (slot < kMaxTransferSamples) transfer_x_[slot] = x[i], transfer_y_[slot] = y[i];
      }
    }
    retrain();
  }

  std::vector<Config> next_batch(int n) override {
    std::vector<std::vector<int64_t>> picked;
    ChoiceSet picked_set;
    if (!default_offered_ && n > 0) {
      default_offered_ = true;
      std::vector<int64_t> first_choices(task_.space.knobs().size(), 0);
      if (!visited(first_choices) && features_of(first_choices) != nullptr) {
        picked_set.insert(first_choices);
        picked.push_back(std::move(first_choices));
      }
    }
    if (model_->trained() && n > 0) {
      int from_model = n - int(std::lround(epsilon_ * n));
      ChoiceMap<double> scored = kind_ == "xgb" ? anneal() : evolve();
      std::vector<std::pair<double, std::vector<int64_t>>> ranked;
      for (auto& [choices, score] : scored)
        if (!visited(choices)) ranked.emplace_back(score, choices);
      std::sort(ranked.begin(), ranked.end(), [](const auto& a, const auto& b) {
        return a.first != b.first ? a.first > b.first : a.second < b.second;  // deterministic
      });
      for (auto& entry : ranked) {
        if (int(picked.size()) >= from_model) break;
        if (picked_set.count(entry.second)) continue;
        picked_set.insert(entry.second);
        picked.push_back(std::move(entry.second));
      }
    }
    // ε-greedy diversity (the whole batch before the model is trained).
    while (int(picked.size()) < n) {
      std::optional<std::vector<int64_t>> choices = random_valid_unvisited(picked_set);
      if (!choices) break;
      picked_set.insert(*choices);
      picked.push_back(std::move(*choices));
    }
    batch_predictions_.clear();
    if (model_->trained() && !picked.empty()) {
      std::vector<double> predicted = predict(picked);
      for (size_t i = 0; i < picked.size(); ++i) batch_predictions_[picked[i]] = predicted[i];
    }
    std::vector<Config> batch;
    for (auto& choices : picked) {
      mark_visited(choices);
      batch.push_back(config_of(choices));
    }
    return batch;
  }

  void update(const std::vector<Config>& configs, const std::vector<MeasureResult>& results) override {
    TE_ICHECK(configs.size() == results.size(), "update: ", configs.size(), " configs, ",
              results.size(), " results");
    std::vector<double> predicted, actual;
    for (size_t k = 0; k < configs.size(); ++k) {
      const std::vector<int64_t>& choices = configs[k].choices();
      mark_visited(choices);
      if (results[k].error == ErrorKind::kDuplicate) continue;  // not run: says nothing new
      if (results[k].error == ErrorKind::kInstantiate) {
        invalid_.insert(choices);
        continue;
      }
      if (features_of(choices) == nullptr) continue;
      double score = throughput_score(results[k], task_.flop);
      measured_choices_.push_back(choices);
      measured_scores_.push_back(score);
      auto it = batch_predictions_.find(choices);
      if (it != batch_predictions_.end()) {
        predicted.push_back(it->second);
        actual.push_back(score);
      }
    }
    if (predicted.size() >= 2) last_accuracy_ = pairwise_accuracy(predicted, actual);
    batch_predictions_.clear();
    retrain();
  }

 private:
  // Features of a config (cached); nullptr when it cannot be instantiated or lowered.
  const std::vector<float>* features_of(const std::vector<int64_t>& choices) {
    if (invalid_.count(choices)) return nullptr;
    auto it = features_.find(choices);
    if (it != features_.end()) return &it->second;
    try {
      Instance instance = task_.instantiate(config_of(choices));
      return &features_.emplace(choices, instance_features(task_, instance)).first->second;
    } catch (const Error&) {
      invalid_.insert(choices);  // an illegal config: skipped by the search
      return nullptr;
    } catch (const std::exception& bug) {
      // A te bug hit by one candidate must not end the job: skip it, and say so once.
      if (!internal_error_reported_)
        std::fprintf(stderr, "te: internal error while lowering a candidate of %s (skipped): %s\n",
                     task_.workload_key.c_str(), bug.what());
      internal_error_reported_ = true;
      invalid_.insert(choices);
      return nullptr;
    }
  }

  // Predicted scores; -inf for configs that cannot be instantiated.
  std::vector<double> predict(const std::vector<std::vector<int64_t>>& candidates) {
    FeatureMatrix x;
    std::vector<size_t> rows;
    for (size_t i = 0; i < candidates.size(); ++i) {
      if (const std::vector<float>* f = features_of(candidates[i])) {
        x.push_back(*f);
        rows.push_back(i);
      }
    }
    std::vector<double> scores(candidates.size(), -INFINITY);
    if (x.empty()) return scores;
    std::vector<double> predicted = model_->predict(x);
    TE_ICHECK(predicted.size() == x.size(), model_->name(), " predicted ", predicted.size(),
              " scores for ", x.size(), " rows");
    for (size_t r = 0; r < rows.size(); ++r) scores[rows[r]] = predicted[r];
    return scores;
  }

  void retrain() {
    FeatureMatrix x = transfer_x_;
    std::vector<double> y = transfer_y_;
    for (size_t i = 0; i < measured_choices_.size(); ++i) {
      x.push_back(features_.at(measured_choices_[i]));
      y.push_back(measured_scores_[i]);
    }
    // A ranking needs at least two different scores.
    if (x.size() < 2 || std::all_of(y.begin(), y.end(), [&](double v) { return v == y[0]; })) return;
    try {
      model_->fit(x, y);
    } catch (const Error& err) {
      if (!fit_failure_reported_)
        std::fprintf(stderr, "te: %s cost model could not be trained (%s); continuing with random picks\n",
                     model_->name().c_str(), err.what());
      fit_failure_reported_ = true;
    }
  }

  std::optional<std::vector<int64_t>> random_valid_unvisited(const ChoiceSet& excluded) {
    ChoiceSet rejected = excluded;
    for (int attempt = 0; attempt < 256; ++attempt) {
      std::optional<std::vector<int64_t>> choices = random_unvisited(rejected);
      if (!choices) return std::nullopt;
      if (features_of(*choices) != nullptr) return choices;
      mark_visited(*choices);  // invalid: never proposed
    }
    return std::nullopt;
  }

  // The best measured configs (valid ones, best first), at most `count`.
  std::vector<std::vector<int64_t>> best_measured(size_t count) const {
    std::vector<size_t> order(measured_choices_.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::stable_sort(order.begin(), order.end(),
                     [&](size_t a, size_t b) { return measured_scores_[a] > measured_scores_[b]; });
    std::vector<std::vector<int64_t>> best;
    for (size_t i : order) {
      if (best.size() >= count || measured_scores_[i] <= 0) break;
      best.push_back(measured_choices_[i]);
    }
    return best;
  }

  // Starting points: the best measured configs, then random valid ones, up to `count`.
  std::vector<std::vector<int64_t>> seed_points(size_t count) {
    std::vector<std::vector<int64_t>> points = best_measured(count / 2);
    for (int attempt = 0; points.size() < count && attempt < int(count) * 4; ++attempt) {
      std::vector<int64_t> choices = random_choices(task_.space, rng_);
      if (features_of(choices) != nullptr) points.push_back(std::move(choices));
    }
    return points;
  }

  ChoiceMap<double> anneal() {
    ChoiceMap<double> scored;  // every valid config evaluated, with its prediction
    if (space_size_ <= kExhaustiveLimit) {
      std::vector<std::vector<int64_t>> all;
      for (int64_t i = 0; i < space_size_; ++i) {
        std::vector<int64_t> choices = task_.space.from_index(i).choices();
        if (!visited(choices)) all.push_back(std::move(choices));
      }
      std::vector<double> predicted = predict(all);
      for (size_t i = 0; i < all.size(); ++i)
        if (std::isfinite(predicted[i])) scored[all[i]] = predicted[i];
      return scored;
    }
    std::vector<std::vector<int64_t>> points = seed_points(kAnnealPoints);
    if (points.empty()) return scored;
    std::vector<double> scores = predict(points);
    for (size_t i = 0; i < points.size(); ++i) scored[points[i]] = scores[i];
    double scale = score_spread(scores);
    std::uniform_real_distribution<double> uniform(0.0, 1.0);
    double unchanged_top = 0, previous_top = -INFINITY;
    for (int step = 0; step < kAnnealSteps; ++step) {
      double temperature = 1.0 - double(step) / kAnnealSteps;  // linear cooling, as AutoTVM
      std::vector<std::vector<int64_t>> proposals;
      for (const auto& p : points) proposals.push_back(mutate_one_knob(task_.space, p, rng_));
      std::vector<double> proposal_scores = predict(proposals);
      for (size_t i = 0; i < points.size(); ++i) {
        if (!std::isfinite(proposal_scores[i])) continue;
        scored.emplace(proposals[i], proposal_scores[i]);
        double delta = (proposal_scores[i] - scores[i]) / (scale * temperature + 1e-12);
        if (delta >= 0 || uniform(rng_) < std::exp(delta)) {
          points[i] = proposals[i];
          scores[i] = proposal_scores[i];
        }
      }
      double top = *std::max_element(scores.begin(), scores.end());
      unchanged_top = top > previous_top ? 0 : unchanged_top + 1;
      previous_top = std::max(previous_top, top);
      if (unchanged_top >= kAnnealPatience) break;
    }
    return scored;
  }

  ChoiceMap<double> evolve() {
    ChoiceMap<double> scored;
    std::vector<std::vector<int64_t>> population = seed_points(kPopulation);
    if (population.empty()) return scored;
    std::vector<double> fitness = predict(population);
    for (size_t i = 0; i < population.size(); ++i) scored[population[i]] = fitness[i];
    std::uniform_real_distribution<double> uniform(0.0, 1.0);
    auto tournament = [&]() -> const std::vector<int64_t>& {
      size_t a = rng_() % population.size(), b = rng_() % population.size();
      return fitness[a] >= fitness[b] ? population[a] : population[b];
    };
    for (int generation = 0; generation < kGenerations; ++generation) {
      std::vector<std::vector<int64_t>> children;
      for (size_t i = 0; i < population.size(); ++i) {
        std::vector<int64_t> child;
        if (uniform(rng_) < 0.5) {
          child = mutate_one_knob(task_.space, tournament(), rng_);
        } else {
          const std::vector<int64_t>& mother = tournament();
          const std::vector<int64_t>& father = tournament();
          child = mother;
          for (size_t k = 0; k < child.size(); ++k)
            if (rng_() & 1) child[k] = father[k];
          if (uniform(rng_) < 0.3) child = mutate_one_knob(task_.space, std::move(child), rng_);
        }
        if (!scored.count(child)) children.push_back(std::move(child));
      }
      std::vector<double> child_fitness = predict(children);
      std::vector<std::pair<double, std::vector<int64_t>>> pool;
      for (size_t i = 0; i < population.size(); ++i) pool.emplace_back(fitness[i], population[i]);
      for (size_t i = 0; i < children.size(); ++i) {
        if (!std::isfinite(child_fitness[i]) || scored.count(children[i])) continue;
        scored[children[i]] = child_fitness[i];
        pool.emplace_back(child_fitness[i], children[i]);
      }
      std::sort(pool.begin(), pool.end(), [](const auto& a, const auto& b) {
        return a.first != b.first ? a.first > b.first : a.second < b.second;
      });
      pool.resize(std::min(pool.size(), size_t(kPopulation)));
      population.clear();
      fitness.clear();
      for (auto& [score, choices] : pool) {
        fitness.push_back(score);
        population.push_back(std::move(choices));
      }
    }
    return scored;
  }

  static double score_spread(const std::vector<double>& scores) {
    double lo = INFINITY, hi = -INFINITY;
    for (double s : scores)
      if (std::isfinite(s)) lo = std::min(lo, s), hi = std::max(hi, s);
    return hi > lo ? hi - lo : 1.0;
  }

  std::string kind_;
  std::unique_ptr<CostModel> model_;
  double epsilon_ = 0.1;
  ChoiceMap<std::vector<float>> features_;
  ChoiceSet invalid_;
  std::vector<std::vector<int64_t>> measured_choices_;
  std::vector<double> measured_scores_;
  FeatureMatrix transfer_x_;
  std::vector<double> transfer_y_;
  size_t transfer_seen_ = 0;
  ChoiceMap<double> batch_predictions_;  // predictions for the batch last proposed
  std::optional<double> last_accuracy_;
  bool default_offered_ = false;  // the default config went into a batch (or was measured)
  bool fit_failure_reported_ = false;
  bool internal_error_reported_ = false;
};

}  // namespace

std::unique_ptr<Tuner> make_model_tuner(const std::string& kind, const Task& task, uint64_t seed,
                                        std::unique_ptr<CostModel> model) {
  TE_ICHECK(kind == "xgb" || kind == "evolutionary", "make_model_tuner: kind ", kind);
  TE_ICHECK(model != nullptr, "make_model_tuner: no model");
  return std::make_unique<ModelTuner>(kind, task, seed, std::move(model));
}

}  // namespace te::autotune::search
