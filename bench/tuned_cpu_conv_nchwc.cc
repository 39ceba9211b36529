// bench/tuned_cpu_conv_nchwc.cc — bench_tuned_cpu's rows for the blocked conv2d
// (conv2d_nchwc: NCHW[cb]c data, OIHW[cb]i[kb]o weights, NCHW[kb]c output) against oneDNN's
// convolution primitive in the layouts it picks itself (format "any": nChw16c for C >= 16),
// in the style of tuned_cpu.cc: median after a warm-up, te's result checked against oneDNN's
// (both brought back to NCHW) before anything is timed, "vs" = oneDNN's time over te's.
//
// Columns:
//   te ms / oneDNN ms   — the convolution alone, each in its own layouts, inputs already there
//                         (oneDNN's reorders excluded; te's transforms excluded). oneDNN 2.6
//                         picks nhwc at batch 1 on this machine, so
//   oneDNN nChw16c ms   — the same primitive forced into te's layouts (nChw16c in and out; C1's
//                         3-channel source nchw), the same-layout comparison;
//   data / weight / out ms — te's layout transforms (nchw_to_nchwc, conv2d_nchwc_pack_weight,
//                         nchwc_to_nchw), each its own kernel, timed apart;
//   NCHW->NCHW ms       — end to end from NCHW data to NCHW output: te = data pack + conv + unpack,
//                         oneDNN = reorder in + primitive + reorder out. The weight transform is
//                         left out of both (weights are constants: packed once per model).
#include "tuned_cpu_conv_nchwc.h"

#include <cmath>
#include <cstdio>
#include <dnnl.hpp>

#include "te/ops.h"
#include "te/te.h"
#include "bench_util.h"
#include "onednn_util.h"

