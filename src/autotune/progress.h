// src/autotune/progress.h — the tuning progress bar and the end-of-run summary table (private
// to src/autotune). Both write to stderr, so a program's stdout stays machine-readable.
#pragma once
#include <chrono>
#include <map>
#include <optional>
#include <string>

namespace te::autotune {

// "0:42", "12:05", "1:02:03" (h:mm:ss once past an hour); "?" for a negative or infinite time.
std::string format_duration(double seconds);

// `[#####.....] 120/200 trials | best 85.3 GFLOP/s | errors 3 | model acc 0.84 | ETA 0:42`,
// redrawn in place with \r when stderr is a terminal, one line per update otherwise (logs of
// batch jobs stay readable).
class ProgressBar {
 public:
  // total: the trial budget; done_at_start: trials already done (resumed) when it starts, so
  // the ETA uses this run's pace only. label, when given, starts the line (e.g. the task).
  ProgressBar(int total, int done_at_start, bool enabled, std::string label = "");
  ~ProgressBar();
  void set_label(std::string label) { label_ = std::move(label); }
  void update(int done, double best_gflops, int errors, std::optional<double> model_accuracy);
  // Ends the redrawn line (a newline on a terminal); idempotent.
  void finish();
  // The line update() draws, without \r or newline (for tests).
  std::string render(int done, double best_gflops, int errors, std::optional<double> model_accuracy,
                     double elapsed_seconds) const;

 private:
  int total_;
  int done_at_start_;
  bool enabled_;
  bool tty_;
  bool line_open_ = false;
  std::string label_;
  std::chrono::steady_clock::time_point start_;
};

struct TuneSummary {
  std::string workload_key;
  std::string tuner;
  int trials_measured = 0;
  int trials_resumed = 0;
  double best_gflops = 0;       // 0: no valid config
  std::string best_config;      // Config::to_string() of the best
  std::map<std::string, int> errors_by_kind;  // to_string(ErrorKind) -> count (this run)
  double wall_seconds = 0;
};
// A small aligned table, one "name  value" row per line, ending in a newline.
std::string format_summary(const TuneSummary& summary);

}  // namespace te::autotune
