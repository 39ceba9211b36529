// bench/tuned_cpu_conv_nchwc.h — bench_tuned_cpu's rows for the blocked conv2d (conv2d_nchwc)
// against oneDNN's convolution in its own blocked layouts; see tuned_cpu_conv_nchwc.cc.
#pragma once
#include <string>
#include <vector>

#include "te/autotune/task.h"

namespace conv_nchwc {

// True for the operators this file benchmarks ("conv2d_nchwc").
bool handles(const std::string& op);
// Times te's kernel `best` for task (op, args), te's layout transforms and oneDNN's primitive on
// the same inputs, checks te's result against oneDNN's first, and keeps the row for print_table.
void bench(const std::string& op, const te::autotune::Task& task, const te::autotune::Instance& best,
           const std::vector<int64_t>& args);
// Prints the table (and the geometric means) of the rows benchmarked so far.
void print_table();

// One benchmarked layer's NCHW -> NCHW times (te: data pack + conv2d_nchwc + unpack; oneDNN:
// reorder + blocked primitive + reorder), keyed by conv2d's arguments (n, c, h, w, k, r, s,
// stride, pad) so that tuned_cpu.cc can set them beside the NCHW conv2d rows.
struct EndToEnd {
  std::vector<int64_t> conv2d_args;
  double te_s = 0, onednn_s = 0;
};
std::vector<EndToEnd> end_to_end();

}  // namespace conv_nchwc
