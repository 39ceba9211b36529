// bench/tuned_cpu_nchwc.h — bench_tuned_cpu's rows for the blocked (NCHW16c) depthwise conv2d
// and pooling against oneDNN in the same layout; see tuned_cpu_nchwc.cc.
#pragma once
#include <string>
#include <vector>

#include "te/autotune/task.h"

namespace nchwc {

// True for the operators this file benchmarks (depthwise_conv2d_nchwc, max/avg_pool2d_nchwc).
bool handles(const std::string& op);
// Times te's kernel `best` for task (op, args), te's layout transforms, and oneDNN's primitive on
// the same blocked inputs, checking te's result against oneDNN's first; keeps the row.
void bench(const std::string& op, const te::autotune::Task& task, const te::autotune::Instance& best,
           const std::vector<int64_t>& args);
// Prints one markdown table per operator benchmarked so far.
void print_tables();

}  // namespace nchwc
