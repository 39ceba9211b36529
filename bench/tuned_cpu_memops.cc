// bench/tuned_cpu_memops.cc — bench_tuned_cpu's rows for depthwise conv2d and max/avg pooling
// (NCHW, float32) against oneDNN, in the style of tuned_cpu.cc: median after a warm-up, te's
// result checked against oneDNN's before anything is timed, "vs" = oneDNN's time over te's.
//
// Each te kernel (NCHW in, NCHW out) is compared with oneDNN three ways:
//   blocked — the primitive in a blocked layout (depthwise: the one it picks itself, format
//             "any"; pooling: nChw16c, since a pooling's source has no "any"), the reorders into
//             and out of it done once outside the timing (as for conv2d: oneDNN's best case);
//   NCHW    — the same primitive created on plain NCHW tensors (goihw weights);
//   NCHW e2e — reorder NCHW -> blocked, the blocked primitive, reorder back: what a caller with
//             NCHW data pays for the blocked kernel.
// "vs oneDNN NCHW" uses the faster of the last two: the best oneDNN offers a caller with NCHW
// data. GB/s counts each of te's arguments once (the least traffic any schedule can have).
// The operators are memory-bound: 2 flops (depthwise: multiply-add) or 1 (pooling) per window
// cell against one read of the input.
#include "tuned_cpu_memops.h"

#include <algorithm>
#include <dnnl.hpp>
#include <functional>
#include <unordered_map>

#include "te/ops.h"
#include "te/te.h"
#include "bench_util.h"
#include "memops_table.h"
#include "onednn_util.h"

