// bench/memops_table.h — the table printer of bench_tuned_cpu's memory-bound operator sets
// (tuned_cpu_memops.cc: NCHW, tuned_cpu_nchwc.cc: NCHW16c), which differ only in their oneDNN
// columns: one markdown table per operator, each row's te ms, GB/s and check around the set's
// own columns, then the geometric means of the set's ratios when a table has several rows.
#pragma once
#include <cmath>
#include <cstdarg>
#include <cstdio>
#include <functional>
#include <string>
#include <vector>

namespace bench {

// What every row of these tables has; a set's Row adds its oneDNN times.
struct MemopsRow {
  std::string op, label, workload;
  double bytes = 0;  // each of te's arguments once (argument_bytes)
  double te_s = 0;
  std::string check;  // "" when te's result matched oneDNN's
};

// printf into a std::string: a table cell in the same format the tables always printed.
inline std::string format(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
inline std::string format(const char* fmt, ...) {
  va_list args;
  va_start(args, fmt);
  va_list copy;
  va_copy(copy, args);
  const int n = std::vsnprintf(nullptr, 0, fmt, copy);
  va_end(copy);
  std::string s(n > 0 ? size_t(n) : 0, '\0');
  if (n > 0) std::vsnprintf(s.data(), s.size() + 1, fmt, args);
  va_end(args);
  return s;
}

// The layout of one operator's table in a set.
template <class Row>
struct MemopsTable {
  struct Column {
    std::string heading;                           // right-aligned
    std::function<std::string(const Row&)> cell;  // its text, e.g. format("%.4f", ms)
  };
  struct Mean {
    std::string name;                         // "oneDNN nChw16c": printed as "te vs <name>"
    std::function<double(const Row&)> ratio;  // oneDNN's time over te's
  };
  std::string title;            // the line above the table, operator name included
  std::vector<Column> columns;  // between te GB/s and check
  std::vector<Mean> means;      // printed under a table of more than one row
};

// Prints, for each of `ops` (in that order) that has rows, its table as `table_of(op)` lays it out.
template <class Row>
void print_memops_tables(const std::vector<Row>& rows, const std::vector<std::string>& ops,
                         const std::function<MemopsTable<Row>(const std::string& op)>& table_of) {
  for (const std::string& op : ops) {
    std::vector<const Row*> of_op;
    for (const Row& r : rows)
      if (r.op == op) of_op.push_back(&r);
    if (of_op.empty()) continue;
    const MemopsTable<Row> table = table_of(op);
    std::string heading = "| layer | workload | te ms | te GB/s |", align = "|---|---|---:|---:|";
    for (const auto& column : table.columns) heading += " " + column.heading + " |", align += "---:|";
    std::printf("\n%s\n\n%s check |\n%s---|\n", table.title.c_str(), heading.c_str(), align.c_str());
    std::vector<double> log_sums(table.means.size(), 0.0);
    for (const Row* r : of_op) {
      for (size_t i = 0; i < table.means.size(); ++i) log_sums[i] += std::log(table.means[i].ratio(*r));
      std::printf("| %s | %s | %.4f | %.1f |", r->label.c_str(), r->workload.c_str(), r->te_s * 1e3,
                  r->bytes / r->te_s / 1e9);
      for (const auto& column : table.columns) std::printf(" %s |", column.cell(*r).c_str());
      std::printf(" %s |\n", r->check.empty() ? "ok" : r->check.c_str());
    }
    if (of_op.size() > 1 && !table.means.empty()) {
      for (size_t i = 0; i < table.means.size(); ++i)
        std::printf(i == 0 ? "\ngeometric mean of te vs %s: %.2f" : "; vs %s: %.2f", table.means[i].name.c_str(),
                    std::exp(log_sums[i] / double(of_op.size())));
      std::printf("\n");
    }
  }
}

}  // namespace bench
