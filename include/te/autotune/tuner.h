// te/autotune/tuner.h — search over a task's space: random, grid, model-guided (XGBoost +
// simulated annealing), evolutionary, and plain simulated annealing; the tuning loop with
// progress bar, logs, resume and early stopping; and a scheduler that spreads trials over
// several tasks. Layer 4 + the loop that joins every layer.
#pragma once
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>
#include "te/autotune/cost_model.h"
#include "te/autotune/log.h"
#include "te/autotune/measure.h"

namespace te::autotune {

class Tuner {
 public:
  virtual ~Tuner() = default;
  // Up to n configs not proposed before (fewer when the space is exhausted).
  virtual std::vector<Config> next_batch(int n) = 0;
  // Results of the configs last proposed (and of configs replayed from a log on resume).
  virtual void update(const std::vector<Config>& configs, const std::vector<MeasureResult>& results) = 0;
  virtual bool has_next() const = 0;
  virtual std::string name() const = 0;
  // The model's pairwise ranking accuracy on the last batch before it was measured
  // (model-guided tuners only).
  virtual std::optional<double> last_batch_accuracy() const { return std::nullopt; }
  // Model-guided tuners ("xgb", "evolutionary") warm-start their model from samples of other
  // workloads on the same target (transfer, TuneOptions::transfer_logs) before their first
  // batch; the others ignore such samples. x: features, y: measured GFLOP/s (0 on error).
  virtual bool uses_cost_model() const { return false; }
  virtual void pretrain(const FeatureMatrix& x, const std::vector<double>& y) {}
  // Share of each batch that model-guided tuners pick at random (ε-greedy diversity); tune()
  // sets it from TuneOptions::epsilon. Ignored by the others.
  virtual void set_epsilon(double epsilon) {}
};

// kind: "xgb" (XGBoost rank model + simulated annealing over the model), "evolutionary"
// (model-guided evolution: mutation and crossover ranked by the model), "sa" (simulated
// annealing on measured costs), "random", "grid". te::Error for an unknown kind.
std::unique_ptr<Tuner> make_tuner(const std::string& kind, const Task& task, uint64_t seed = 0,
                                  std::unique_ptr<CostModel> model = nullptr);

struct TuneOptions {
  int trials = 100;
  int batch_size = 8;            // candidates measured per round
  int early_stopping = 0;        // stop after this many trials without improvement (0: off)
  double epsilon = 0.1;          // share of each batch chosen at random (diversity)
  std::string log_path;          // append records here; resume from it when it exists
  bool progress = true;          // progress bar on stderr
  std::vector<std::string> transfer_logs;  // warm-start the model from these logs
  std::function<void(int done, int total, const Record& last)> callback;
};

struct TuneResult {
  std::optional<Record> best;
  int trials_measured = 0;       // this run (resumed trials not counted)
  int trials_resumed = 0;        // read from the log
  int errors = 0;
  std::vector<double> best_gflops_curve;  // best-so-far after each trial (resumed first)
};

TuneResult tune(const Task& task, Tuner& tuner, const MeasureFn& measure, const TuneOptions& options);

// After a search: the search may never have tried the one-knob changes of its best config,
// and on a shared machine one measurement ranks a config by the moment it ran in (seen: the
// same kernel 30% faster or slower minutes apart), so the search's winner is often a config
// that ran in a fast moment. refine() first measures the best config's single-knob neighbours
// that the log lacks (at most max_neighbours, drawn at random when there are more), then
// measures the `top` configs with the fastest records `rounds` more times, all of them in each
// round (one batch per round, so they see the machine's same moments). Every measurement is
// appended to the log; once configs have kConfirmedRecords records, best_record() picks among
// them by their median record. `measure` must measure a config again when asked (a Measurer
// after set_skip_duplicates(false)); results of kDuplicate are dropped.
struct RefineOptions {
  int top = 4;              // configs re-measured (0: none)
  int rounds = 2;           // re-measurements of each
  int max_neighbours = 48;  // single-knob neighbours of the best measured first (0: none)
  int batch_size = 8;       // neighbours measured per batch
  std::string log_path;     // required: read for the ranking, appended to
  bool progress = true;     // progress bar on stderr
  uint64_t seed = 0;        // which neighbours, when there are more than max_neighbours
};

struct RefineResult {
  std::optional<Record> best_before;  // best_record() of the log before refining
  std::optional<Record> best;         // and after
  int neighbours_measured = 0;
  int remeasured = 0;
};

RefineResult refine(const Task& task, const MeasureFn& measure, const RefineOptions& options);

// Spreads a trial budget over tasks by expected gain (Ansor's gradient rule: tasks whose
// best time still improves, and which dominate the total time, get the next rounds).
std::vector<TuneResult> tune_tasks(const std::vector<Task>& tasks, const std::string& tuner_kind,
                                   const std::vector<MeasureFn>& measures, const TuneOptions& options,
                                   uint64_t seed = 0);

}  // namespace te::autotune
