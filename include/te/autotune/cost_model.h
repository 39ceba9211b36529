// te/autotune/cost_model.h — predicts which candidates are fast from their features.
// Layer 3: uses only features. Scores are "higher is better" (throughput-like); only their
// order matters to the search.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace te::autotune {

using FeatureMatrix = std::vector<std::vector<float>>;

class CostModel {
 public:
  virtual ~CostModel() = default;
  // Trains from scratch on all samples: x[i] features, y[i] measured throughput
  // (e.g. GFLOP/s; 0 for failed candidates).
  virtual void fit(const FeatureMatrix& x, const std::vector<double>& y) = 0;
  virtual std::vector<double> predict(const FeatureMatrix& x) const = 0;
  virtual bool trained() const = 0;
  virtual void save(const std::string& path) const = 0;  // te::Error on I/O failure
  virtual void load(const std::string& path) = 0;        // te::Error when missing/incompatible
  virtual std::string name() const = 0;
};

// XGBoost (C API) with "rank:pairwise" (objective "rank") or "reg:squarederror"
// ("regression"). te::Error when te was built without XGBoost or objective is unknown.
std::unique_ptr<CostModel> make_xgb_model(const std::string& objective = "rank", uint64_t seed = 0);
// Uniform random scores: the baseline, and a model for tests.
std::unique_ptr<CostModel> make_random_model(uint64_t seed = 0);
bool have_xgboost();

// Fraction of pairs (i, j) with actual[i] != actual[j] that predicted orders correctly.
// 0.5 is chance; returns 0.5 when there is no such pair.
double pairwise_accuracy(const std::vector<double>& predicted, const std::vector<double>& actual);

}  // namespace te::autotune
