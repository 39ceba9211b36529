// src/autotune/task_scheduler.cc — spreads one trial budget over several tasks (Ansor's
// gradient-based task scheduler, simplified). The objective is the sum of the tasks' best
// times (every task has weight 1). After a round-robin warm-up (one batch per task), each
// round gives one batch to the task with the largest expected gain
//     gain_i = α · back_i + (1 − α) · fwd_i                       (α = kBackwardWeight)
//     back_i = (t_i(r_i − k) − t_i(r_i)) / k   the drop of its best time t_i over its last k
//                                             rounds (k = kWindow): recent improvement rate
//     fwd_i  = t_i / r_i                       an optimistic forecast: time still to win if
//                                             it kept improving at its average pace
// where r_i counts the batches the task has had. A task without a valid result yet has
// infinite gain for its first kWindow rounds, then 0 (it is tried again only when nothing
// else is left). Tasks whose tuner is exhausted or early-stopped leave the schedule.
// options.trials is the TOTAL budget (records resumed from the log count against it); every
// task's records go to the same log.
#include <cmath>
#include <cstdio>
#include <limits>

#include "autotune/tuning_session.h"

namespace te::autotune {
namespace {

constexpr double kBackwardWeight = 0.2;  // Ansor's α
constexpr int kWindow = 3;

struct ScheduledTask {
  std::unique_ptr<Tuner> tuner;
  std::unique_ptr<TuningSession> session;
  std::vector<double> best_after_round;  // best seconds after each of its batches (+inf: none)

  double expected_gain() const {
    double t = session->best_seconds();
    int rounds = int(best_after_round.size());
    if (rounds == 0) return std::numeric_limits<double>::infinity();
    if (!std::isfinite(t)) return rounds < kWindow ? std::numeric_limits<double>::infinity() : 0.0;
    double earlier = rounds > kWindow ? best_after_round[rounds - 1 - kWindow] : best_after_round.front();
    if (!std::isfinite(earlier)) earlier = t;
    double window = std::max(1, std::min(kWindow, rounds - 1));
    double backward = (earlier - t) / window;
    double forward = t / std::max(1, rounds);
    return kBackwardWeight * backward + (1 - kBackwardWeight) * forward;
  }
};

}  // namespace

std::vector<TuneResult> tune_tasks(const std::vector<Task>& tasks, const std::string& tuner_kind,
                                   const std::vector<MeasureFn>& measures, const TuneOptions& options,
                                   uint64_t seed) {
  if (tasks.empty()) fail("tune_tasks: no tasks given");
  if (measures.size() != tasks.size())
    fail("tune_tasks: ", tasks.size(), " tasks but ", measures.size(),
         " measure functions; pass one measure function per task, in the same order");
  check_tune_options(options);
  auto start = std::chrono::steady_clock::now();
  LogContents contents;
  std::optional<LogWriter> log;
  if (!options.log_path.empty()) {
    contents = read_log(options.log_path);
    log.emplace(options.log_path);
  }
  if (contents.skipped_lines > 0 && options.progress)
    std::fprintf(stderr, "te: skipped %d malformed line(s) in %s (e.g. a torn last line)\n",
                 contents.skipped_lines, options.log_path.c_str());

  std::vector<ScheduledTask> scheduled(tasks.size());
  int used = 0;
  for (size_t i = 0; i < tasks.size(); ++i) {
    scheduled[i].tuner = make_tuner(tuner_kind, tasks[i], seed + i);
    scheduled[i].session = std::make_unique<TuningSession>(tasks[i], *scheduled[i].tuner, measures[i],
                                                           options, log ? &*log : nullptr);
    scheduled[i].session->resume(contents.records);
    scheduled[i].session->warm_start(options.transfer_logs);
    used += scheduled[i].session->trials_done();
  }

  ProgressBar bar(options.trials, used, options.progress);
  auto run_round = [&](size_t i) {
    ScheduledTask& task = scheduled[i];
    int before = task.session->trials_done();
    task.session->run_batch(options.trials - used);
    used += task.session->trials_done() - before;
    task.best_after_round.push_back(task.session->best_seconds());
    int errors = 0;
    for (const ScheduledTask& t : scheduled) errors += t.session->result().errors;
    bar.set_label("task " + std::to_string(i + 1) + "/" + std::to_string(tasks.size()));
    bar.update(used, task.session->best_gflops(), errors, task.tuner->last_batch_accuracy());
  };

  for (size_t i = 0; i < scheduled.size() && used < options.trials; ++i)  // warm-up
    if (!scheduled[i].session->finished()) run_round(i);
  while (used < options.trials) {
    int chosen = -1;
    double best_gain = -1;
    for (size_t i = 0; i < scheduled.size(); ++i) {
      if (scheduled[i].session->finished()) continue;
      double gain = scheduled[i].expected_gain();
      if (gain > best_gain) best_gain = gain, chosen = int(i);
    }
    if (chosen < 0) break;  // every task exhausted or stopped
    run_round(size_t(chosen));
  }
  bar.finish();

  std::vector<TuneResult> results;
  double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  for (const ScheduledTask& task : scheduled) {
    results.push_back(task.session->result());
    if (options.progress) std::fputs(format_summary(task.session->summary(wall)).c_str(), stderr);
  }
  return results;
}

}  // namespace te::autotune
