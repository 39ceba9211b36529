// src/autotune/tuning_session.h — the state of tuning one task, batch by batch (private to
// src/autotune): tune() runs one session to its budget; tune_tasks() interleaves several.
#pragma once
#include <map>
#include <string>
#include <vector>

#include "autotune/progress.h"
#include "te/autotune/tuner.h"

namespace te::autotune {

// te::Error naming the first bad field of options (trials, batch_size, early_stopping, epsilon).
void check_tune_options(const TuneOptions& options);

// The log record of config's measurement (tune() and refine() write the same fields).
Record make_record(const Task& task, const Config& config, const MeasureResult& result, const std::string& hardware);
// te::Error unless a measure function returned one result per config of the batch.
void check_result_count(size_t results, size_t batch);
// hardware_description(target), or "unknown" when the machine cannot be described.
std::string hardware_or_unknown(const Target& target);

class TuningSession {
 public:
  // log may be null (no log). The task, tuner and measure function must outlive the session.
  TuningSession(const Task& task, Tuner& tuner, const MeasureFn& measure, const TuneOptions& options,
                LogWriter* log);

  // Feeds this task's records (same workload key and target) from a log to the tuner, so
  // they count as trials and are never proposed again. Call before the first batch.
  void resume(const std::vector<Record>& records);
  // Pre-trains a model-guided tuner on records of OTHER workloads on the same target whose
  // key names a registered template ("name(a,b,c)"): each is replayed from its steps,
  // lowered and featurized. Unusable records are skipped. Returns the samples used.
  int warm_start(const std::vector<std::string>& transfer_logs);
  // Proposes and measures one batch of at most max_trials configs; logs and counts each
  // result (duplicates are told to the tuner but neither logged nor counted). Returns the
  // trials counted.
  int run_batch(int max_trials);

  // The tuner has nothing left, early stopping triggered, or too many duplicates in a row.
  bool finished() const { return finished_; }
  int trials_done() const { return result_.trials_resumed + result_.trials_measured; }
  // Best mean cost in seconds so far (+inf when no valid config).
  double best_seconds() const;
  double best_gflops() const { return result_.best ? result_.best->gflops() : 0; }
  const TuneResult& result() const { return result_; }
  const Tuner& tuner() const { return tuner_; }
  TuneSummary summary(double wall_seconds) const;

 private:
  void count(const Record& record, bool resumed);

  const Task& task_;
  Tuner& tuner_;
  const MeasureFn& measure_;
  const TuneOptions& options_;
  LogWriter* log_;
  std::string hardware_;
  TuneResult result_;
  std::map<std::string, int> errors_by_kind_;
  int best_trial_ = 0;            // trials_done() when the best was found (0: none yet)
  int64_t proposals_ = 0;         // configs proposed this run, duplicates included
  bool finished_ = false;
};

}  // namespace te::autotune
