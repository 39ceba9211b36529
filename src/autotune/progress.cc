// src/autotune/progress.cc — progress bar and summary table of a tuning run.
#include "autotune/progress.h"

#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <sstream>

namespace te::autotune {

std::string format_duration(double seconds) {
  if (!(seconds >= 0) || !std::isfinite(seconds)) return "?";
  long total = std::lround(seconds);
  long hours = total / 3600, minutes = (total / 60) % 60, secs = total % 60;
  char text[48];
  if (hours > 0)
    std::snprintf(text, sizeof text, "%ld:%02ld:%02ld", hours, minutes, secs);
  else
    std::snprintf(text, sizeof text, "%ld:%02ld", minutes, secs);
  return text;
}

ProgressBar::ProgressBar(int total, int done_at_start, bool enabled, std::string label)
    : total_(total),
      done_at_start_(done_at_start),
      enabled_(enabled),
      tty_(enabled && isatty(fileno(stderr))),
      label_(std::move(label)),
      start_(std::chrono::steady_clock::now()) {}

ProgressBar::~ProgressBar() { finish(); }

std::string ProgressBar::render(int done, double best_gflops, int errors,
                                std::optional<double> model_accuracy, double elapsed_seconds) const {
  constexpr int kWidth = 20;
  double fraction = total_ > 0 ? std::min(1.0, double(done) / total_) : 1.0;
  int filled = int(fraction * kWidth);
  std::ostringstream line;
  if (!label_.empty()) line << label_ << ' ';
  line << '[' << std::string(filled, '#') << std::string(kWidth - filled, '.') << "] " << done << '/'
       << total_ << " trials | best ";
  char number[32];
  std::snprintf(number, sizeof number, "%.1f", best_gflops);
  line << number << " GFLOP/s | errors " << errors;
  if (model_accuracy) {
    std::snprintf(number, sizeof number, "%.2f", *model_accuracy);
    line << " | model acc " << number;
  }
  int done_this_run = done - done_at_start_;
  double eta = done_this_run > 0 ? elapsed_seconds / done_this_run * std::max(0, total_ - done) : -1;
  line << " | ETA " << format_duration(eta);
  return line.str();
}

void ProgressBar::update(int done, double best_gflops, int errors, std::optional<double> model_accuracy) {
  if (!enabled_) return;
  double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  std::string line = render(done, best_gflops, errors, model_accuracy, elapsed);
  if (tty_) {
    std::fprintf(stderr, "\r%s\033[K", line.c_str());  // \033[K clears a longer previous line
    line_open_ = true;
  } else {
    std::fprintf(stderr, "%s\n", line.c_str());
  }
  std::fflush(stderr);
}

void ProgressBar::finish() {
  if (line_open_) std::fprintf(stderr, "\n");
  line_open_ = false;
}

std::string format_summary(const TuneSummary& s) {
  std::ostringstream out;
  auto row = [&](const std::string& name, const std::string& value) {
    out << "  " << name << std::string(name.size() < 14 ? 14 - name.size() : 1, ' ') << value << '\n';
  };
  char number[64];
  out << "tuning summary\n";
  row("workload", s.workload_key);
  if (!s.tuner.empty()) row("tuner", s.tuner);
  std::snprintf(number, sizeof number, "%d (+%d resumed from the log)", s.trials_measured, s.trials_resumed);
  row("trials", s.trials_resumed > 0 ? number : std::to_string(s.trials_measured));
  if (s.best_gflops > 0) {
    std::snprintf(number, sizeof number, "%.2f GFLOP/s", s.best_gflops);
    row("best", number);
    row("best config", s.best_config.empty() ? "(default)" : s.best_config);
  } else {
    row("best", "none (no valid config measured)");
  }
  int errors = 0;
  std::string by_kind;
  for (const auto& [kind, count] : s.errors_by_kind) {
    errors += count;
    by_kind += (by_kind.empty() ? "" : ", ") + kind + " " + std::to_string(count);
  }
  row("errors", errors == 0 ? "0" : std::to_string(errors) + " (" + by_kind + ")");
  row("wall time", format_duration(s.wall_seconds));
  return out.str();
}

}  // namespace te::autotune
