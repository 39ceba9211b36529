// bench/cost_model_quality.cc — how well the cost model ranks candidates it has not seen.
//
//   bench_cost_model_quality LOG OP SHAPE [TARGET [FOLDS]]
//   e.g. bench_cost_model_quality build/bench_logs/matmul_random.jsonl matmul m=1024,n=1024,k=1024
//
// Takes the measured candidates of one workload from a tuning log (a random-search log is an
// unbiased sample of the space), extracts their features exactly as the tuner does (the
// template instantiated with the record's config, lowered for the target), and runs k-fold
// cross-validation: the model is trained on k-1 folds and predicts the held-out fold; the
// score is the pairwise ranking accuracy on the held-out candidates (the fraction of pairs
// with different measured throughput that the prediction orders correctly; 0.5 is chance).
// Failed candidates count with throughput 0, as in tuning. Rows: XGBoost with the rank and the
// regression objective, and the random model as the chance baseline.
#include <algorithm>
#include <cstdio>
#include <numeric>
#include <random>

#include "te/autotune/cost_model.h"
#include "te/autotune/features.h"
#include "te/autotune/log.h"
#include "te/autotune/task.h"
#include "te/ops.h"
#include "te/te.h"

namespace at = te::autotune;

namespace {

struct Sample {
  std::vector<float> x;
  double y = 0;
};

// Mean and spread over folds of the held-out pairwise accuracy of one model kind.
std::pair<double, double> cross_validate(const std::vector<Sample>& samples, int folds, const std::string& kind) {
  std::vector<double> scores;
  for (int fold = 0; fold < folds; ++fold) {
    at::FeatureMatrix train_x, test_x;
    std::vector<double> train_y, test_y;
    for (size_t i = 0; i < samples.size(); ++i) {
      const bool held_out = int(i % size_t(folds)) == fold;
      (held_out ? test_x : train_x).push_back(samples[i].x);
      (held_out ? test_y : train_y).push_back(samples[i].y);
    }
    std::unique_ptr<at::CostModel> model =
        kind == "random" ? at::make_random_model(uint64_t(fold)) : at::make_xgb_model(kind, uint64_t(fold));
    model->fit(train_x, train_y);
    scores.push_back(at::pairwise_accuracy(model->predict(test_x), test_y));
  }
  double mean = std::accumulate(scores.begin(), scores.end(), 0.0) / double(scores.size());
  auto [lo, hi] = std::minmax_element(scores.begin(), scores.end());
  return {mean, (*hi - *lo) / 2};
}

int run(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: %s LOG OP SHAPE [TARGET [FOLDS]]\n", argv[0]);
    return 1;
  }
  const std::string log_path = argv[1], target = argc > 4 ? argv[4] : "llvm";
  const int folds = argc > 5 ? std::atoi(argv[5]) : 5;
  if (folds < 2) te::fail("FOLDS must be at least 2, got '", argv[5], "'");
  te::ops::register_builtin_templates();
  const te::ops::OpInfo& op = te::ops::find_op(argv[2]);
  at::Task task = at::create_task(op.name, te::ops::parse_shape(op, argv[3]), target);

  std::vector<Sample> samples;
  size_t skipped = 0;
  te::LowerOptions lower_options;
  lower_options.target = task.target;
  for (const at::Record& r : at::read_log(log_path).records) {
    if (r.workload_key != task.workload_key || r.target != task.target.str()) continue;
    try {
      at::Instance instance = task.instantiate(task.space.from_json(r.config_json));
      te::LoweredFunc func = te::lower(instance.schedule, instance.args, "candidate", lower_options);
      samples.push_back({at::extract_features(func, task.target), r.gflops()});
    } catch (const te::Error&) {
      ++skipped;  // an illegal config (the tuner never trains on it either)
    }
  }
  if (samples.size() < size_t(folds) * 2)
    te::fail("the log '", log_path, "' has only ", samples.size(), " usable records of ", task.workload_key,
             " on ", task.target.str(), "; tune it first");
  // Folds of a shuffled order: logs are in search order, and a model-guided log drifts.
  std::shuffle(samples.begin(), samples.end(), std::mt19937_64(42));
  const size_t failed = size_t(std::count_if(samples.begin(), samples.end(), [](const Sample& s) { return s.y == 0; }));

  std::printf("cost model quality: %s on %s, %zu candidates from %s (%zu failed, %zu illegal skipped), "
              "%d-fold cross-validation, %zu features (version %d)\n\n",
              task.workload_key.c_str(), task.target.str().c_str(), samples.size(), log_path.c_str(), failed,
              skipped, folds, at::feature_names().size(), at::kFeatureVersion);
  std::printf("| model | held-out pairwise accuracy | ± (half range over folds) |\n|---|---:|---:|\n");
  std::vector<std::string> kinds = {"random"};
  if (at::have_xgboost()) kinds = {"rank", "regression", "random"};
  for (const std::string& kind : kinds) {
    auto [mean, spread] = cross_validate(samples, folds, kind);
    std::printf("| %s | %.3f | %.3f |\n", kind == "random" ? "random (chance)" : ("xgb " + kind).c_str(), mean,
                spread);
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const te::Error& e) {
    std::fprintf(stderr, "bench_cost_model_quality: %s\n", e.what());
    return 1;
  }
}