namespace conv_nchwc {
namespace {

namespace at = te::autotune;
using bench::const_shape;
using bench::layout_name;
using bench::median_seconds;
using bench::random_array;

struct Row {
  std::string label, workload, onednn_layout;
  double flop = 0;
  double te_s = 0, onednn_s = 0, onednn_16c_s = 0, data_s = 0, weight_s = 0, out_s = 0, te_e2e_s = 0, onednn_e2e_s = 0;
  std::vector<int64_t> conv2d_args;  // (n, c, h, w, k, r, s, stride, pad)
  std::string check;
};
std::vector<Row> rows;

// A layout transform `out` of `in` as a kernel, scheduled as the library schedules it
// (te::ops::schedule_layout_transform: the unpack to NCHW as register transposes).
te::Module build_transform(const te::Tensor& in, const te::Tensor& out, const char* name) {
  return te::build(te::ops::schedule_layout_transform(out), {in, out}, "llvm", name);
}

}  // namespace

bool handles(const std::string& op) { return op == "conv2d_nchwc"; }

void bench(const std::string& op, const at::Task& task, const at::Instance& best, const std::vector<int64_t>& args) {
  using namespace dnnl;
  using tag = memory::format_tag;
  (void)op;
  const int64_t n = args[0], c = args[1], h = args[2], w = args[3], k = args[4], r = args[5], s = args[6],
                stride = args[7], pad = args[8], cb = args[9], kb = args[10];
  const int64_t oh = (h + 2 * pad - r) / stride + 1, ow = (w + 2 * pad - s) / stride + 1;
  Row row;
  row.label = bench::workload_label("conv2d_nchwc", args, "resnet18-conv-nchwc"), row.workload = task.workload_key, row.flop = task.flop;

  // te: the tuned kernel and its three layout transforms.
  te::Module f = te::build(best.schedule, best.args, "llvm", "tuned");
  te::Tensor data_t = te::placeholder({n, c, h, w}, te::DataType::float32(), "data");
  te::Tensor weight_t = te::placeholder({k, c, r, s}, te::DataType::float32(), "weight");
  te::Tensor out_blocked_t = te::placeholder({n, k / kb, oh, ow, kb}, te::DataType::float32(), "out_blocked");
  te::Tensor data_packed_t = te::ops::nchw_to_nchwc(data_t, cb);
  te::Tensor weight_packed_t = te::ops::conv2d_nchwc_pack_weight(weight_t, cb, kb);
  te::Tensor out_t = te::ops::nchwc_to_nchw(out_blocked_t);
  te::Module pack_data = build_transform(data_t, data_packed_t, "pack_data");
  te::Module pack_weight = build_transform(weight_t, weight_packed_t, "pack_weight");
  te::Module unpack_out = build_transform(out_blocked_t, out_t, "unpack_out");
  te::NDArray data = random_array({n, c, h, w}, 1), weight = random_array({k, c, r, s}, 2);
  te::NDArray data_packed = te::NDArray::empty(const_shape(best.args[0]));
  te::NDArray weight_packed = te::NDArray::empty(const_shape(best.args[1]));
  te::NDArray out_blocked = te::NDArray::empty(const_shape(best.args[2]));
  te::NDArray out = te::NDArray::empty({n, k, oh, ow});
  pack_weight({weight, weight_packed});
  auto run_te = [&] { f({data_packed, weight_packed, out_blocked}); };
  auto run_te_e2e = [&] {
    pack_data({data, data_packed});
    f({data_packed, weight_packed, out_blocked});
    unpack_out({out_blocked, out});
  };

  // oneDNN in its own layouts.
  engine eng(engine::kind::cpu, 0);
  stream strm(eng);
  const memory::dims src_dims{n, c, h, w}, wei_dims{k, c, r, s}, dst_dims{n, k, oh, ow};
  const memory::dims strides{stride, stride}, padding{pad, pad};
  memory::desc any_src(src_dims, memory::data_type::f32, tag::any), any_wei(wei_dims, memory::data_type::f32, tag::any),
      any_dst(dst_dims, memory::data_type::f32, tag::any);
  convolution_forward::primitive_desc pd(
      convolution_forward::desc(prop_kind::forward_inference, algorithm::convolution_direct, any_src, any_wei,
                                any_dst, strides, padding, padding),
      eng);
  row.onednn_layout = layout_name(pd.src_desc()) + " -> " + layout_name(pd.dst_desc());
  te::NDArray ref = te::NDArray::empty({n, k, oh, ow});
  memory user_src({src_dims, memory::data_type::f32, tag::nchw}, eng, data.data());
  memory user_wei({wei_dims, memory::data_type::f32, tag::oihw}, eng, weight.data());
  memory user_dst({dst_dims, memory::data_type::f32, tag::nchw}, eng, ref.data());
  // Where oneDNN picks plain NCHW itself (C1's 3-channel source), it reads the user's tensor and
  // its end-to-end time has no reorder there.
  const bool src_plain = pd.src_desc() == user_src.get_desc(), dst_plain = pd.dst_desc() == user_dst.get_desc();
  memory src = src_plain ? user_src : memory(pd.src_desc(), eng), wei(pd.weights_desc(), eng);
  memory dst = dst_plain ? user_dst : memory(pd.dst_desc(), eng);
  reorder(user_wei, wei).execute(strm, user_wei, wei);
  reorder(user_src, src).execute(strm, user_src, src);
  convolution_forward conv(pd);
  reorder to_blocked(user_src, src), from_blocked(dst, user_dst);
  auto run_onednn = [&] {
    conv.execute(strm, {{DNNL_ARG_SRC, src}, {DNNL_ARG_WEIGHTS, wei}, {DNNL_ARG_DST, dst}});
    strm.wait();
  };
  auto run_onednn_e2e = [&] {
    if (!src_plain) to_blocked.execute(strm, user_src, src);
    conv.execute(strm, {{DNNL_ARG_SRC, src}, {DNNL_ARG_WEIGHTS, wei}, {DNNL_ARG_DST, dst}});
    if (!dst_plain) from_blocked.execute(strm, dst, user_dst);
    strm.wait();
  };

  // The same primitive forced into te's own layouts (nChw16c data and output, C1's 3-channel
  // source as nchw, weights "any"): the same-layout comparison, since oneDNN 2.6 picks nhwc here.
  const memory::desc src_16c(src_dims, memory::data_type::f32, c % 16 == 0 ? tag::nChw16c : tag::nchw);
  const memory::desc dst_16c(dst_dims, memory::data_type::f32, tag::nChw16c);
  convolution_forward::primitive_desc pd_16c(
      convolution_forward::desc(prop_kind::forward_inference, algorithm::convolution_direct, src_16c, any_wei,
                                dst_16c, strides, padding, padding),
      eng);
  memory src_b(pd_16c.src_desc(), eng), wei_b(pd_16c.weights_desc(), eng), dst_b(pd_16c.dst_desc(), eng);
  te::NDArray ref_16c = te::NDArray::empty({n, k, oh, ow});
  memory user_dst_16c({dst_dims, memory::data_type::f32, tag::nchw}, eng, ref_16c.data());
  reorder(user_src, src_b).execute(strm, user_src, src_b);
  reorder(user_wei, wei_b).execute(strm, user_wei, wei_b);
  convolution_forward conv_16c(pd_16c);
  auto run_onednn_16c = [&] {
    conv_16c.execute(strm, {{DNNL_ARG_SRC, src_b}, {DNNL_ARG_WEIGHTS, wei_b}, {DNNL_ARG_DST, dst_b}});
    strm.wait();
  };
  run_onednn_16c();
  reorder(dst_b, user_dst_16c).execute(strm, dst_b, user_dst_16c);
  strm.wait();

  out.fill_poison();
  run_onednn_e2e();
  run_te_e2e();
  row.check = bench::compare_close(out.data_as<float>(), ref.data_as<float>(), out.numel(), c * r * s, "oneDNN");
  if (row.check.empty()) row.check = bench::compare_close(out.data_as<float>(), ref_16c.data_as<float>(), out.numel(), c * r * s, "oneDNN nChw16c");
  row.te_s = median_seconds(run_te);
  row.onednn_s = median_seconds(run_onednn);
  row.onednn_16c_s = median_seconds(run_onednn_16c);
  row.data_s = median_seconds([&] { pack_data({data, data_packed}); });
  row.weight_s = median_seconds([&] { pack_weight({weight, weight_packed}); });
  row.out_s = median_seconds([&] { unpack_out({out_blocked, out}); });
  row.te_e2e_s = median_seconds(run_te_e2e);
  row.onednn_e2e_s = median_seconds(run_onednn_e2e);
  row.conv2d_args.assign(args.begin(), args.begin() + 9);
  rows.push_back(row);
}

void print_table() {
  if (rows.empty()) return;
  std::printf(
      "\nconv2d in blocked layouts (fp32; te conv2d_nchwc vs the oneDNN convolution in the layouts it picks, both "
      "without reorders; te's transforms timed apart; NCHW->NCHW: te data pack + conv + unpack vs oneDNN reorder + "
      "conv + reorder, weights packed once outside both)\n\n"
      "| layer | workload | oneDNN layout | te ms | oneDNN ms | oneDNN nChw16c ms | te GFLOP/s | vs oneDNN | vs oneDNN "
      "nChw16c | te data pack ms | te weight pack ms | te out unpack ms | te NCHW->NCHW ms | oneDNN NCHW->NCHW ms | vs "
      "oneDNN NCHW->NCHW | check |\n"
      "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|\n");
  double log_sum = 0, log_sum_16c = 0, log_sum_e2e = 0;
  for (const Row& r : rows) {
    log_sum += std::log(r.onednn_s / r.te_s);
    log_sum_16c += std::log(r.onednn_16c_s / r.te_s);
    log_sum_e2e += std::log(r.onednn_e2e_s / r.te_e2e_s);
    std::printf(
        "| %s | %s | %s | %.3f | %.3f | %.3f | %.1f | %.2f | %.2f | %.3f | %.3f | %.3f | %.3f | %.3f | %.2f | %s |\n",
        r.label.c_str(), r.workload.c_str(), r.onednn_layout.c_str(), r.te_s * 1e3, r.onednn_s * 1e3,
        r.onednn_16c_s * 1e3, r.flop / r.te_s / 1e9, r.onednn_s / r.te_s, r.onednn_16c_s / r.te_s, r.data_s * 1e3,
        r.weight_s * 1e3, r.out_s * 1e3, r.te_e2e_s * 1e3, r.onednn_e2e_s * 1e3, r.onednn_e2e_s / r.te_e2e_s,
        r.check.empty() ? "ok" : r.check.c_str());
  }
  const double count = double(rows.size());
  if (rows.size() > 1)
    std::printf("\ngeometric mean of te vs oneDNN (its own layouts, no reorders): %.2f; vs oneDNN in nChw16c: %.2f; "
                "NCHW->NCHW: %.2f\n",
                std::exp(log_sum / count), std::exp(log_sum_16c / count), std::exp(log_sum_e2e / count));
}

std::vector<EndToEnd> end_to_end() {
  std::vector<EndToEnd> out;
  for (const Row& r : rows) out.push_back({r.conv2d_args, r.te_e2e_s, r.onednn_e2e_s});
  return out;
}

}  // namespace conv_nchwc
