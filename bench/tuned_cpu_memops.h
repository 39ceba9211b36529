// bench/tuned_cpu_memops.h — bench_tuned_cpu's rows for the memory-bound NCHW operators
// (depthwise_conv2d, max_pool2d, avg_pool2d) against oneDNN; see tuned_cpu_memops.cc.
#pragma once
#include <string>
#include <vector>

#include "te/autotune/task.h"

namespace memops {

// True for the operators this file benchmarks.
bool handles(const std::string& op);
// Times te's kernel `best` for task (op, args) and oneDNN's on the same inputs, checks te's
// result against oneDNN's first, and keeps the row for print_tables.
void bench(const std::string& op, const te::autotune::Task& task, const te::autotune::Instance& best,
           const std::vector<int64_t>& args);
// Prints one markdown table per operator kind benchmarked so far.
void print_tables();

}  // namespace memops