namespace memops {
namespace {

namespace at = te::autotune;
using namespace dnnl;
using tag = memory::format_tag;

using bench::median_seconds;
using bench::random_array;
using bench::layout_name;

struct Row : bench::MemopsRow {
  double blocked_s = 0, nchw_s = 0, e2e_s = 0;
  std::string blocked_layout;
};
std::vector<Row> rows;

// The oneDNN side of one workload: the primitive built twice (blocked descriptors, plain ones).
struct Built {
  primitive prim;
  primitive_desc_base pd;
};
struct OneDnn {
  engine eng{engine::kind::cpu, 0};
  stream strm{eng};
  std::function<Built(tag src, tag dst, bool any)> make;  // any: let oneDNN pick the layouts
};

void finish_row(Row& row, OneDnn& d, const memory::desc& user_src_md, const memory::desc& user_dst_md, te::NDArray& data,
                const memory::desc* user_wei_md, te::NDArray* weight, const std::function<void()>& run_te,
                te::NDArray& te_out, int64_t reduction, tag blocked_tag) {
  engine& eng = d.eng;
  stream& strm = d.strm;
  memory user_src(user_src_md, eng, data.data());
  te::NDArray ref = te::NDArray::empty(te_out.shape()), plain_out = te::NDArray::empty(te_out.shape());
  memory user_dst(user_dst_md, eng, ref.data()), plain_dst(user_dst_md, eng, plain_out.data());
  memory user_wei = weight ? memory(*user_wei_md, eng, weight->data()) : memory();

  // Blocked: reorders once, outside the timing.
  Built b = d.make(blocked_tag, blocked_tag, true);
  const primitive_desc_base& bpd = b.pd;
  row.blocked_layout = layout_name(bpd.src_desc());
  memory src(bpd.src_desc(), eng), dst(bpd.dst_desc(), eng);
  memory wei = weight ? memory(bpd.weights_desc(), eng) : memory();
  memory workspace = bpd.workspace_desc().get_size() ? memory(bpd.workspace_desc(), eng) : memory();
  reorder(user_src, src).execute(strm, user_src, src);
  if (weight) reorder(user_wei, wei).execute(strm, user_wei, wei);
  primitive& blocked = b.prim;
  std::unordered_map<int, memory> blocked_args{{DNNL_ARG_SRC, src}, {DNNL_ARG_DST, dst}};
  if (weight) blocked_args[DNNL_ARG_WEIGHTS] = wei;
  if (workspace) blocked_args[DNNL_ARG_WORKSPACE] = workspace;
  auto run_blocked = [&] {
    blocked.execute(strm, blocked_args);
    strm.wait();
  };
  reorder to_blocked(user_src, src), from_blocked(dst, user_dst);
  auto run_e2e = [&] {
    to_blocked.execute(strm, user_src, src);
    blocked.execute(strm, blocked_args);
    from_blocked.execute(strm, dst, user_dst);
    strm.wait();
  };
  // Plain NCHW: the primitive on the user's tensors.
  Built p = d.make(tag::nchw, tag::nchw, false);
  const primitive_desc_base& ppd = p.pd;
  primitive& plain = p.prim;
  memory plain_ws = ppd.workspace_desc().get_size() ? memory(ppd.workspace_desc(), eng) : memory();
  std::unordered_map<int, memory> plain_args{{DNNL_ARG_SRC, user_src}, {DNNL_ARG_DST, plain_dst}};
  if (weight) plain_args[DNNL_ARG_WEIGHTS] = user_wei;
  if (plain_ws) plain_args[DNNL_ARG_WORKSPACE] = plain_ws;
  auto run_plain = [&] {
    plain.execute(strm, plain_args);
    strm.wait();
  };

  run_e2e();  // ref: blocked result in NCHW
  run_plain();
  run_te();
  const float* got = te_out.data_as<float>();
  row.check = bench::compare_close(got, ref.data_as<float>(), te_out.numel(), reduction, "oneDNN blocked");
  if (row.check.empty())
    row.check = bench::compare_close(got, plain_out.data_as<float>(), te_out.numel(), reduction, "oneDNN NCHW");
  row.te_s = median_seconds(run_te);
  row.blocked_s = median_seconds(run_blocked);
  row.nchw_s = median_seconds(run_plain);
  row.e2e_s = median_seconds(run_e2e);
}

void bench_depthwise(Row& row, const at::Instance& best, const std::vector<int64_t>& args) {
  const int64_t n = args[0], c = args[1], h = args[2], w = args[3], r = args[4], s = args[5], stride = args[6],
                pad = args[7], dilation = args[8];
  const int64_t oh = (h + 2 * pad - dilation * (r - 1) - 1) / stride + 1;
  const int64_t ow = (w + 2 * pad - dilation * (s - 1) - 1) / stride + 1;
  te::Module f = te::build(best.schedule, best.args, "llvm", "tuned");
  te::NDArray data = random_array({n, c, h, w}, 1), weight = random_array({c, 1, r, s}, 2);
  te::NDArray out = te::NDArray::empty({n, c, oh, ow});
  OneDnn d;
  const memory::dims src_dims{n, c, h, w}, wei_dims{c, 1, 1, r, s}, dst_dims{n, c, oh, ow};
  d.make = [&](tag src_tag, tag dst_tag, bool any) -> Built {
    memory::desc src_md(src_dims, memory::data_type::f32, any ? tag::any : src_tag);
    memory::desc wei_md(wei_dims, memory::data_type::f32, any ? tag::any : tag::goihw);
    memory::desc dst_md(dst_dims, memory::data_type::f32, any ? tag::any : dst_tag);
    convolution_forward::desc desc(prop_kind::forward_inference, algorithm::convolution_direct, src_md, wei_md,
                                   dst_md, {stride, stride}, {dilation - 1, dilation - 1}, {pad, pad}, {pad, pad});
    convolution_forward::primitive_desc pd(desc, d.eng);
    return {convolution_forward(pd), pd};
  };
  const memory::desc user_src(src_dims, memory::data_type::f32, tag::nchw);
  const memory::desc user_dst(dst_dims, memory::data_type::f32, tag::nchw);
  const memory::desc user_wei(wei_dims, memory::data_type::f32, tag::goihw);
  finish_row(row, d, user_src, user_dst, data, &user_wei, &weight, [&] { f({data, weight, out}); }, out, r * s, tag::any);
}

void bench_pool(Row& row, bool is_max, const at::Instance& best, const std::vector<int64_t>& args) {
  const int64_t n = args[0], c = args[1], h = args[2], w = args[3], kernel = args[4], stride = args[5], pad = args[6];
  const int64_t oh = (h + 2 * pad - kernel) / stride + 1, ow = (w + 2 * pad - kernel) / stride + 1;
  te::Module f = te::build(best.schedule, best.args, "llvm", "tuned");
  te::NDArray data = random_array({n, c, h, w}, 1);
  te::NDArray out = te::NDArray::empty({n, c, oh, ow});
  OneDnn d;
  const memory::dims src_dims{n, c, h, w}, dst_dims{n, c, oh, ow};
  d.make = [&](tag src_tag, tag dst_tag, bool) -> Built {
    memory::desc src_md(src_dims, memory::data_type::f32, src_tag);
    memory::desc dst_md(dst_dims, memory::data_type::f32, dst_tag);
    // te's avg_pool2d template counts padded cells (count_include_pad).
    pooling_forward::desc desc(prop_kind::forward_inference,
                               is_max ? algorithm::pooling_max : algorithm::pooling_avg_include_padding, src_md,
                               dst_md, {stride, stride}, {kernel, kernel}, {pad, pad}, {pad, pad});
    pooling_forward::primitive_desc pd(desc, d.eng);
    return {pooling_forward(pd), pd};
  };
  const memory::desc user_src(src_dims, memory::data_type::f32, tag::nchw);
  const memory::desc user_dst(dst_dims, memory::data_type::f32, tag::nchw);
  finish_row(row, d, user_src, user_dst, data, nullptr, nullptr, [&] { f({data, out}); }, out, kernel * kernel, tag::nChw16c);
}

}  // namespace

bool handles(const std::string& op) {
  return op == "depthwise_conv2d" || op == "max_pool2d" || op == "avg_pool2d";
}

void bench(const std::string& op, const at::Task& task, const at::Instance& best, const std::vector<int64_t>& args) {
  Row row;
  row.op = op, row.label = bench::workload_label(op, args, "cpu-memops"), row.workload = task.workload_key;
  row.bytes = bench::argument_bytes(best.args);
  if (op == "depthwise_conv2d") bench_depthwise(row, best, args);
  else bench_pool(row, op == "max_pool2d", best, args);
  rows.push_back(row);
}

void print_tables() {
  bench::print_memops_tables<Row>(rows, {"depthwise_conv2d", "max_pool2d", "avg_pool2d"}, [](const std::string& op) {
    using bench::format;
    auto nchw_best = [](const Row& r) { return std::min(r.nchw_s, r.e2e_s); };
    return bench::MemopsTable<Row>{
        op + " NCHW (fp32; oneDNN blocked = its blocked layout, reorders excluded; NCHW = the primitive on NCHW "
             "tensors; e2e = reorder + blocked + reorder)",
        {{"oneDNN blocked ms",
          [](const Row& r) { return format("%.4f (%s)", r.blocked_s * 1e3, r.blocked_layout.c_str()); }},
         {"oneDNN NCHW ms", [](const Row& r) { return format("%.4f", r.nchw_s * 1e3); }},
         {"oneDNN e2e ms", [](const Row& r) { return format("%.4f", r.e2e_s * 1e3); }},
         {"vs oneDNN blocked", [](const Row& r) { return format("%.2f", r.blocked_s / r.te_s); }},
         {"vs oneDNN NCHW (best of NCHW, e2e)", [=](const Row& r) { return format("%.2f", nchw_best(r) / r.te_s); }}},
        {{"oneDNN blocked", [](const Row& r) { return r.blocked_s / r.te_s; }},
         {"oneDNN NCHW (best)", [=](const Row& r) { return nchw_best(r) / r.te_s; }}}};
  });
}

}  // namespace memops
